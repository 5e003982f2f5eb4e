"""Convolution as unfold -> matmul -> fold, with a hand-written backward pass.

Derived in chapter 5 (``book/05_unfold_matmul_fold.ipynb``). ``F.unfold``
copies every kernel window into a column, so the convolution becomes one
matrix product per group; its backward pass is two more matrix products and
``F.fold``, which adds each column back onto the pixels it came from.

Building the columns a block at a time, reusing their memory, and other
optimisations live in :mod:`convnotes.fast` (chapter 9).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .arguments import conv2d_function
from .geometry import crop

__all__ = ["Conv2dUnfold", "columns", "conv2d_unfold"]


def columns(input, kernel_size, args):
    """The windows of ``input`` as columns, one per output pixel.

    Shape ``(N, G, C_in_g * kH * kW, H_out * W_out)``.

    ``args.pad`` may pad more after than before, which ``F.unfold`` cannot.
    """
    padded = F.pad(input, args.pad)  # F.unfold can only pad both sides alike
    cols = F.unfold(padded, kernel_size, args.dilation, 0, args.stride)
    return cols.unflatten(1, (args.groups, -1))


class Conv2dUnfold(torch.autograd.Function):
    """unfold -> matmul; backward: two matmuls and fold.

    Per group, with ``W`` the ``(C_out_g, C_in_g * kH * kW)`` weight matrix and
    ``X`` an image's columns (one per output pixel):

    - forward: ``Y = W @ X``;
    - ``grad_W = sum over the images of grad_Y @ X.T``;
    - ``grad_X = W.T @ grad_Y``, folded back onto the input.

    Backward uses only differentiable operations on the saved tensors, so
    autograd can differentiate it again (double backward).
    """

    @staticmethod
    def forward(ctx, input, weight, bias, args):
        ctx.save_for_backward(input, weight)
        ctx.args = args
        X = columns(input, weight.shape[2:], args)  # a column per window
        W = weight.reshape(args.groups, weight.shape[0] // args.groups, -1)
        Y = W @ X  # (N, G, C_out_g, H_out*W_out)
        output = Y.reshape(input.shape[0], weight.shape[0], *args.output_size)
        if bias is not None:
            output = output + bias.view(1, -1, 1, 1)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        args = ctx.args
        needs_input, needs_weight, needs_bias, _ = ctx.needs_input_grad
        G, kernel_size = args.groups, weight.shape[2:]
        W = weight.reshape(G, weight.shape[0] // G, -1)
        grad_Y = grad_output.flatten(2).unflatten(1, (G, -1))  # laid out as Y
        grad_input = grad_weight = grad_bias = None
        if needs_weight:
            X = columns(input, kernel_size, args)  # unfolded again, not saved
            grad_W = (grad_Y @ X.transpose(-1, -2)).sum(0)  # over the images
            grad_weight = grad_W.view(weight.shape)
        if needs_input:
            grad_X = W.transpose(-1, -2) @ grad_Y  # laid out as X
            grad_X = grad_X.flatten(1, 2)  # (N, C_in*kH*kW, H_out*W_out)
            padded_size = args.padded_size(input.shape)
            grad_padded = F.fold(
                grad_X, padded_size, kernel_size, args.dilation, 0, args.stride
            )
            grad_input = crop(grad_padded, args)
        if needs_bias:
            grad_bias = grad_output.sum((0, 2, 3))
        return grad_input, grad_weight, grad_bias, None


conv2d_unfold = conv2d_function(
    Conv2dUnfold,
    "conv2d_unfold",
    "2-D convolution as unfold -> matmul -> fold, backward written by hand "
    "(chapter 5).",
)
