"""convnotes.gradient_plots: each frame of the backward-pass pictures
highlights what autograd and the package's geometry say, and every picture
keeps its text at least convnotes.display.MIN_TEXT_PX."""

import itertools

import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F

from convnotes import gradient_plots as gp
from convnotes.arguments import pair, window_args
from convnotes.display import MIN_TEXT_PX, smallest_text_px
from convnotes.geometry import window_reads

pytestmark = [
    pytest.mark.filterwarnings("ignore:Animation was deleted"),
    pytest.mark.filterwarnings("ignore:Using padding='same'"),
]

SETTINGS = [
    dict(input_size=3, kernel_size=2),
    dict(input_size=(4, 3), kernel_size=3, stride=2, padding=1),
    dict(input_size=(7, 6), kernel_size=(3, 2), dilation=2),
    dict(input_size=6, kernel_size=3, stride=2, padding=1, dilation=2),
    dict(input_size=(5, 6), kernel_size=(2, 3), stride=(2, 1), padding=2),
    dict(input_size=4, kernel_size=2, padding="same"),
]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def grads(setting, seed=0):
    """x, w, g and autograd's (x.grad, w.grad) of one channel, float64."""
    generator = torch.Generator().manual_seed(seed)
    H, W = pair(setting["input_size"])
    kH, kW = pair(setting["kernel_size"])
    conv = {k: v for k, v in setting.items() if "size" not in k}
    x = torch.randn(H, W, generator=generator, dtype=torch.float64)
    w = torch.randn(kH, kW, generator=generator, dtype=torch.float64)
    x.requires_grad_(), w.requires_grad_()
    y = F.conv2d(x[None, None], w[None, None], **conv)[0, 0]
    g = torch.randn(y.shape, generator=generator, dtype=torch.float64)
    grad_x, grad_w = torch.autograd.grad(y, (x, w), g)
    return x.detach(), w.detach(), g, grad_x, grad_w


def frames_shown(anim):
    """Draw every frame; yield (k, picture)."""
    for k in range(len(anim.frames)):
        anim.draw(k)
        yield k, anim.picture


def sum_under_window(anim, setting, w, g, r, c):
    """x.grad[r, c] read off frame (r, c) of the input-gradient picture:
    each g entry under the window times the flipped-kernel entry over it."""
    kH, kW = w.shape
    d_h, d_w = pair(setting.get("dilation", 1))
    window = anim.picture.highlighted("window")
    total, expected = 0.0, set()
    for u, v in itertools.product(range(kH), range(kW)):
        z, q = r + d_h * u, c + d_w * v  # under flipped entry (u, v)
        expected.add(("spread", z, q))
        kind, index = anim.picture.entry(z, q)
        if kind == "grad":
            total += float(g[index] * w[kH - 1 - u, kW - 1 - v])
    assert window == expected
    return total


@pytest.mark.parametrize("setting", SETTINGS)
def test_input_grad_frames_sum_to_autograd(setting):
    x, w, g, grad_x, _ = grads(setting)
    anim = gp.animate_input_grad(**setting)
    pixels = list(itertools.product(*map(range, x.shape)))
    assert len(anim.frames) == len(pixels)
    for k, picture in frames_shown(anim):
        r, c = pixels[k]
        assert picture.highlighted("current") == {("grad_input", r, c)}
        done = {("grad_input", *p) for p in pixels[:k]}
        assert picture.highlighted("done") == done
        value = sum_under_window(anim, setting, w, g, r, c)
        assert abs(value - float(grad_x[r, c])) < 1e-12


