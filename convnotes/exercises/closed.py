"""The checkers of chapter 7's exercises (closed-form gradients)."""

from __future__ import annotations

from .. import grad
from ..checking import checker, function, number, parts, random


@checker(
    "ex-closed-full",
    hint=(
        "write the three outputs, y_i = w0·x_i + w1·x_(i+1) + w2·x_(i+2); a "
        "sample's gradient adds g_i times the weight it meets, over every "
        "output that reads it."
    ),
)
def _(answer):
    """(input gradient of samples 0 and 2) for g = (1, 2, 3), w = (4, 5, 6)."""
    first, middle = parts(answer, 2, "(sample 0, sample 2)")
    number(
        first, 4, "sample 0's gradient", "only output 0 reads it, under w0."
    )
    number(
        middle,
        28,
        "sample 2's gradient",
        "outputs 0, 1, 2 read it under w2, w1, w0: g0*w2 + g1*w1 + g2*w0.",
    )
    return "right: g0 w0 = 4 and g0 w2 + g1 w1 + g2 w0 = 28."


@checker(
    "ex-closed-1x1",
    hint=(
        "flatten x to (N, C_in, H·W) and g to (N, C_out, H·W): entry (o, c) "
        "pairs output channel o of g with input channel c of x over every "
        "pixel, a batched matrix product, then a sum over images."
    ),
)
def _(answer):
    """A function ``weight_grad_1x1(x, g)`` returning ``(C_out, C_in)``."""

    def reference(x, g):
        return grad.conv2d_weight(x, (g.shape[1], x.shape[1], 1, 1), g)[
            :, :, 0, 0
        ]

    cases = [
        (random(2, 3, 4, 5, seed=1), random(2, 6, 4, 5, seed=2)),
        (random(1, 1, 2, 2, seed=3), random(1, 2, 2, 2, seed=4)),
    ]
    return function(
        answer,
        reference,
        cases,
        "weight_grad_1x1",
        "(g.flatten(2) @ x.flatten(2).transpose(1, 2)).sum(0).",
    )


@checker(
    "ex-closed-implement",
    hint=(
        "the input gradient is a full correlation: pad g with kernel - 1 "
        "zeros on every side, then convolve it with the kernel flipped in "
        "both directions and its two channel dimensions swapped, as the "
        "chapter's grad.flipped_kernel does."
    ),
)
def _(answer):
    """A function ``input_gradient(g, w)``: stride 1, no padding, F.conv2d."""

    def reference(g, w):
        kH, kW = w.shape[2:]
        size = (
            g.shape[0],
            w.shape[1],
            g.shape[2] + kH - 1,
            g.shape[3] + kW - 1,
        )
        return grad.conv2d_input(size, w, g)

    cases = [
        (random(2, 4, 5, 5, seed=1), random(4, 3, 3, 2, seed=2)),
        (random(1, 1, 3, 4, seed=3), random(1, 2, 2, 2, seed=4)),
    ]
    return function(
        answer,
        reference,
        cases,
        "input_gradient",
        "pad g by k - 1, then F.conv2d with w.transpose(0, 1).flip(-1, -2).",
    )
