"""The checkers of chapter 2's exercises (channels, stride and padding)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..checking import Wrong, checker, number, parts, tensor


@checker(
    "ex-channels-stride-unused",
    hint=(
        "the size is floor((H_in - kH) / stride) + 1; windows start every "
        "stride pixels from 0, and a pixel that no window covers gets no "
        "gradient (plotting.usage_counts counts the windows that read each "
        "pixel)."
    ),
)
def _(answer):
    """(output size, pixels with no gradient): 6x6, 3x3, stride 2."""
    size, unused = parts(answer, 2, "(output size, unused pixels)")
    for side in size if isinstance(size, tuple | list) else (size,):
        number(side, 2, "the output size", "count the window positions.")
    try:
        given = {(int(r), int(c)) for r, c in unused}
    except (TypeError, ValueError):
        raise Wrong("list the unused pixels as (row, col) pairs.") from None
    expected = {(r, c) for r in range(6) for c in range(6) if r == 5 or c == 5}
    missing, extra = sorted(expected - given), sorted(given - expected)
    if missing:
        raise Wrong(
            f"pixel {missing[0]} gets no gradient, but is not in your list."
        )
    if extra:
        raise Wrong(
            f"pixel {extra[0]} is read by a window "
            "(plotting.usage_counts(6, 3, stride=2) counts them)."
        )
    return (
        "right: the last row and the last column (11 pixels) are never read."
    )


@checker(
    "ex-channels-weight-grad",
    hint=(
        "start from chapter 1's 'Each weight gradient is a patch sum' and "
        "the sum of 'Several input channels': with y.sum() every output's "
        "gradient is 1; write out which pixels weight[1, 2, u, v] "
        "multiplies, then do the same for weight[0, 2, u, v]."
    ),
)
def _(answer):
    """``weight.grad[1, 2]`` for x = torch.arange(75.0).view(1, 3, 5, 5)."""
    x = torch.arange(75.0, dtype=torch.float64).view(1, 3, 5, 5)
    expected = F.avg_pool2d(x[:, 2:3], 3, stride=1)[0, 0] * 9
    tensor(
        answer,
        expected,
        "weight.grad[1, 2]",
        "which pixels does tap (u, v) of weight[1, 2] multiply?",
    )
    return (
        "right: patch sums of input channel 2, "
        "the same for every output channel."
    )


@checker(
    "ex-channels-same-even",
    hint=(
        'at stride 1, padding "same" adds kW - 1 columns and kH - 1 rows in '
        "all, which an even kernel cannot split evenly; plotting.plot_step "
        'with padding="same" shows on which side the extra one goes.'
    ),
)
def _(answer):
    """The padding (left, right, top, bottom) of "same" for a 4x4 kernel."""
    pad = parts(answer, 4, "(left, right, top, bottom)")
    if tuple(pad) == (2, 1, 2, 1):
        raise Wrong(
            "your extra row and column are on the other side from the "
            "picture's: look again at where PyTorch put them."
        )
    tensor(
        list(pad),
        [1, 2, 1, 2],
        "(left, right, top, bottom)",
        "read each side off the picture; F.pad takes them in this order.",
    )
    return "right: one before, two after, in both directions."
