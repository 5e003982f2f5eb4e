"""The checkers of chapter 6's exercises (validation and cost)."""

from __future__ import annotations

import torch

from ..checking import Wrong, checker, number


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
