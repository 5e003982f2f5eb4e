"""The checkers of chapter 6's exercises (validation and cost)."""

from __future__ import annotations

import torch

from ..checking import Wrong, checker, number


@checker(
    "ex-validate-bias",
    hint=(
        "when every input to the LeakyReLU is positive it passes gradients "
        "unchanged; the mean gives each output the gradient 1 / (number of "
        "outputs), and a bias is added to every output of its channel."
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
            "the mean spreads 1 over all outputs; "
            "one channel holds 1/8 of them.",
        )
    return "right: 1/8 for every channel."
