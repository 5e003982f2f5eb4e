"""The checkers of chapter 8's exercises (chained gradients)."""

from __future__ import annotations

from contextlib import contextmanager

import torch
import torch.nn.functional as F

from .. import chain, grad
from ..checking import (
    Wrong,
    autograd_refused,
    checker,
    function,
    parts,
    random,
    returned,
    ruled_out,
    tensor,
)


@checker(
    "ex-chain-block",
    hint=(
        "start from the section 'Problem 1: one strided convolution': at "
        "stride 32 the 32×32 windows tile the image without overlap. First "
        "write which rows each row of windows covers, and find the one "
        "that holds row 100; then do the same for column 10. The gradient "
        "there is a sum of residuals, each times the kernel entry that "
        "touched the pixel."
    ),
)
def _(answer):
    """((block row, block col), (row, col) in the block, pixel_gradient).

    ``pixel_gradient(images, kernels, measured)`` is dL/dx at pixel
    (100, 10) of image 0, written as the sum; it runs with autograd and the
    package's and PyTorch's input gradients switched off.
    """
    block, offset, pixel_gradient = parts(
        answer,
        3,
        "((block row, block col), (row, col) in block, pixel_gradient)",
    )
    tensor(
        list(block),
        [3, 0],
        "the block",
        "in 'Problem 1' the windows tile the image: the block is the "
        "window whose rows and columns hold the pixel, counted from 0.",
    )
    tensor(
        list(offset),
        [4, 10],
        "the offset",
        "it is the pixel's row and column counted from its block's first "
        "row and first column, from 0.",
    )
    if not callable(pixel_gradient):
        kind = type(pixel_gradient).__name__
        raise Wrong(f"pass pixel_gradient, the function itself, got {kind}.")
    for seed in (11, 12):
        images, kernels = (
            random(2, 1, 128, 128, seed=seed),
            random(512, 1, 32, 32, seed=seed + 10),
        )
        measured = random(2, 512, 4, 4, seed=seed + 20)
        x = images.clone().requires_grad_()
        loss = 0.5 * (F.conv2d(x, kernels, stride=32) - measured).pow(2).sum()
        (expected,) = torch.autograd.grad(loss, x)
        with _gradients_refused():
            call = "pixel_gradient(images, kernels, measured)"
            (got,) = returned(
                pixel_gradient, (images, kernels, measured), call, 1
            )
        tensor(
            got,
            expected[0, 0, 100, 10],
            "pixel_gradient's value",
            "one term per kernel m: the residual of that kernel's output at "
            "the block, times the kernel entry at the offset.",
            reveal=True,
        )
    return "right: only y[0, :, 3, 0] matters, through k[:, 0, 4, 10]."


@contextmanager
def _gradients_refused():
    """Autograd, problem 1's gradient and every input gradient switched off."""
    why = "write the gradient at the pixel as the sum of its terms"
    with (
        autograd_refused(why),
        ruled_out(chain, ("problem1",), why),
        ruled_out(grad, ("conv2d_input",), why),
        ruled_out(torch.nn.grad, ("conv2d_input",), why),
        ruled_out(F, ("conv_transpose2d",), why),
    ):
        yield


def _measured():
    """A small version of the forum's setting: x, a stride-4 kernel k, y."""
    x, k = random(2, 3, 8, 8, seed=1), random(5, 1, 4, 4, seed=2)
    return x, k, random(2, 5, 2, 2, seed=3)


@checker(
    "ex-chain-leaky",
    hint=(
        "start from step 3 of the list in 'Problem 3: convolution, ReLU, "
        "convolution' and the source of chain.problem3 below it. First "
        "write the leaky ReLU's derivative on each side of 0 and set it "
        "beside the ReLU's; then read each line of chain.problem3 and ask "
        "whether it uses that derivative."
    ),
)
def _(answer):
    """``problem3_leaky(x, w1, w2, k, y, stride)`` -> (loss, dx, dw1, dw2)."""

    def reference(x, w1, w2, k, y, stride):
        x, w1, w2 = (t.clone().requires_grad_() for t in (x, w1, w2))
        z = F.conv2d(
            F.leaky_relu(F.conv2d(x, w1, padding=1), 0.1), w2, padding=1
        )
        loss = 0.5 * (F.conv2d(z, k, stride=stride) - y).pow(2).sum()
        return (loss.detach(), *torch.autograd.grad(loss, (x, w1, w2)))

    x, k, y = _measured()
    w1, w2 = random(4, 3, 3, 3, seed=4), random(1, 4, 3, 3, seed=5)
    return function(
        answer,
        reference,
        [(x, w1, w2, k, y, 4)],
        "problem3_leaky",
        "compare with step 3 of problem 3's list: which derivative does "
        "the mask stand for, and what is the leaky ReLU's on each side "
        "of 0?",
    )


