"""The checkers of chapter 1's exercises (gradients by hand)."""

from __future__ import annotations

import torch

from ..checking import checker, function, number, parts, random, tensor


@checker(
    "ex-hand-arange",
    hint=(
        "with y.sum() every output's gradient is 1, so w.grad[u, v] is the "
        "sum of the pixels that w[u, v] multiplies: a 2×2 patch of x, "
        "shifted by (u, v)."
    ),
)
def _(answer):
    """``w.grad`` for x = 0..8 (3x3), a 2x2 kernel and ``y.sum()``."""
    tensor(
        answer,
        [[8, 12], [20, 24]],
        "w.grad",
        "entry (u, v) is the sum of the 2×2 patch x[u:u+2, v:v+2] "
        "it multiplies.",
    )
    return (
        "right: each entry is the sum of the patch "
        "its kernel entry multiplies."
    )


@checker(
    "ex-hand-centre",
    hint=(
        "with y.sum(), a pixel's gradient adds up the kernel entries that "
        "land on it, one for each window that reads it: find the windows "
        "that cover the pixel, and which entry of w each puts there."
    ),
)
def _(answer):
    """(centre, corner, x_01) for w = torch.arange(1.0, 10.0).view(3, 3)."""
    centre, corner, x01 = parts(answer, 3, "(centre, corner, x01)")
    number(
        centre,
        45,
        "the centre's gradient",
        "count the windows that cover the centre, and note which entry of "
        "w each puts on it.",
    )
    number(
        corner,
        1,
        "the corner's gradient",
        "which windows cover the corner pixel?",
    )
    number(
        x01,
        3,
        "x01's gradient",
        "list the windows that cover x01 and the entry of w each puts on it.",
    )
    return "right: w summed (45), w00 (1), w00 + w01 (3)."


@checker(
    "ex-hand-implement",
    hint=(
        "start from the weight-gradient formula of the section 'An upstream "
        "gradient that is not all ones', ∂L/∂w_uv = Σ g_ij x_(i+u, j+v): "
        "for one fixed (u, v), which pixels of x does the sum over (i, j) "
        "read?"
    ),
)
def _(answer):
    """A function ``grad_weight(x, g, kH, kW)`` for 2-D ``x`` and ``g``."""

    def reference(x, g, kH, kW):
        weight_size = (1, 1, kH, kW)
        return torch.nn.grad.conv2d_weight(
            x[None, None], weight_size, g[None, None]
        )[0, 0]

    cases = [
        (random(5, 6, seed=1), random(4, 4, seed=2), 2, 3),
        (random(4, 4, seed=3), random(4, 4, seed=4), 1, 1),
        (random(6, 5, seed=5), random(4, 3, seed=6), 3, 3),
    ]
    return function(
        answer,
        reference,
        cases,
        "grad_weight",
        "the result is kH × kW, entry (u, v) for kernel row u and column v; "
        "compare one entry with ∂L/∂w_uv = Σ g_ij x_(i+u, j+v).",
    )
