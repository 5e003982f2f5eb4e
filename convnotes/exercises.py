"""Automatic checks for the book's exercises.

Each exercise says what to pass; :func:`check` compares it with the answer and
says what is right, the first place it is wrong, and a hint::

    >>> from convnotes.exercises import check
    >>> check("ex-size-stem", (112, 56))
    ✓ ex-size-stem: right: 224 -> 112 -> 56.
    >>> check("ex-size-stem", (113, 57))  # doctest: +NORMALIZE_WHITESPACE
    ✗ ex-size-stem: the size after the 7×7 layer is 113, expected 112.
      Hint: floor((224 + 2*3 - 7) / 2) + 1.

An answer can be a number, a tuple, a tensor (or nested list), or a function the
learner wrote, which is then called on a few inputs and compared with PyTorch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import grad
from .checking import Feedback, Wrong, function, number, parts, tensor

__all__ = ["CHECKERS", "Feedback", "check"]


CHECKERS = {}


def checker(label):
    def register(function):
        CHECKERS[label] = function
        return function

    return register


def check(label, answer):
    """Check ``answer`` to the exercise ``label``, as the book names it."""
    if label not in CHECKERS:
        known = ", ".join(sorted(CHECKERS))
        raise ValueError(f"no exercise with label={label!r}; known labels: {known}")
    try:
        message = CHECKERS[label](answer)
    except Wrong as wrong:
        return Feedback(label, False, str(wrong))
    return Feedback(label, True, message)


def _random(*shape, seed):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=generator, dtype=torch.float64)


# -- chapter 1 ------------------------------------------------------------------


@checker("ex-hand-arange")
def _(answer):
    """``w.grad`` for x = 0..8 (3x3), a 2x2 kernel and ``y.sum()``."""
    tensor(
        answer,
        [[8, 12], [20, 24]],
        "w.grad",
        "entry (u, v) is the sum of the 2×2 patch x[u:u+2, v:v+2] it multiplies.",
    )
    return "right: each entry is the sum of the patch its kernel entry multiplies."


@checker("ex-hand-centre")
def _(answer):
    """(centre, corner, x_01) for w = torch.arange(9.0).view(3, 3)."""
    centre, corner, x01 = parts(answer, 3, "(centre, corner, x01)")
    number(centre, 36, "the centre's gradient", "every window reads it: sum all of w.")
    number(corner, 0, "the corner's gradient", "only the first window reads it.")
    number(x01, 1, "x01's gradient", "two windows read it, under w00 and w01.")
    return "right: w summed (36), w00 (0), w00 + w01 (1)."


@checker("ex-hand-implement")
def _(answer):
    """A function ``grad_weight(x, g, kH, kW)`` for 2-D ``x`` and ``g``."""

    def reference(x, g, kH, kW):
        return grad.conv2d_weight(x[None, None], (1, 1, kH, kW), g[None, None])[0, 0]

    cases = [
        (_random(5, 6, seed=1), _random(4, 4, seed=2), 2, 3),
        (_random(4, 4, seed=3), _random(4, 4, seed=4), 1, 1),
        (_random(6, 5, seed=5), _random(4, 3, seed=6), 3, 3),
    ]
    return function(
        answer,
        reference,
        cases,
        "grad_weight",
        "entry (u, v) is (g * x[u:u+H_out, v:v+W_out]).sum().",
    )


# -- chapter 2 ------------------------------------------------------------------


@checker("ex-channels-stride-unused")
def _(answer):
    """(output size, the (row, col) pixels with no gradient), 6x6, 3x3, stride 2."""
    size, unused = parts(answer, 2, "(output size, unused pixels)")
    size = size[0] if isinstance(size, tuple | list) else size
    number(size, 2, "the output size", "floor((6 - 3) / 2) + 1.")
    try:
        given = {(int(r), int(c)) for r, c in unused}
    except (TypeError, ValueError):
        raise Wrong("list the unused pixels as (row, col) pairs.") from None
    expected = {(r, c) for r in range(6) for c in range(6) if r == 5 or c == 5}
    missing, extra = sorted(expected - given), sorted(given - expected)
    if missing:
        raise Wrong(f"pixel {missing[0]} gets no gradient, but is not in your list.")
    if extra:
        raise Wrong(
            f"pixel {extra[0]} is read by a window. Hint: windows start at 0 and 2."
        )
    return "right: the last row and the last column (11 pixels) are never read."


@checker("ex-channels-weight-grad")
def _(answer):
    """``weight.grad[1, 2]`` for x = torch.arange(75.0).view(1, 3, 5, 5)."""
    x = torch.arange(75.0, dtype=torch.float64).view(1, 3, 5, 5)
    expected = F.avg_pool2d(x[:, 2:3], 3, stride=1)[0, 0] * 9
    tensor(
        answer,
        expected,
        "weight.grad[1, 2]",
        "entry (u, v) sums channel 2's 3×3 patch starting at (u, v).",
    )
    return "right: patch sums of input channel 2, the same for every output channel."


@checker("ex-channels-same-even")
def _(answer):
    """The padding (left, right, top, bottom) of "same" for a 4x4 kernel."""
    pad = parts(answer, 4, "(left, right, top, bottom)")
    if tuple(pad) == (2, 1, 2, 1):
        raise Wrong("the extra row and column go after the image, not before.")
    tensor(list(pad), [1, 2, 1, 2], "(left, right, top, bottom)", "3 in all per side.")
    return "right: one before, two after, in both directions."


# -- chapter 3 ------------------------------------------------------------------


@checker("ex-size-stem")
def _(answer):
    """(size after the 7x7 layer, size after the 3x3 layer) for 224."""
    first, second = parts(answer, 2, "(after the 7×7 layer, after the 3×3 layer)")
    number(
        first, 112, "the size after the 7×7 layer", "floor((224 + 2*3 - 7) / 2) + 1."
    )
    number(
        second, 56, "the size after the 3×3 layer", "floor((112 + 2*1 - 3) / 2) + 1."
    )
    return "right: 224 -> 112 -> 56."


@checker("ex-size-stride32")
def _(answer):
    """(measurement size, (smallest, largest) input size, output_padding for 150)."""
    size, sizes, extra = parts(answer, 3, "(size, (smallest, largest), output_padding)")
    number(size, 4, "the measurement size", "floor((128 - 32) / 32) + 1.")
    smallest, largest = parts(sizes, 2, "(smallest, largest) input size")
    number(
        smallest, 128, "the smallest input size", "a 4th window must fit: 3*32 + 32."
    )
    number(largest, 159, "the largest input size", "a 5th window must not fit.")
    number(extra, 22, "output_padding", "the transposed size without it is 128.")
    return "right: 4×4, from any input of 128 to 159, output_padding 22."


@checker("ex-size-dilated-same")
def _(answer):
    """(padding for 5x5 dilation 2, (before, after) padding of "same" for 4x4)."""
    padding, split = parts(answer, 2, "(padding, (before, after))")
    number(padding, 4, "the padding", "the dilated kernel spans 2*(5-1) + 1 = 9.")
    before, after = parts(split, 2, "(before, after)")
    number(before, 1, "the padding before", "3 in all; PyTorch puts the extra after.")
    number(after, 2, "the padding after", "3 in all; PyTorch puts the extra after.")
    return "right: 4 on each side; for 4×4 with dilation 1, 1 before and 2 after."


# -- chapter 4 ------------------------------------------------------------------


@checker("ex-loops-predict")
def _(answer):
    """(grad_weight 2x2, grad_input 3x3) for ones, a 2x2 kernel of ones, sum loss."""
    grad_weight, grad_input = parts(answer, 2, "(grad_weight, grad_input)")
    tensor(
        grad_weight,
        [[4, 4], [4, 4]],
        "grad_weight",
        "each weight multiplies 4 pixels, all ones.",
    )
    tensor(
        grad_input,
        [[1, 2, 1], [2, 4, 2], [1, 2, 1]],
        "grad_input",
        "count the windows that read each pixel.",
    )
    return "right: 4s for the weight; for the input, how many windows read each pixel."


@checker("ex-loops-dead-pixels")
def _(answer):
    """The pixels (0..6) with zero gradient: width 2, stride 3, 7 pixels."""
    try:
        given = sorted({int(i) for i in answer})
    except (TypeError, ValueError):
        raise Wrong("pass the pixel indices, e.g. [1, 4].") from None
    if given != [2, 5, 6]:
        raise Wrong(
            f"you gave {given}. Hint: the windows cover pixels 0-1 and 3-4; "
            "a third would start at 6 and not fit."
        )
    return "right: pixels 2, 5 and 6 are never read."


@checker("ex-loops-positions")
def _(answer):
    """A function ``conv2d_positions(x, w)``: stride 1, no padding."""
    cases = [
        (_random(2, 3, 5, 6, seed=1), _random(4, 3, 2, 3, seed=2)),
        (_random(1, 1, 4, 4, seed=3), _random(2, 1, 3, 3, seed=4)),
    ]
    return function(
        answer, F.conv2d, cases, "conv2d_positions", "compare with F.conv2d(x, w)."
    )


# -- chapter 5 ------------------------------------------------------------------


@checker("ex-unfold-shape")
def _(answer):
    """(shape of F.unfold's result, how many times larger than the input)."""
    shape, ratio = parts(answer, 2, "(shape, ratio)")
    tensor(
        list(shape),
        [16, 75, 1024],
        "the shape",
        "(N, C * kH * kW, number of windows).",
    )
    number(ratio, 25, "the ratio", "every pixel is copied once per kernel entry.")
    return "right: (16, 75, 1024), 25 times the input."


@checker("ex-unfold-1x1")
def _(answer):
    """A function ``conv1x1(x, w)`` written as a matrix product over channels."""
    cases = [
        (_random(2, 5, 4, 3, seed=1), _random(7, 5, 1, 1, seed=2)),
        (_random(1, 1, 2, 2, seed=3), _random(3, 1, 1, 1, seed=4)),
    ]
    return function(
        answer,
        F.conv2d,
        cases,
        "conv1x1",
        "w.view(C_out, C_in) @ x.view(N, C_in, H * W), reshaped.",
    )


@checker("ex-unfold-implement")
def _(answer):
    """A function ``grad_input(grad_output, w, input_size)`` using F.fold."""

    def reference(grad_output, w, input_size):
        N, C_in = grad_output.shape[0], w.shape[1]
        return grad.conv2d_input((N, C_in, *input_size), w, grad_output)

    cases = [
        (_random(2, 4, 5, 3, seed=1), _random(4, 3, 2, 3, seed=2), (6, 5)),
        (_random(1, 2, 3, 3, seed=3), _random(2, 1, 1, 1, seed=4), (3, 3)),
    ]
    return function(
        answer,
        reference,
        cases,
        "grad_input",
        "F.fold(w.view(C_out, -1).t() @ grad_output.view(N, C_out, -1), ...).",
    )


# -- chapter 6 ------------------------------------------------------------------


@checker("ex-validate-bias")
def _(answer):
    """The bias gradient of the chapter's network (8 channels), inputs all positive."""
    values = torch.as_tensor(answer, dtype=torch.float64).flatten()
    if values.numel() not in (1, 8):
        raise Wrong("pass one number (it is the same for every channel) or all 8.")
    for value in values:
        number(
            value,
            0.125,
            "the bias gradient",
            "the mean spreads 1 over all outputs; one channel holds 1/8 of them.",
        )
    return "right: 1/8 for every channel."


# -- chapter 7 ------------------------------------------------------------------


@checker("ex-closed-full")
def _(answer):
    """(input gradient of sample 0, of sample 2) for g = (1, 2, 3), w = (4, 5, 6)."""
    first, middle = parts(answer, 2, "(sample 0, sample 2)")
    number(first, 4, "sample 0's gradient", "only output 0 reads it, under w0.")
    number(
        middle,
        28,
        "sample 2's gradient",
        "outputs 0, 1, 2 read it under w2, w1, w0: g0*w2 + g1*w1 + g2*w0.",
    )
    return "right: g0 w0 = 4 and g0 w2 + g1 w1 + g2 w0 = 28."


@checker("ex-closed-1x1")
def _(answer):
    """A function ``weight_grad_1x1(x, g)`` returning ``(C_out, C_in)``."""

    def reference(x, g):
        return grad.conv2d_weight(x, (g.shape[1], x.shape[1], 1, 1), g)[:, :, 0, 0]

    cases = [
        (_random(2, 3, 4, 5, seed=1), _random(2, 6, 4, 5, seed=2)),
        (_random(1, 1, 2, 2, seed=3), _random(1, 2, 2, 2, seed=4)),
    ]
    return function(
        answer,
        reference,
        cases,
        "weight_grad_1x1",
        "(g.flatten(2) @ x.flatten(2).transpose(1, 2)).sum(0).",
    )


@checker("ex-closed-implement")
def _(answer):
    """A function ``input_gradient(g, w)``: stride 1, no padding, with F.conv2d."""

    def reference(g, w):
        kH, kW = w.shape[2:]
        size = (g.shape[0], w.shape[1], g.shape[2] + kH - 1, g.shape[3] + kW - 1)
        return grad.conv2d_input(size, w, g)

    cases = [
        (_random(2, 4, 5, 5, seed=1), _random(4, 3, 3, 2, seed=2)),
        (_random(1, 1, 3, 4, seed=3), _random(1, 2, 2, 2, seed=4)),
    ]
    return function(
        answer,
        reference,
        cases,
        "input_gradient",
        "pad g by k - 1, then F.conv2d with w.transpose(0, 1).flip(-1, -2).",
    )


# -- chapter 8 ------------------------------------------------------------------


@checker("ex-chain-block")
def _(answer):
    """(block (row, col) of pixel (40, 70), offset (row, col) inside the block)."""
    block, offset = parts(answer, 2, "((block row, block col), (row, col) in block)")
    tensor(
        list(block), [1, 2], "the block", "blocks are 32 pixels: 40 // 32, 70 // 32."
    )
    tensor(list(offset), [8, 6], "the offset", "40 % 32, 70 % 32.")
    return "right: only y[0, :, 1, 2] matters, through k[:, 0, 8, 6]."


def _measured():
    """A small version of the forum's setting: x, a stride-4 kernel k, and y."""
    x, k = _random(2, 3, 8, 8, seed=1), _random(5, 1, 4, 4, seed=2)
    return x, k, _random(2, 5, 2, 2, seed=3)


@checker("ex-chain-leaky")
def _(answer):
    """``problem3_leaky(x, w1, w2, k, y, stride)`` -> (loss, dx, dw1, dw2)."""

    def reference(x, w1, w2, k, y, stride):
        x, w1, w2 = (t.clone().requires_grad_() for t in (x, w1, w2))
        z = F.conv2d(F.leaky_relu(F.conv2d(x, w1, padding=1), 0.1), w2, padding=1)
        loss = 0.5 * (F.conv2d(z, k, stride=stride) - y).pow(2).sum()
        return (loss.detach(), *torch.autograd.grad(loss, (x, w1, w2)))

    x, k, y = _measured()
    w1, w2 = _random(4, 3, 3, 3, seed=4), _random(1, 4, 3, 3, seed=5)
    return function(
        answer,
        reference,
        [(x, w1, w2, k, y, 4)],
        "problem3_leaky",
        "only the mask changes: torch.where(a1 > 0, grad_a1, 0.1 * grad_a1).",
    )


@checker("ex-chain-bias")
def _(answer):
    """A function ``bias_gradient(x, w1, b1, k, y, stride)`` -> dL/db1."""

    def reference(x, w1, b1, k, y, stride):
        b1 = b1.clone().requires_grad_()
        z = F.conv2d(x, w1, b1, padding=1)
        loss = 0.5 * (F.conv2d(z, k, stride=stride) - y).pow(2).sum()
        return torch.autograd.grad(loss, b1)[0]

    x, k, y = _measured()
    w1 = _random(1, 3, 3, 3, seed=4)
    return function(
        answer,
        reference,
        [(x, w1, _random(1, seed=5), k, y, 4)],
        "bias_gradient",
        "grad.conv2d_bias of the gradient of z.",
    )


# -- chapter 9 ------------------------------------------------------------------


@checker("ex-apps-sobel-step")
def _(answer):
    """S_x's response (column 4, column 5, column 8) on a step at column 5."""
    col4, col5, col8 = parts(answer, 3, "(column 4, column 5, column 8)")
    hint = "the right column of the window weighs 1 + 2 + 1, the left -(1 + 2 + 1)."
    number(col4, 4, "the response in column 4", hint)
    number(col5, 4, "the response in column 5", hint)
    number(col8, 0, "the response in column 8", "both outer columns are ones.")
    return "right: 4 on both sides of the step, 0 on flat ground."


@checker("ex-apps-box")
def _(answer):
    """The 3x3 box blur (padding 1) of a 5x5 image with 9 at its centre."""
    expected = torch.zeros(5, 5)
    expected[1:4, 1:4] = 1
    tensor(
        answer,
        expected,
        "the blurred image",
        "an output is 1 when its 3×3 window covers the centre.",
    )
    return "right: the point spreads into a 3×3 block of ones."


@checker("ex-apps-separable")
def _(answer):
    """A function ``gaussian_blur(x, sigma, radius)``, two 1-D convolutions."""

    def reference(x, sigma, radius):
        t = torch.arange(-radius, radius + 1, dtype=x.dtype)
        line = torch.exp(-(t**2) / (2 * sigma**2))
        square = torch.outer(line, line) / line.sum() ** 2
        return F.conv2d(x, square.view(1, 1, *square.shape), padding=radius)

    cases = [
        (_random(2, 1, 9, 8, seed=1), 1.5, 3),
        (_random(1, 1, 5, 5, seed=2), 0.7, 1),
    ]
    return function(
        answer,
        reference,
        cases,
        "gaussian_blur",
        "normalise the 1-D kernel to sum 1; pad (radius, 0), then (0, radius).",
    )


# -- chapter 0 ------------------------------------------------------------------


@checker("ex-intro-shapes")
def _(answer):
    """The output shape for input (8, 3, 32, 32) and weight (16, 3, 5, 5)."""
    shape = parts(answer, 4, "(N, C_out, H_out, W_out)")
    tensor(list(shape), [8, 16, 28, 28], "the shape", "H_out = 32 - 5 + 1.")
    return "right: (8, 16, 28, 28)."


@checker("ex-intro-weight")
def _(answer):
    """(weight shape, number of parameters) of nn.Conv2d(3, 16, kernel_size=(5, 3))."""
    shape, count = parts(answer, 2, "(weight shape, number of parameters)")
    tensor(
        list(shape), [16, 3, 5, 3], "the weight shape", "OIHW: (C_out, C_in, kH, kW)."
    )
    number(count, 16 * 3 * 5 * 3 + 16, "the number of parameters", "add the bias.")
    return "right: (16, 3, 5, 3), and 720 weights + 16 biases = 736."


@checker("ex-intro-entry")
def _(answer):
    """``output_entry(x, weight, bias, n, o, i, j)``: stride 1, no padding."""

    def reference(x, weight, bias, n, o, i, j):
        return F.conv2d(x, weight, bias)[n, o, i, j]

    x, weight = _random(2, 3, 5, 6, seed=1), _random(4, 3, 2, 3, seed=2)
    bias = _random(4, seed=3)
    cases = [(x, weight, bias, *index) for index in [(0, 0, 0, 0), (1, 3, 1, 3)]]
    return function(
        answer,
        reference,
        cases,
        "output_entry",
        "bias[o] + (weight[o] * x[n, :, i:i + kH, j:j + kW]).sum().",
    )