@checker(
    "ex-chain-bias",
    hint=(
        "start from the source of chain.problem2 in 'Problem 2: a 3×3 "
        "convolution in front': the bias changes z, not the steps after "
        "it. First find the line that gives the gradient of z; then read "
        "chapter 7's section 'The bias gradient: a sum' for what b1 needs "
        "from it."
    ),
)
def _(answer):
    """A function ``bias_gradient(x, w1, b1, k, y, stride)`` -> dL/db1."""

    def reference(x, w1, b1, k, y, stride):
        b1 = b1.clone().requires_grad_()
        z = F.conv2d(x, w1, b1, padding=1)
        loss = 0.5 * (F.conv2d(z, k, stride=stride) - y).pow(2).sum()
        return torch.autograd.grad(loss, b1)[0]

    x, k, y = _measured()
    w1 = random(1, 3, 3, 3, seed=4)
    return function(
        answer,
        reference,
        [(x, w1, random(1, seed=5), k, y, 4)],
        "bias_gradient",
        "see chapter 7's section 'The bias gradient: a sum': which "
        "gradient does the bias collect, and over which dimensions?",
    )


def _stride2_loss(x, w1, w2):
    """``L = sum(z2^2)``, ``z2 = conv(relu(conv(x, w1, padding 1)), w2)``.

    The second convolution at stride 2.
    """
    z1 = F.conv2d(x, w1, padding=1)
    return F.conv2d(F.relu(z1), w2, stride=2).pow(2).sum()


_NAMES = ("grad_x (output 0)", "grad_w1 (output 1)", "grad_w2 (output 2)")


def _stride2_fault(got, expected):
    """One message for the first fault, read from dL/dw2 back to dL/dx."""
    try:
        got = [torch.as_tensor(g, dtype=torch.float64) for g in got]
    except (TypeError, ValueError, RuntimeError):
        return "each output should be a tensor."
    for i in (2, 1, 0):  # shapes first, in the order they are computed
        if got[i].shape != expected[i].shape:
            return (
                f"{_NAMES[i]} has shape {tuple(got[i].shape)}, expected "
                f"{tuple(expected[i].shape)}."
            )

    def close(a, b):
        return torch.allclose(a, b.double(), rtol=1e-6, atol=1e-6)

    right = [close(g, e) for g, e in zip(got, expected, strict=True)]
    if all(right):
        return None
    if not right[2]:
        if close(2 * got[2], expected[2]):
            return (
                "grad_w2 (output 2) is half of what it should be: what is "
                "the derivative of z2² with respect to z2?"
            )
        return (
            "grad_w2 (output 2) is wrong: it depends only on a1 and the "
            "gradient of z2; check that gradient and the stride of the "
            "convolution it goes back through."
        )
    if not right[1]:
        return (
            "grad_w2 (output 2) is right but grad_w1 (output 1) is wrong: "
            "the fault is between z2 and z1. Which stride and which input "
            "shape does the gradient of a1 need, and what does the ReLU "
            "do to it?"
        )
    return (
        "grad_w1 and grad_w2 are right but grad_x (output 0) is wrong: "
        "check the last call, through the first convolution."
    )


@checker(
    "ex-chain-stride2",
    hint=(
        "start from the source of chain.problem3 in 'Problem 3: "
        "convolution, ReLU, convolution' and its data-flow figure: this "
        "chain differs in its loss and in one stride. First write the "
        "gradient of L with respect to z2; then, for each cn.grad call you "
        "copy, ask which stride and which input shape its convolution "
        "had. Autograd's backward pass is switched off while the check "
        "runs your function, even inside torch.enable_grad()."
    ),
)
def _(answer):
    """``stride2_gradients(x, w1, w2)`` -> (dL/dx, dL/dw1, dL/dw2)."""
    if not callable(answer):
        raise Wrong(f"pass the function itself, got {type(answer).__name__}.")
    w1, w2 = random(4, 3, 3, 3, seed=6), random(2, 4, 3, 3, seed=7)
    for size in (9, 8):
        x = random(2, 3, size, size, seed=size)
        call = f"stride2_gradients on a {size}×{size} input"
        why = "build the gradients with cn.grad and the ReLU's mask"
        with autograd_refused(why):
            got = returned(answer, (x, w1, w2), call, 3)
        x_, w1_, w2_ = (t.clone().requires_grad_() for t in (x, w1, w2))
        expected = torch.autograd.grad(
            _stride2_loss(x_, w1_, w2_), (x_, w1_, w2_)
        )
        fault = _stride2_fault(got, expected)
        if fault:
            raise Wrong(f"{call}: {fault}")
    return "right on 9×9 and 8×8 inputs."
