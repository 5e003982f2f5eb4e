"""The checkers of chapter 6's exercises (validation and cost)."""

from __future__ import annotations

import torch

from ..checking import Wrong, checker, number


@checker(
    "ex-validate-bias",
    hint=(
        "follow the gradient back from the loss: what the mean gives each "
        "output, what the LeakyReLU does to it for a positive input, and "
        "which outputs one channel's bias is added to."
    ),
)
def _(answer):
    """The bias gradient of the chapter's network when all is positive."""
    values = torch.as_tensor(answer, dtype=torch.float64).flatten()
    if values.numel() not in (1, 8):
        raise Wrong(
            "pass one number (it is the same for every channel) or all 8."
        )
    for value in values:
        number(
            value,
            0.125,
            "the bias gradient",
            "count the outputs the mean averages over, and those one "
            "channel's bias is added to.",
        )
    return "right: 1/8 for every channel."
