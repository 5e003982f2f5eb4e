"""The checkers of chapter 10's exercises (applications)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..checking import (
    Wrong,
    checker,
    function,
    number,
    parts,
    random,
    tensor,
)


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
        "read 'Gaussian blur': the 2-D kernel is the outer product of a 1-D "
        "one with itself. Start with the 1-D kernel of size 2·radius + 1, "
        "made with dtype=x.dtype (the images checked are float64), and "
        "check that it sums to 1; F.conv2d's padding also takes a (rows, "
        "columns) pair."
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

    def yours(x, sigma, radius):
        try:
            return answer(x, sigma, radius)
        except RuntimeError as error:  # PyTorch's, for mixed dtypes
            if not _runs_in_float32(answer, x, sigma, radius):
                raise
            raise RuntimeError(
                f"{str(error).rstrip('.')}. The images x are {x.dtype} and "
                "your kernel is not: build the kernel with dtype=x.dtype."
            ) from None

    if not callable(answer):
        raise Wrong(f"pass the function itself, got {type(answer).__name__}.")
    return function(
        yours,
        reference,
        cases,
        "gaussian_blur",
        "normalise the 1-D kernel to sum 1, and pad each 1-D convolution "
        "only along the direction its kernel extends.",
    )


def _runs_in_float32(answer, x, sigma, radius):
    """Whether ``answer`` runs on ``x`` made float32: a float32 kernel."""
    try:
        answer(x.float(), sigma, radius)
    except Exception:  # the learner's error, whatever its cause
        return False
    return True
