"""convnotes.display: the book shows the package's real source, and figures
that are sharp, readable and fit the column."""

import base64
import inspect
import re
import struct

import matplotlib.pyplot as plt
import nbformat
import pytest
from matplotlib import animation

from convnotes.display import (
    COLUMN_PX,
    MIN_FONT_PT,
    MIN_TEXT_PX,
    animation_html,
    figure_png,
    sharp_figures,
    show_source,
    smallest_text_px,
    source,
)
from convnotes.shapes import conv_output_size


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def no_docstring(a):
    return a + 1


def test_source_is_the_module_source():
    assert source(conv_output_size) == inspect.getsource(conv_output_size)


def test_source_without_docstring_drops_exactly_the_docstring():
    text = source(conv_output_size, docstring=False)
    assert text.startswith(
        "def conv_output_size(input_size, kernel_size, stride=1"
    )
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
    expected = "class Documented:\n    size = 1\n"
    assert source(Documented, docstring=False) == expected


def test_source_of_a_function_without_docstring_is_unchanged():
    assert source(no_docstring, docstring=False) == source(no_docstring)


def test_show_source_renders_a_python_block():
    shown = show_source(no_docstring)
    expected = "```python\ndef no_docstring(a):\n    return a + 1\n```"
    assert shown.data == expected


def test_source_rejects_what_is_not_a_function():
    with pytest.raises(
        TypeError, match="obj must be a function or a class, got int"
    ):
        source(3)


def png_size(data):
    """(width, height) of a PNG given as base64 text."""
    raw = base64.b64decode(data)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", raw[16:24])


def labelled(width_in, fontsize, dpi=100):
    fig, ax = plt.subplots(figsize=(width_in, 1), dpi=dpi)
    ax.axis("off")
    ax.text(0.1, 0.5, "a label", fontsize=fontsize)
    ax.text(0.6, 0.5, "a larger one", fontsize=fontsize + 4)
    return fig


def test_the_smallest_text_in_px_is_points_times_dpi_over_72():
    assert smallest_text_px(labelled(4, 9)) == pytest.approx(12.5)
    assert smallest_text_px(labelled(4, 9, dpi=72)) == pytest.approx(9)
    # the floor of the rule, at matplotlib's 100 dpi
    assert MIN_FONT_PT * 100 / 72 >= MIN_TEXT_PX


def test_text_in_a_figure_wider_than_the_column_shrinks_with_it():
    wide = labelled(2 * COLUMN_PX / 100, MIN_FONT_PT)
    assert smallest_text_px(wide) == pytest.approx(MIN_FONT_PT * 100 / 72 / 2)
    assert smallest_text_px(wide) < MIN_TEXT_PX
    narrow = labelled(4, MIN_FONT_PT)
    assert smallest_text_px(narrow) >= MIN_TEXT_PX
    # shown at a given width: a notebook's PNG is cut to what is drawn
    shown = smallest_text_px(narrow, width_px=4 * COLUMN_PX)
    assert shown == pytest.approx(MIN_FONT_PT * 100 / 72 / 4)


def test_the_measure_catches_a_small_font_however_it_is_drawn():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([1, 2], label="a line")
    ax.set_title("a title", fontsize=12)
    assert smallest_text_px(fig) == pytest.approx(10 * 100 / 72)  # ticks
    ax.legend(fontsize=6)
    assert smallest_text_px(fig) == pytest.approx(6 * 100 / 72)
    ax.legend().remove()
    ax.set_xlabel("$x_{in}$", fontsize=7)  # mathtext
    assert smallest_text_px(fig) == pytest.approx(7 * 100 / 72)
    ax.axis("off")  # hidden tick labels and labels do not count
    assert smallest_text_px(fig) == pytest.approx(12 * 100 / 72)
    assert smallest_text_px(plt.figure()) is None


def test_a_figure_as_a_notebook_shows_it_has_twice_the_pixels():
    fig = labelled(3, 9)
    data, metadata = figure_png(fig)
    width, height = png_size(data)
    assert metadata["width"] == width // 2 and "height" not in metadata
    # cut to what is drawn: narrower than the figure's 300 px
    assert 100 < metadata["width"] < 300
    assert metadata["smallest_text_px"] == 12.5
    assert figure_png(plt.figure()) is None


def test_sharp_figures_does_nothing_outside_a_kernel():
    assert sharp_figures() is False


FIGURE = """fig, ax = plt.subplots(figsize=(3, 2))
ax.set_title("a title", fontsize=7)
plt.show()"""


@pytest.mark.parametrize("pyplot_first", [True, False])
def test_in_a_kernel_importing_convnotes_makes_figures_sharp(pyplot_first):
    """Whichever of matplotlib and convnotes a notebook imports first."""
    from nbclient import NotebookClient

    imports = ["import matplotlib.pyplot as plt", "import convnotes"]
    if not pyplot_first:
        imports.reverse()
    cells = ["\n".join(imports), FIGURE, "%matplotlib inline\n" + FIGURE]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(cell) for cell in cells]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    assert nb.cells[0].outputs == []  # the import itself shows nothing
    [output] = nb.cells[1].outputs
    width, _ = png_size(output.data["image/png"])
    metadata = output.metadata["image/png"]
    assert metadata["width"] == width // 2 and width > 300
    assert metadata["smallest_text_px"] == round(7 * 100 / 72, 2)
    # %matplotlib inline, as a reader may run, keeps it
    [output] = nb.cells[2].outputs
    assert output.metadata == nb.cells[1].outputs[0].metadata


@pytest.mark.filterwarnings("ignore:Animation was deleted without rendering")
def test_an_animation_is_sharp_fits_its_column_and_wraps_its_controls():
    fig = plt.figure(figsize=(3.2, 1.5))  # 320 x 150 px at 100 dpi
    text = fig.text(0.5, 0.5, "", fontsize=12)
    anim = animation.FuncAnimation(
        fig, lambda k: [text.set_text(f"frame {k}")], frames=3
    )
    html = animation_html(anim, fig, alt="three frames")
    image = re.search(r"<img id=\"_anim_img[^>]*>", html).group(0)
    assert 'width="320" height="150" alt="three frames"' in image
    assert 'style="max-width: 100%; height: auto"' in image
    frames = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=\n\\]+)", html)
    assert len(frames) == 3
    for frame in frames:
        assert png_size(frame.replace("\\\n", "").replace("\n", "")) == (
            640,
            300,
        )
    # the block and its controls shrink and wrap on a narrow screen
    assert html.startswith('<div class="convnotes-animation">')
    assert "flex-wrap: wrap" in html and "max-width: 100%" in html
    assert "https://" not in html and "fa fa-" not in html
    assert animation_html(anim, fig, alt="three frames") == html
