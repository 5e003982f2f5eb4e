"""The checkers of chapter 11's exercises (beyond)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..checking import (
    autograd_refused,
    checker,
    function,
    number,
    parts,
    ruled_out,
)


@checker(
    "ex-beyond-receptive",
    hint=(
        "go from the input up, keeping two numbers, the size and the jump, "
        "both 1 before the first layer. A pooling layer counts like a "
        "convolution."
    ),
)
def _(answer):
    """Receptive field (size, jump) of the exercise's five-layer stack."""
    size, jump = parts(answer, 2, "(size, jump)")
    number(
        jump,
        4,
        "the jump",
        "the jump changes only at a layer with a stride other than 1.",
    )
    number(
        size,
        42,
        "the size",
        "a layer adds (kernel - 1) × dilation × the jump of the layers "
        "below it; its own stride changes the jump only for the layers "
        "above.",
    )
    return "right: 5 -> 6 -> 14 -> 18 -> 42 pixels, windows 4 apart."


@checker(
    "ex-beyond-separable",
    hint=(
        "count the inputs one output value reads, for each layer, then "
        "multiply by the number of output values of that layer."
    ),
)
def _(answer):
    """Multiply-adds: full 5x5 conv 96 -> 192, and depthwise 5x5 + 1x1."""
    full, separable = parts(answer, 2, "(full, separable)")
    pixels = 14 * 14
    number(
        full,
        pixels * 192 * 96 * 25,
        "the full convolution's count",
        "each output value reads every input channel through the whole "
        "kernel.",
        tol=0,
    )
    number(
        separable,
        pixels * 96 * 25 + pixels * 192 * 96,
        "the separable count",
        "the depthwise layer has as many output channels as input "
        "channels, and each reads one of them; add the 1×1 layer's count.",
        tol=0,
    )
    return f"right: {full / separable:.1f} times fewer multiply-adds."


@checker(
    "ex-beyond-maxpool",
    hint=(
        "start from the section 'Pooling's backward passes': reshape the "
        "input so that each 2×2 window is a row of four entries, find in "
        "each row the position the gradient goes to, and test a window "
        "that holds its maximum twice."
    ),
)
def _(answer):
    """A function ``max_pool_backward(x, grad_output)``, 2x2, stride 2.

    It runs with autograd switched off and with ``F.unfold`` (and so
    ``layers.max_pool2d_backward``, which uses it), ``F.max_pool2d``,
    ``F.max_pool2d_with_indices`` and ``F.max_unpool2d`` replaced by
    functions that raise: the exercise asks for none of autograd, unfold, or
    PyTorch's own pooling and its indices.
    """

    def reference(x, grad_output):
        x = x.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(F.max_pool2d(x, 2), x, grad_output)
        return grad

    def by_hand(x, grad_output):
        without = "the exercise asks for the backward pass by hand"
        names = ("unfold", "max_pool2d", "max_pool2d_with_indices")
        with (
            autograd_refused(without),
            ruled_out(F, (*names, "max_unpool2d"), without),
        ):
            return answer(x, grad_output)

    cases = []
    for seed, shape in enumerate([(1, 1, 4, 4), (2, 3, 6, 4)]):
        generator = torch.Generator().manual_seed(seed)
        # small integers: ties, which go to the first maximum
        x = torch.randint(0, 3, shape, generator=generator)
        out = (shape[0], shape[1], shape[2] // 2, shape[3] // 2)
        grad_output = torch.randn(out, generator=generator)
        cases.append((x.to(torch.float64), grad_output.to(torch.float64)))
    return function(
        by_hand if callable(answer) else answer,
        reference,
        cases,
        "max_pool_backward",
        "of equal maxima, the gradient goes to the first in reading "
        "order only.",
    )