@pytest.mark.parametrize("setting", SETTINGS)
def test_spread_grid_is_the_transposed_convolution(setting):
    """The grid the picture draws, filled with g where it shows g's entries
    and zeros elsewhere, correlated with the flipped kernel, is x.grad."""
    x, w, g, grad_x, _ = grads(setting)
    anim = gp.animate_input_grad(**setting)
    d = pair(setting.get("dilation", 1))
    spread = torch.zeros(
        x.shape[0] + d[0] * (w.shape[0] - 1),
        x.shape[1] + d[1] * (w.shape[1] - 1),
        dtype=torch.float64,
    )
    entries = []
    for z, q in itertools.product(*map(range, spread.shape)):
        kind, index = anim.picture.entry(z, q)
        if kind == "grad":
            spread[z, q] = g[index]
            entries.append(index)
    # each entry at most once; with p > d(k - 1) the first are cropped off
    assert len(set(entries)) == len(entries) > 0
    assert set(entries) <= set(itertools.product(*map(range, g.shape)))
    flipped = w.flip(0, 1)[None, None]
    result = F.conv2d(spread[None, None], flipped, dilation=d)[0, 0]
    assert torch.allclose(result, grad_x, rtol=0, atol=1e-12)
    # a g entry one square off is caught
    wrong = spread.roll(1, 1)
    result = F.conv2d(wrong[None, None], flipped, dilation=d)[0, 0]
    assert not torch.allclose(result, grad_x, rtol=0, atol=1e-12)


def tap_pixels(setting, u, v):
    """The padded pixels kernel entry (u, v) multiplied, one per output."""
    kernel = pair(setting["kernel_size"])
    conv = {k: v for k, v in setting.items() if "size" not in k}
    args = window_args(setting["input_size"], kernel, **conv)
    outputs = itertools.product(*map(range, args.output_size))
    return {
        (row, col)
        for position in outputs
        for uu, vv, row, col in window_reads(args, kernel, position)
        if (uu, vv) == (u, v)
    }


@pytest.mark.parametrize("setting", SETTINGS)
def test_weight_grad_frames_are_the_taps(setting):
    x, w, g, _, grad_w = grads(setting)
    conv = {k: v for k, v in setting.items() if "size" not in k}
    args = window_args(setting["input_size"], w.shape, **conv)
    padded = F.pad(x, args.pad)
    anim = gp.animate_weight_grad(**setting)
    taps = list(itertools.product(*map(range, w.shape)))
    assert len(anim.frames) == len(taps)
    for k, picture in frames_shown(anim):
        u, v = taps[k]
        assert picture.highlighted("current") == {("grad_weight", u, v)}
        window = {(r, c) for _, r, c in picture.highlighted("window")}
        assert window == tap_pixels(setting, u, v)
        # the squares, in order, times g: autograd's entry
        rows, cols = zip(*sorted(window), strict=True)
        pixels = padded[sorted(set(rows))][:, sorted(set(cols))]
        value = (pixels * g).sum()
        assert abs(value - grad_w[u, v]) < 1e-12
        # each square read names its entry of g, and only those squares do
        assert set(picture.written()) == picture.highlighted("window")
        assert abs(labelled_sum(picture, padded, g) - grad_w[u, v]) < 1e-12


def labelled_sum(picture, padded, g):
    """The sum the picture shows: each labelled square times its g entry."""
    entries = itertools.product(*map(range, g.shape))
    names = {gp.name_of("g", *i): i for i in entries}
    written = picture.written().items()
    return sum(padded[r, c] * g[names[text]] for (_, r, c), text in written)


def test_labels_go_with_their_frame():
    anim = gp.animate_weight_grad(4, 2, stride=2)
    anim.draw(3)
    anim.draw(0)  # the last frame's labels are gone
    assert set(anim.picture.written()) == {
        ("input", r, c) for r in (0, 2) for c in (0, 2)
    }
    assert anim.picture.written()[("input", 2, 0)] == "g10"


def readers(setting, pixel):
    """((i, j), (u, v)) of every output whose window read ``pixel``."""
    kernel = pair(setting["kernel_size"])
    conv = {k: v for k, v in setting.items() if "size" not in k}
    args = window_args(setting["input_size"], kernel, **conv)
    left, _, top, _ = args.pad
    target = (pixel[0] + top, pixel[1] + left)
    found = []
    for position in itertools.product(*map(range, args.output_size)):
        for u, v, row, col in window_reads(args, kernel, position):
            if (row, col) == target:
                found.append((position, (u, v)))
    return found


