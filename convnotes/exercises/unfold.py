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
        "count the windows (with this padding, how does the output's size "
        "compare with the input's?) and the entries in one column, then "
        "divide the result's number of entries by the input's.",
    )
    return "right: (16, 75, 1024), 25 times the input."


@checker(
    "ex-unfold-1x1",
    hint=(
        "start by printing F.unfold(x, 1) beside x.view(N, C_in, H·W) for "
        "a small x; then write the convolution as in 'Windows as columns', "
        "Y_n = W X_n, with the weight flattened to a matrix."
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
        "the matrix product must sum over the C_in input channels; print "
        "the shapes of both operands and of the product, and compare them "
        "with (N, C_out, H, W).",
    )


@checker(
    "ex-unfold-implement",
    hint=(
        "go backward through the forward pass of 'The backward pass, from "
        "the chain rule on the matrix form': first from the upstream "
        "gradient to the columns' gradient, then from the columns back "
        "onto the image."
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
        "the column gradient has one row per (input channel, kernel row, "
        "kernel column), in F.unfold's order; check its shape, then fold it "
        "with the input's height and width and the kernel's size.",
    )
