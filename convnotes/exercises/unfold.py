"""The checkers of chapter 5's exercises (unfold, matmul, fold)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..checking import checker, function, number, parts, random, tensor


@checker(
    "ex-unfold-shape",
    hint=(
        "F.unfold returns (N, C_in·kH·kW, L), with L the number of window "
        "positions, here as many as output pixels; compare its number of "
        "entries with the input's."
    ),
)
def _(answer):
    """(shape of F.unfold's result, how many times larger than the input)."""
    shape, ratio = parts(answer, 2, "(shape, ratio)")
    tensor(
        list(shape),
        [16, 75, 1024],
        "the shape",
        "(N, C * kH * kW, number of windows).",
    )
    number(
        ratio,
        25,
        "the ratio",
        "with padding 2 there are 32×32 windows of 3·25 entries each.",
    )
    return "right: (16, 75, 1024), 25 times the input."


@checker(
    "ex-unfold-1x1",
    hint=(
        "with a 1×1 kernel each column of F.unfold is one pixel's C_in "
        "values, so the weight is a (C_out, C_in) matrix: multiply it with "
        "the image seen as (N, C_in, H·W), then view the result as an "
        "image."
    ),
)
def _(answer):
    """A function ``conv1x1(x, w)``: a matrix product over channels."""
    cases = [
        (random(2, 5, 4, 3, seed=1), random(7, 5, 1, 1, seed=2)),
        (random(1, 1, 2, 2, seed=3), random(3, 1, 1, 1, seed=4)),
    ]
    return function(
        answer,
        F.conv2d,
        cases,
        "conv1x1",
        "w.view(C_out, C_in) @ x.view(N, C_in, H * W), reshaped.",
    )


@checker(
    "ex-unfold-implement",
    hint=(
        "the column gradient of image n is the weight as a (C_out, "
        "C_in·kH·kW) matrix, transposed, times grad_output[n] as (C_out, "
        "H_out·W_out); F.fold adds the columns back onto an image of "
        "input_size, as the backward of cn.unfold.Conv2dUnfold does."
    ),
)
def _(answer):
    """A function ``grad_input(grad_output, w, input_size)`` using F.fold."""

    def reference(grad_output, w, input_size):
        N, C_in = grad_output.shape[0], w.shape[1]
        input_size = (N, C_in, *input_size)
        return torch.nn.grad.conv2d_input(input_size, w, grad_output)

    cases = [
        (random(2, 4, 5, 3, seed=1), random(4, 3, 2, 3, seed=2), (6, 5)),
        (random(1, 2, 3, 3, seed=3), random(2, 1, 1, 1, seed=4), (3, 3)),
    ]
    return function(
        answer,
        reference,
        cases,
        "grad_input",
        "F.fold(w.view(C_out, -1).t() @ grad_output.view(N, C_out, -1), ...).",
    )
