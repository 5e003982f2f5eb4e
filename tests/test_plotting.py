"""convnotes.plotting: the pictures highlight what the arithmetic says, step by step."""

import gc
import itertools

import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F

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


def windows_by_unfold(input_size, kernel_size, stride=1, padding=0, dilation=1):
    """The padded pixels each window reads, found independently: unfold an index map."""
    picture = ConvPicture(input_size, kernel_size, stride, padding, dilation)
    plt.close(picture.fig)
    Hp, Wp = picture.padded_size
    index = torch.arange(Hp * Wp, dtype=torch.float64).view(1, 1, Hp, Wp)
    s, d = picture.args.stride, picture.args.dilation
    cols = F.unfold(index, picture.kernel_size, dilation=d, stride=s)[0].long()
    return [
        {(int(k) // Wp, int(k) % Wp) for k in cols[:, n]} for n in range(cols.shape[1])
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
        assert picture.highlighted("done") == {("output", 0, *p) for p in positions[:k]}


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
    assert show_animation(5, 3, stride=2, padding=1).data == html  # the same every run
    assert show_animation(5, 3, stride=2).data != html
    # it fetches nothing: no Font Awesome from a CDN, plain characters on the buttons
    assert "https://" not in html and "fa fa-" not in html
    assert '<button title="Play" aria-label="Play"' in html and "▶</button>" in html


def test_plot_step_returns_a_figure():
    fig = plot_step(5, 3, stride=2, padding=1, position=(1, 2), values=torch.ones(5, 5))
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
        0, 0, top : top + picture.input_size[0], left : left + picture.input_size[1]
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
        ValueError, match=r"position must be a pixel of the output, of size \(2, 2\)"
    ):
        plot_step(3, 2, position=(2, 0))
    with pytest.raises(ValueError, match="in_channels must be positive"):
        ConvPicture(3, 2, in_channels=0)
    with pytest.raises(
        ValueError, match=r"values must have the input's shape \(3, 3\)"
    ):
        ConvPicture(3, 2, values=torch.zeros(2, 2))
