"""Showing the package's own source, and pages that fetch nothing, in the book.

A chapter that teaches an implementation shows the code the package really
runs, read from the installed module, so the book and the package cannot drift.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap

__all__ = ["offline_controls", "show_source", "source"]


def source(obj, docstring=True):
    """The source code of a function or class, optionally without its docstring.

    Example:
        >>> from convnotes.shapes import same_padding
        >>> print(source(same_padding, docstring=False).splitlines()[0])
        def same_padding(kernel_size, dilation=1):
    """
    if not (inspect.isfunction(obj) or inspect.isclass(obj)):
        raise TypeError(f"obj must be a function or a class, got {type(obj).__name__}")
    text = textwrap.dedent(inspect.getsource(obj))
    if docstring:
        return text
    node = ast.parse(text).body[0]
    first = node.body[0] if node.body else None
    is_doc = (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    )
    if not is_doc:
        return text
    lines = text.splitlines(keepends=True)
    # ast line numbers are 1-based and end_lineno is inclusive; a blank line
    # that only set the docstring apart goes with it
    rest = lines[first.end_lineno :]
    if rest and not rest[0].strip():
        rest = rest[1:]
    return "".join(lines[: first.lineno - 1] + rest)


def show_source(obj, docstring=False):
    """Display ``source(obj)`` as a highlighted Python block in a notebook."""
    from IPython.display import Markdown

    return Markdown(f"```python\n{source(obj, docstring=docstring).rstrip()}\n```")


# the play controls' Font Awesome icons, as characters every font has
ICONS = {
    "fa fa-minus": "−",
    "fa fa-fast-backward": "⇤",
    "fa fa-step-backward": "◁",
    "fa fa-play fa-flip-horizontal": "◀",
    "fa fa-pause": "❚❚",
    "fa fa-play": "▶",
    "fa fa-step-forward": "▷",
    "fa fa-fast-forward": "⇥",
    "fa fa-plus": "+",
}


def offline_controls(html):
    """matplotlib's animation HTML without its Font Awesome stylesheet from a CDN.

    The page then fetches nothing, and the buttons show plain characters
    (their titles still say what each does).
    """
    html = re.sub(
        r'<link rel="stylesheet"\s+href="https://[^"]*font-awesome[^"]*">', "", html
    )
    for icon, text in ICONS.items():
        html = html.replace(f'<i class="{icon}"></i>', text)
    return html
