"""The checkers of chapter 8's exercises (chained gradients)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..checking import checker, function, parts, random, tensor


@checker(
    "ex-chain-block",
    hint=(
        "a 32×32 kernel at stride 32 tiles the image without overlap, so a "
        "pixel lies in exactly one block: integer division of its row and "
        "column by 32 gives the block, the remainders its place inside it."
    ),
)
def _(answer):
    """((block row, block col), (row, col) in the block) of pixel (40, 70)."""
    block, offset = parts(
        answer, 2, "((block row, block col), (row, col) in block)"
    )
    tensor(
        list(block),
        [1, 2],
        "the block",
        "blocks are 32 pixels: 40 // 32, 70 // 32.",
    )
    tensor(list(offset), [8, 6], "the offset", "40 % 32, 70 % 32.")
    return "right: only y[0, :, 1, 2] matters, through k[:, 0, 8, 6]."


def _measured():
    """A small version of the forum's setting: x, a stride-4 kernel k, y."""
    x, k = random(2, 3, 8, 8, seed=1), random(5, 1, 4, 4, seed=2)
    return x, k, random(2, 5, 2, 2, seed=3)


@checker(
    "ex-chain-leaky",
    hint=(
        "start from the source of chain.problem3 shown in the chapter: only "
        "the ReLU's step changes. Where the ReLU's mask zeroes the gradient "
        "(z1 ≤ 0), a leaky ReLU lets the slope times it through; the "
        "forward pass uses F.leaky_relu."
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
        "only the mask changes: torch.where(z1 > 0, grad_a1, 0.1 * grad_a1).",
    )


@checker(
    "ex-chain-bias",
    hint=(
        "a bias adds the same number to every pixel of its channel, so its "
        "gradient sums the gradient of z over images and pixels: "
        "chain.problem1 gives the gradient of its input z, then "
        "cn.grad.conv2d_bias sums it."
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
        "grad.conv2d_bias of the gradient of z.",
    )
