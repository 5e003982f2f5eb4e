"""convnotes.plotting: the pictures highlight what the arithmetic says, step
by step, and every figure of the book is sharp, fits the column and has text
no smaller than convnotes.display.MIN_TEXT_PX."""

import ast
import base64
import gc
import itertools
import re
import struct

import matplotlib.pyplot as plt
import nbformat
import pytest
import torch
import torch.nn.functional as F
from IPython.core.inputtransformer2 import TransformerManager

from conftest import ROOT
from convnotes import plotting
from convnotes.arguments import pair
from convnotes.display import (
    COLUMN_PX,
    MIN_TEXT_PX,
    figure_png,
    smallest_text_px,
)
from convnotes.plotting import (
    ConvPicture,
    animate,
    plot_step,
    show_animation,
    usage_counts,
    usage_heatmap,
)

SETTINGS = [
    dict(input_size=3, kernel_size=2),
    dict(input_size=5, kernel_size=3, stride=2, padding=1),
    dict(
        input_size=(6, 5),
        kernel_size=(2, 3),
        stride=(1, 2),
        padding=(0, 1),
        dilation=(2, 1),
    ),
    dict(input_size=4, kernel_size=2, padding="same"),
]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def windows_by_unfold(
    input_size, kernel_size, stride=1, padding=0, dilation=1
):
    """The padded pixels each window reads, found independently: unfold an
    index map."""
    picture = ConvPicture(input_size, kernel_size, stride, padding, dilation)
    plt.close(picture.fig)
    Hp, Wp = picture.padded_size
    index = torch.arange(Hp * Wp, dtype=torch.float64).view(1, 1, Hp, Wp)
    s, d = picture.args.stride, picture.args.dilation
    cols = F.unfold(index, picture.kernel_size, dilation=d, stride=s)[0].long()
    return [
        {(int(k) // Wp, int(k) % Wp) for k in cols[:, n]}
        for n in range(cols.shape[1])
    ]


@pytest.mark.parametrize("setting", SETTINGS)
def test_each_step_highlights_the_window_and_its_output(setting):
    expected = windows_by_unfold(**setting)
    picture = ConvPicture(**setting, in_channels=2)
    positions = list(itertools.product(*map(range, picture.args.output_size)))
    assert len(positions) == len(expected)
    for k, position in enumerate(positions):
        picture.show(position, done=positions[:k])
        window = picture.highlighted("window")
        for c in range(2):
            assert {
                (r, q) for g, ch, r, q in window if g == "input" and ch == c
            } == expected[k]
        assert picture.highlighted("current") == {("output", 0, *position)}
        assert picture.highlighted("done") == {
            ("output", 0, *p) for p in positions[:k]
        }


def test_padding_is_drawn_as_padding():
    picture = ConvPicture(3, 2, padding=(1, 2))
    padding = {(r, q) for _, _, r, q in picture.highlighted("padding")}
    inside = {(r, q) for r in range(1, 4) for q in range(2, 5)}
    assert padding | inside == {(r, q) for r in range(5) for q in range(7)}
    assert not padding & inside


@pytest.mark.filterwarnings("ignore:Animation was deleted without rendering")
def test_animation_frames_follow_the_outputs_row_by_row():
    anim = animate(4, 2, stride=2)
    frame = anim._func
    frame(3)
    picture = anim.picture
    assert picture.highlighted("current") == {("output", 0, 1, 1)}
    assert {(r, q) for _, _, r, q in picture.highlighted("window")} == {
        (2, 2),
        (2, 3),
        (3, 2),
        (3, 3),
    }
    del anim, frame, picture
    gc.collect()  # now, while this test hides the unrendered-animation warning


def test_show_animation_is_self_contained_html():
    html = show_animation(5, 3, stride=2, padding=1).data
    assert "<script" in html and "data:image/png;base64" in html
    assert len(html) < 2_000_000
    # the same every run
    assert show_animation(5, 3, stride=2, padding=1).data == html
    assert show_animation(5, 3, stride=2).data != html
    # it fetches nothing: no Font Awesome from a CDN, plain characters
    assert "https://" not in html and "fa fa-" not in html
    assert (
        '<button title="Play" aria-label="Play"' in html
        and "▶</button>" in html
    )


def test_plot_step_returns_a_figure():
    fig = plot_step(
        5, 3, stride=2, padding=1, position=(1, 2), values=torch.ones(5, 5)
    )
    assert fig.axes and len(fig.axes[0].patches) == 7 * 7 + 3 * 3


@pytest.mark.parametrize("setting", SETTINGS)
def test_usage_counts_equal_fold_of_unfold(setting):
    counts = usage_counts(**setting)
    picture = ConvPicture(**setting)
    plt.close(picture.fig)
    ones = torch.ones(1, 1, *picture.input_size, dtype=torch.float64)
    left, right, top, bottom = picture.args.pad
    padded = F.pad(ones, picture.args.pad)
    s, d = picture.args.stride, picture.args.dilation
    cols = F.unfold(padded, picture.kernel_size, dilation=d, stride=s)
    folded = F.fold(
        cols, picture.padded_size, picture.kernel_size, dilation=d, stride=s
    )
    inner = folded[
        0,
        0,
        top : top + picture.input_size[0],
        left : left + picture.input_size[1],
    ]
    assert torch.equal(counts, inner.long())


def test_usage_heatmap_labels_every_pixel():
    fig = usage_heatmap(3, 2)
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert labels == ["1", "2", "1", "2", "4", "2", "1", "2", "1"]


def test_bad_parameters_get_clear_errors():
    with pytest.raises(ValueError, match="kernel does not fit"):
        ConvPicture(3, 5)
    with pytest.raises(
        ValueError,
        match=r"position must be a pixel of the output, of size \(2, 2\)",
    ):
        plot_step(3, 2, position=(2, 0))
    with pytest.raises(ValueError, match="in_channels must be positive"):
        ConvPicture(3, 2, in_channels=0)
    with pytest.raises(
        ValueError, match=r"values must have the input's shape \(3, 3\)"
    ):
        ConvPicture(3, 2, values=torch.zeros(2, 2))


# Every figure of the book: sharp, fits the column, its text readable.

FIGURES = ("plot_step", "usage_heatmap", "show_animation")
BOOK = sorted((ROOT / "book").glob("*.ipynb"))


def book_calls():
    """Each call of a plotting function the chapters make, with its arguments.

    (the call as written, function name, args, kwargs); ``values`` become
    random values of the input's size. A call that draws into a figure of
    the chapter's own (``ax=``) is left to the stored-notebook test.
    """
    calls = []
    for path in BOOK:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            code = TransformerManager().transform_cell(cell.source)
            for node in ast.walk(ast.parse(code)):
                func = getattr(node, "func", None)
                if not (
                    isinstance(func, ast.Attribute)
                    and func.attr in FIGURES
                    and getattr(func.value, "id", None) == "plotting"
                ):
                    continue
                written = {k.arg: k.value for k in node.keywords}
                if "ax" in written:
                    continue
                args = [ast.literal_eval(a) for a in node.args]
                kwargs = {
                    k: ast.literal_eval(v)
                    for k, v in written.items()
                    if k != "values"
                }
                if "values" in written:
                    size = pair(args[0])
                    kwargs["values"] = torch.randn(size, generator=SEED)
                call = f"{path.stem[:2]}: {ast.unparse(node)}"
                calls.append((call, func.attr, args, kwargs))
    return calls


SEED = torch.Generator().manual_seed(0)
CALLS = book_calls()


def problems(fig, texts, width_px=None):
    """What a reader would miss in ``fig``: [] when nothing.

    Its smallest text as the column shows it, and any of ``texts`` that
    runs off the figure (an animation's frame is the whole figure).
    """
    found = []
    smallest = smallest_text_px(fig, width_px)
    if smallest is not None and smallest < MIN_TEXT_PX:
        found.append(f"text of {smallest:.1f} px < {MIN_TEXT_PX} px")
    renderer = fig.canvas.get_renderer()
    for text in texts:
        box = text.get_window_extent(renderer)
        if box.x0 < -1 or box.y0 < -1 or box.x1 > fig.bbox.x1 + 1:
            found.append(f"text runs off the figure: {text.get_text()!r}")
        elif box.y1 > fig.bbox.y1 + 1:
            found.append(f"text runs off the figure: {text.get_text()!r}")
    return found


def test_the_book_calls_every_plotting_function():
    assert {name for _, name, _, _ in CALLS} == set(FIGURES), CALLS
    assert len(CALLS) >= 10


@pytest.mark.parametrize(
    "call",
    [c for c in CALLS if c[1] != "show_animation"],
    ids=lambda c: c[0],
)
def test_each_figure_of_the_book_is_readable(call):
    _, name, args, kwargs = call
    fig = getattr(plotting, name)(*args, **kwargs)
    _, metadata = figure_png(fig)  # as the notebook shows it
    assert metadata["width"] <= COLUMN_PX
    assert metadata["smallest_text_px"] >= MIN_TEXT_PX
    assert problems(fig, fig.axes[0].texts, metadata["width"]) == []


@pytest.mark.filterwarnings("ignore:Animation was deleted without rendering")
@pytest.mark.parametrize(
    "call",
    [c for c in CALLS if c[1] == "show_animation"],
    ids=lambda c: c[0],
)
def test_each_frame_of_each_animation_is_readable(call):
    _, _, args, kwargs = call
    anim = animate(*args, **kwargs)
    picture = anim.picture
    assert picture.fig.bbox.width <= COLUMN_PX
    frames = len(
        list(itertools.product(*map(range, picture.args.output_size)))
    )
    for k in range(frames):
        anim._func(k)
        assert problems(picture.fig, picture.ax.texts) == [], k
    del anim
    gc.collect()  # now, while this test hides the unrendered-animation warning


def test_the_checks_catch_small_text_and_text_off_the_figure(monkeypatch):
    picture = ConvPicture(5, 3, in_channels=3)
    picture.show((1, 2))
    assert problems(picture.fig, picture.ax.texts) == []
    monkeypatch.setitem(plotting.LABEL, "fontsize", 7)
    small = ConvPicture(5, 3, in_channels=3)
    small.show((1, 2))
    assert problems(small.fig, small.ax.texts) == ["text of 9.7 px < 11 px"]
    # a picture that sized its title for fewer lines than it has
    picture.title.set_text("\n".join(["a line of the title"] * 4))
    found = problems(picture.fig, picture.ax.texts)
    assert found and found[0].startswith("text runs off the figure")
    picture.title.set_text("x" * 300)
    found = problems(picture.fig, picture.ax.texts)
    assert found and found[0].startswith("text runs off the figure")


def png_size(data):
    """(width, height) of a PNG given as base64 text."""
    raw = base64.b64decode(data)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", raw[16:24])


ANIMATION_IMAGE = re.compile(r'<img id="_anim_img[^>]*>')
FIRST_FRAME = re.compile(r'frames\[0\] = "data:image/png;base64,([^"]*)"')


def stored_figure_problems(nb):
    """What is wrong with a notebook's stored figures: [] when nothing."""
    found = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            where = f"cell {index}"
            html = "".join(data.get("text/html", ""))
            if "_anim_img" in html:
                image = ANIMATION_IMAGE.search(html).group(0)
                width = re.search(r'\swidth="(\d+)"', image)
                frame = FIRST_FRAME.search(html).group(1)
                frame = re.sub(r"\\\n|\n", "", frame)
                if not width or png_size(frame)[0] != 2 * int(width[1]):
                    found.append(f"{where}: animation frames not at 2x")
            if "image/png" not in data:
                continue
            metadata = output.get("metadata", {}).get("image/png", {})
            width = png_size(data["image/png"])[0]
            if metadata.get("width") != width // 2:
                found.append(
                    f"{where}: a {width} px PNG shown at "
                    f"width={metadata.get('width')}, not at 2x"
                )
            if "smallest_text_px" not in metadata:
                found.append(f"{where}: text not measured (convnotes import)")
            elif (metadata["smallest_text_px"] or MIN_TEXT_PX) < MIN_TEXT_PX:
                found.append(
                    f"{where}: text of {metadata['smallest_text_px']} px "
                    f"< {MIN_TEXT_PX} px as the book shows it"
                )
    return found


@pytest.mark.parametrize("path", BOOK, ids=lambda p: p.name)
def test_the_stored_figures_are_sharp_and_readable(path):
    nb = nbformat.read(path, as_version=4)
    assert stored_figure_problems(nb) == []


@pytest.mark.filterwarnings("ignore:Animation was deleted without rendering")
def test_the_stored_figure_check_finds_blurry_and_small_figures():
    from IPython.core.pylabtools import print_figure

    fig = plot_step(3, 2)
    png, metadata = figure_png(fig)
    blurry = base64.b64encode(print_figure(fig)).decode()  # 1x
    html = show_animation(3, 2).data
    outputs = [
        ("image/png", png, metadata),
        ("image/png", blurry, {"width": png_size(blurry)[0]}),
        ("image/png", png, metadata | {"smallest_text_px": 9}),
        ("image/png", png, {"width": metadata["width"]}),
        ("text/html", html, {}),
        ("text/html", html.replace(' width="', ' data-width="'), {}),
    ]
    nb = nbformat.v4.new_notebook()
    for mime, data, metadata in outputs:
        output = nbformat.v4.new_output(
            "display_data", {mime: data}, metadata={mime: metadata}
        )
        nb.cells.append(nbformat.v4.new_code_cell("", outputs=[output]))
    assert stored_figure_problems(nb) == [
        f"cell 1: a {png_size(blurry)[0]} px PNG shown at "
        f"width={png_size(blurry)[0]}, not at 2x",
        "cell 1: text not measured (convnotes import)",
        "cell 2: text of 9 px < 11 px as the book shows it",
        "cell 3: text not measured (convnotes import)",
        "cell 5: animation frames not at 2x",
    ]
