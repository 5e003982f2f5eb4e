"""convnotes.display: the book shows the package's real source."""

import inspect

import pytest

from convnotes.display import show_source, source
from convnotes.shapes import conv_output_size


def no_docstring(a):
    return a + 1


def test_source_is_the_module_source():
    assert source(conv_output_size) == inspect.getsource(conv_output_size)


def test_source_without_docstring_drops_exactly_the_docstring():
    text = source(conv_output_size, docstring=False)
    assert text.startswith("def conv_output_size(input_size, kernel_size, stride=1")
    assert '"""' not in text and "Example:" not in text
    assert "return _answer(is_tuple, [d.output_size for d in dims])" in text
    full = source(conv_output_size).splitlines()
    doc_lines = len(inspect.getdoc(conv_output_size).splitlines())
    # the docstring takes its text lines plus the line of its closing quotes
    assert len(text.splitlines()) == len(full) - doc_lines - 1


class Documented:
    """A class whose docstring is set apart by a blank line."""

    size = 1


def test_the_blank_line_after_a_class_docstring_goes_with_it():
    assert source(Documented, docstring=False) == "class Documented:\n    size = 1\n"


def test_source_of_a_function_without_docstring_is_unchanged():
    assert source(no_docstring, docstring=False) == source(no_docstring)


def test_show_source_renders_a_python_block():
    shown = show_source(no_docstring)
    assert shown.data == "```python\ndef no_docstring(a):\n    return a + 1\n```"


def test_source_rejects_what_is_not_a_function():
    with pytest.raises(TypeError, match="obj must be a function or a class, got int"):
        source(3)