@pytest.mark.parametrize("setting", SETTINGS)
def test_gather_marks_every_output_that_read_the_pixel(setting):
    x, w, g, grad_x, _ = grads(setting)
    H, W = x.shape
    for pixel in {(0, 0), (H // 2, W // 2), (H - 1, W - 1), (1, W - 1)}:
        expected = readers(setting, pixel)
        anim = gp.animate_gather(**setting, pixel=pixel)
        assert len(anim.frames) == max(1, len(expected))
        conv = {k: v for k, v in setting.items() if "size" not in k}
        left, _, top, _ = window_args(x.shape, w.shape, **conv).pad
        total, used = 0.0, set()
        for k, picture in frames_shown(anim):
            # red: the pixel whose gradient is produced, and nothing else
            current = picture.highlighted("current")
            assert current == {("input", pixel[0] + top, pixel[1] + left)}
            assert not picture.highlighted("done")
            if not expected:
                break
            # orange: the g entry and kernel entry read, one of each
            read = picture.highlighted("window")
            position, entry = expected[k]
            assert {key for key in read if key[0] != "input"} == {
                ("grad", *position),
                ("kernel", *entry),
            }
            used.add(position)
            total += float(g[position] * w[entry])
        assert used == {p for p, _ in expected}
        assert abs(total - float(grad_x[pixel])) < 1e-12
        plt.close(anim.picture.fig)


def matrix_by_unit_vectors(w, setting):
    """C, column by column: F.conv2d of each unit vector."""
    H, W = pair(setting["input_size"])
    conv = {k: v for k, v in setting.items() if "size" not in k}
    columns = []
    for k in range(H * W):
        unit = torch.zeros(H * W, dtype=w.dtype)
        unit[k] = 1
        y = F.conv2d(unit.view(1, 1, H, W), w[None, None], **conv)
        columns.append(y.flatten())
    return torch.stack(columns, 1)


@pytest.mark.parametrize("setting", SETTINGS)
def test_conv_matrix_is_the_convolution(setting):
    x, w, g, grad_x, _ = grads(setting)
    conv = {k: v for k, v in setting.items() if "size" not in k}
    C = gp.conv_matrix(w, setting["input_size"], **conv)
    assert torch.equal(C, matrix_by_unit_vectors(w, setting))
    y = F.conv2d(x[None, None], w[None, None], **conv).flatten()
    assert torch.allclose(C @ x.flatten(), y, rtol=0, atol=1e-12)
    back = (C.T @ g.flatten()).view(x.shape)
    assert torch.allclose(back, grad_x, rtol=0, atol=1e-12)


def entries_match(entries, C, kW):
    """Whether each square of the picture names C's kernel entry."""
    for (m, k), entry in entries.items():
        value = int(C[m, k])
        if (entry is None) != (value == 0):
            return False
        if entry is not None and entry[0] * kW + entry[1] + 1 != value:
            return False
    return True


@pytest.mark.parametrize("setting", SETTINGS)
def test_matrix_picture_names_each_kernel_entry(setting):
    kH, kW = pair(setting["kernel_size"])
    conv = {k: v for k, v in setting.items() if "size" not in k}
    fig = gp.plot_conv_matrix(setting["input_size"], (kH, kW), **conv)
    index = torch.arange(1.0, kH * kW + 1).view(kH, kW)  # entry + 1
    C = matrix_by_unit_vectors(index, setting)
    assert entries_match(fig.entries, C, kW)
    nonzero = {("C", m, k) for m, k in C.nonzero().tolist()}
    assert fig.picture.highlighted("kernel") == nonzero
    # a wrong entry planted in the picture's record is caught
    planted = dict(fig.entries)
    m, k = C.nonzero()[0].tolist()
    u, v = planted[m, k]
    planted[m, k] = (u, (v + 1) % kW) if kW > 1 else ((u + 1) % kH, v)
    assert not entries_match(planted, C, kW)


def test_a_planted_wrong_window_is_caught():
    setting = SETTINGS[3]  # stride 2, padding 1, dilation 2
    anim = gp.animate_weight_grad(**setting)
    anim.draw(1)
    window = {(r, c) for _, r, c in anim.picture.highlighted("window")}
    assert window == tap_pixels(setting, 0, 1)
    assert window != tap_pixels(setting, 0, 0)
    # shift one frame's window by a square: the picture no longer agrees
    caption, reads, current, labels = anim.frames[1]
    shifted = [(n, r, c + 1) for n, r, c in reads]
    anim.frames[1] = (caption, shifted, current, labels)
    anim.draw(1)
    window = {(r, c) for _, r, c in anim.picture.highlighted("window")}
    assert window != tap_pixels(setting, 0, 1)
    # swap two squares' labels: the sum they show is no longer autograd's
    x, _, g, _, grad_w = grads(setting)
    padded = F.pad(x, window_args(6, 3, 2, 1, 2).pad)
    anim.draw(1)
    assert abs(labelled_sum(anim.picture, padded, g) - grad_w[0, 1]) < 1e-12
    inside = [key for key in labels if padded[key[1:]] != 0]
    first, second = inside[0], inside[-1]
    assert labels[first] != labels[second]
    swapped = {**labels, first: labels[second], second: labels[first]}
    anim.frames[1] = (caption, reads, current, swapped)
    anim.draw(1)
    assert abs(labelled_sum(anim.picture, padded, g) - grad_w[0, 1]) > 1e-6


def test_a_planted_wrong_reader_is_caught():
    setting = SETTINGS[1]
    expected = readers(setting, (1, 1))
    anim = gp.animate_gather(**setting, pixel=(1, 1))
    caption, reads, current = anim.frames[0]
    assert ("grad", *expected[0][0]) in reads
    planted = [key if key[0] != "grad" else ("grad", 1, 1) for key in reads]
    anim.frames[0] = (caption, planted, current)
    anim.draw(0)
    assert ("grad", *expected[0][0]) not in anim.picture.highlighted("window")


def distance(a, b):
    """How far apart two colours "#rrggbb" are, 0 to 441."""
    pairs = zip(bytes.fromhex(a[1:]), bytes.fromhex(b[1:]), strict=True)
    return sum((p - q) ** 2 for p, q in pairs) ** 0.5


def test_a_result_to_come_is_unlike_every_other_colour():
    others = [c for role, c in gp.COLORS.items() if role != "result"]
    assert min(distance(gp.COLORS["result"], c) for c in others) >= 35
    # the grey that a result to come once had is caught: too near padding's
    assert distance("#f3f3f3", gp.COLORS["padding"]) < 35


@pytest.mark.parametrize("setting", SETTINGS)
def test_text_is_large_enough(setting):
    conv = {k: v for k, v in setting.items() if "size" not in k}
    sizes = setting["input_size"], setting["kernel_size"]
    pictures = [
        gp.animate_input_grad(*sizes, **conv),
        gp.animate_weight_grad(*sizes, **conv),
        gp.animate_gather(*sizes, **conv, pixel=(1, 1)),
    ]
    for anim in pictures:  # the first and last frames: the longest caption
        for k in {0, len(anim.frames) - 1}:
            anim.draw(k)
            assert smallest_text_px(anim.picture.fig) >= MIN_TEXT_PX
    fig = gp.plot_conv_matrix(*sizes, **conv)
    assert smallest_text_px(fig) >= MIN_TEXT_PX
    assert fig.get_figwidth() <= 6.8


def test_a_pixel_outside_the_input_is_refused():
    with pytest.raises(ValueError, match=r"pixel=\(4, 0\)"):
        gp.animate_gather(4, 3, pixel=(4, 0))


def test_show_gives_offline_html():
    html = gp.show(gp.animate_gather(4, 3, padding=1, pixel=(0, 0))).data
    assert "convnotes-animation" in html
    assert "https://" not in html
