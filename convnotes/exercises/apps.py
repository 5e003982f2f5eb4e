"""The checkers of chapter 9's exercises (applications)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..checking import checker, function, number, parts, random, tensor


@checker(
    "ex-apps-sobel-step",
    hint=(
        "F.conv2d does not flip the kernel: each output is the 3×3 window "
        "times S_x entry by entry, summed. Write out the three columns each "
        "window reads; S_x's middle column is zero and its outer ones weigh "
        "1, 2, 1 with opposite signs."
    ),
)
def _(answer):
    """S_x's response (column 4, column 5, column 8) on a step at column 5."""
    col4, col5, col8 = parts(answer, 3, "(column 4, column 5, column 8)")
    hint = (
        "the right column of the window weighs 1 + 2 + 1, "
        "the left -(1 + 2 + 1)."
    )
    number(col4, 4, "the response in column 4", hint)
    number(col5, 4, "the response in column 5", hint)
    number(col8, 0, "the response in column 8", "both outer columns are ones.")
    return "right: 4 on both sides of the step, 0 on flat ground."


@checker(
    "ex-apps-box",
    hint=(
        "each output is the mean of the 3×3 window centred on it, zeros "
        "outside the image: only the windows that contain the centre pixel "
        "see the 9."
    ),
)
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


@checker(
    "ex-apps-separable",
    hint=(
        "a 2-D Gaussian is the outer product of a 1-D one: build exp(-t² / "
        "(2σ²)) for t from -radius to radius, divide it by its sum, and "
        "apply it as a (size, 1) kernel, then as a (1, size) kernel, each "
        "padded only along its own direction."
    ),
)
def _(answer):
    """A function ``gaussian_blur(x, sigma, radius)``, two 1-D convolutions."""

    def reference(x, sigma, radius):
        t = torch.arange(-radius, radius + 1, dtype=x.dtype)
        line = torch.exp(-(t**2) / (2 * sigma**2))
        square = torch.outer(line, line) / line.sum() ** 2
        return F.conv2d(x, square.view(1, 1, *square.shape), padding=radius)

    cases = [
        (random(2, 1, 9, 8, seed=1), 1.5, 3),
        (random(1, 1, 5, 5, seed=2), 0.7, 1),
    ]
    return function(
        answer,
        reference,
        cases,
        "gaussian_blur",
        "normalise the 1-D kernel to sum 1; "
        "pad (radius, 0), then (0, radius).",
    )
