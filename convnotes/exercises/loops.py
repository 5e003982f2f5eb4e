"""The checkers of chapter 4's exercises (nested loops)."""

from __future__ import annotations

import torch.nn.functional as F

from ..checking import Wrong, checker, function, parts, random, tensor


@checker(
    "ex-loops-predict",
    hint=(
        "with a sum loss every output's gradient is 1: a weight's gradient "
        "adds up the inputs it multiplies, and an input's gradient adds up "
        "the kernel entries of the windows that read it."
    ),
)
def _(answer):
    """(grad_weight 2x2, grad_input 3x3): ones, a 2x2 kernel of ones, sum."""
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
    return (
        "right: 4s for the weight; for the input, "
        "how many windows read each pixel."
    )


@checker(
    "ex-loops-dead-pixels",
    hint=(
        "windows start every 3 pixels from pixel 0, as long as a whole "
        "window fits in the 7; a pixel that no window covers gets a zero "
        "gradient."
    ),
)
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


@checker(
    "ex-loops-positions",
    hint=(
        "make a zero (N, C_out, H_out, W_out) output and loop over its "
        "positions (i, j): the input patch under the kernel there, "
        "contracted with w over channels, kernel rows and kernel columns in "
        "one torch.einsum, gives y[:, :, i, j] for every image and output "
        "channel."
    ),
)
def _(answer):
    """A function ``conv2d_positions(x, w)``: stride 1, no padding."""
    cases = [
        (random(2, 3, 5, 6, seed=1), random(4, 3, 2, 3, seed=2)),
        (random(1, 1, 4, 4, seed=3), random(2, 1, 3, 3, seed=4)),
    ]
    return function(
        answer,
        F.conv2d,
        cases,
        "conv2d_positions",
        "compare with F.conv2d(x, w).",
    )
