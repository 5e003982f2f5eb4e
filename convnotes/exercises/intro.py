"""The checkers of chapter 0's exercises (introduction)."""

from __future__ import annotations

import torch.nn.functional as F

from ..checking import checker, function, number, parts, random, tensor


@checker(
    "ex-intro-shapes",
    hint=(
        "N is unchanged, C_out is the weight's first dimension, and with "
        "stride 1 and no padding the height loses kH - 1 rows and the width "
        "kW - 1 columns in all: H_out = H_in - kH + 1."
    ),
)
def _(answer):
    """The output shape for input (8, 3, 32, 32) and weight (16, 3, 5, 5)."""
    shape = parts(answer, 4, "(N, C_out, H_out, W_out)")
    tensor(list(shape), [8, 16, 28, 28], "the shape", "H_out = 32 - 5 + 1.")
    return "right: (8, 16, 28, 28)."


@checker(
    "ex-intro-weight",
    hint=(
        "the weight is laid out OIHW, (C_out, C_in, kH, kW), and the layer "
        "also learns one bias per output channel."
    ),
)
def _(answer):
    """(weight shape, parameters) of nn.Conv2d(3, 16, kernel_size=(5, 3))."""
    shape, count = parts(answer, 2, "(weight shape, number of parameters)")
    tensor(
        list(shape),
        [16, 3, 5, 3],
        "the weight shape",
        "OIHW: (C_out, C_in, kH, kW).",
    )
    number(
        count, 16 * 3 * 5 * 3 + 16, "the number of parameters", "add the bias."
    )
    return "right: (16, 3, 5, 3), and 720 weights + 16 biases = 736."


@checker(
    "ex-intro-entry",
    hint=(
        "start from the sum of the Notation section with s = 1, d = 1 and "
        "p = 0: for output (n, o, i, j), which rows and columns of x does "
        "it read, and which part of the weight multiplies them? A slice and "
        ".sum() can replace the three sums."
    ),
)
def _(answer):
    """``output_entry(x, weight, bias, n, o, i, j)``: stride 1, no padding."""

    def reference(x, weight, bias, n, o, i, j):
        return F.conv2d(x, weight, bias)[n, o, i, j]

    x, weight = random(2, 3, 5, 6, seed=1), random(4, 3, 2, 3, seed=2)
    bias = random(4, seed=3)
    cases = [
        (x, weight, bias, *index) for index in [(0, 0, 0, 0), (1, 3, 1, 3)]
    ]
    return function(
        answer,
        reference,
        cases,
        "output_entry",
        "go through the Notation section's sum term by term: the image n, "
        "the kH × kW window of output (i, j) in every input channel, and "
        "the bias of channel o, added once.",
    )
