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
        "add up the input pixels this weight multiplies, one per window.",
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
            f"you gave {given}. Hint: write down where each window starts, "
            "stopping at the last one that fits whole in the 7 pixels, and "
            "the pixels it covers; list every pixel left uncovered."
        )
    return "right: pixels 2, 5 and 6 are never read."


@checker(
    "ex-loops-positions",
    hint=(
        "start from conv2d_seven_loops in 'The sum, as seven loops': keep "
        "only its loops over the output position (i, j), and compute the "
        "whole output pixel, every image and output channel, with one "
        "torch.einsum over the window; the letters left out of its output "
        "subscripts are summed."
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
