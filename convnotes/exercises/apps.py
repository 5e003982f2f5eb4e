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
    replaced,
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
    if _same(col4, -4) and _same(col5, -4):
        raise Wrong(
            "both responses have the wrong sign: you flipped the kernel. "
            "F.conv2d is a correlation: the window's right column meets "
            "S_x's right column."
        )
    hint = (
        "which of the window's three columns read ones, and what does S_x "
        "weigh each column with?"
    )
    number(col4, 4, "the response in column 4", hint)
    number(col5, 4, "the response in column 5", hint)
    number(col8, 0, "the response in column 8", "both outer columns are ones.")
    return "right: 4 on both sides of the step, 0 on flat ground."


def _same(value, expected, tol=1e-9):
    """Whether ``value`` is the number ``expected``; False if not a number."""
    try:
        return abs(float(value) - expected) < tol
    except (TypeError, ValueError):
        return False


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
    said = function(
        yours,
        reference,
        cases,
        "gaussian_blur",
        "normalise the 1-D kernel to sum 1, and pad each 1-D convolution "
        "only along the direction its kernel extends.",
    )
    x, sigma, radius = cases[0]
    kernels = _conv2d_kernels(answer, x, sigma, radius)
    size = 2 * radius + 1
    if sorted(kernels) != [(1, size), (size, 1)]:
        made = ", ".join(f"{h}×{w}" for h, w in kernels) or "none"
        raise Wrong(
            f"the values are right, but gaussian_blur(x, {sigma}, {radius}) "
            f"called F.conv2d with kernels of size {made}: the exercise "
            f"asks for two 1-D convolutions, one {size}×1 and one 1×{size} "
            "(either order), not one 2-D kernel."
        )
    return said


def _conv2d_kernels(answer, x, sigma, radius):
    """The (height, width) of each kernel ``answer`` gives ``F.conv2d``,
    under either of its names (``F.conv2d is torch.conv2d``)."""
    kernels = []
    conv2d = F.conv2d

    def counting(input, weight, *args, **kwargs):
        kernels.append(tuple(weight.shape[-2:]))
        return conv2d(input, weight, *args, **kwargs)

    with replaced(F, "conv2d", counting):
        answer(x, sigma, radius)
    return kernels


def _runs_in_float32(answer, x, sigma, radius):
    """Whether ``answer`` runs on ``x`` made float32: a float32 kernel."""
    try:
        answer(x.float(), sigma, radius)
    except Exception:  # the learner's error, whatever its cause
        return False
    return True


@checker(
    "ex-apps-crawl",
    hint=(
        "one step keeps the same fraction of that error, whatever the error "
        "is; so do the next steps, and fractions of fractions multiply."
    ),
)
def _(answer):
    """The fraction of the weakest direction's error left after descend."""
    expected = (1 - 1 / 2009) ** 1500
    hint = (
        "what does one step leave of the error, and what do the steps after "
        "it do to what is left?"
    )
    if _same(answer, 1 - 1500 / 2009, tol=0.005):
        hint = "the steps' factors multiply: they do not add up."
    number(answer, expected, "the fraction left", hint, tol=0.005)
    return (
        f"right: {expected:.2f} of it is left after 1500 steps, so plain "
        "gradient descent crawls."
    )
