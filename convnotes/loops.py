"""Convolution as a loop over kernel taps, with a hand-written backward pass.

Derived in chapter 4 (``book/04_nested_loops.ipynb``). The convolution sum

    output[n, o, i, j] = bias[o] + sum over c, u, v of
        weight[o, c, u, v] * padded[n, c, s*i + d*u, s*j + d*v]

is computed with the loops over groups and kernel taps (u, v) written out;
the sums over batch, channels and output positions for one tap are one
``einsum``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .arguments import conv2d_function
from .geometry import crop, tap_slices

__all__ = [
    "Conv2dLoops",
    "conv2d_loops",
    "loops_forward",
    "loops_grad_input",
    "loops_grad_weight",
]


def _group_channels(weight, groups):
    """Per group, the slices of input and output channels it connects."""
    C_out, C_in_g = weight.shape[:2]
    C_out_g = C_out // groups
    for g in range(groups):
        in_ch = slice(g * C_in_g, (g + 1) * C_in_g)
        out_ch = slice(g * C_out_g, (g + 1) * C_out_g)
        yield in_ch, out_ch


def loops_forward(input, weight, bias, args):
    """The convolution of a batched ``input``, one kernel tap at a time."""
    padded = F.pad(input, args.pad)
    N, C_out = input.shape[0], weight.shape[0]
    output = input.new_zeros(N, C_out, *args.output_size)
    for in_ch, out_ch in _group_channels(weight, args.groups):
        for u, v, rows, cols in tap_slices(args, weight.shape[2:]):
            patch = padded[:, in_ch, rows, cols]  # (N, C_in_g, H_out, W_out)
            tap = weight[out_ch, :, u, v]  # (C_out_g, C_in_g)
            output[:, out_ch] += torch.einsum("oc,nchw->nohw", tap, patch)
    if bias is not None:
        output += bias.view(1, -1, 1, 1)
    return output


def loops_grad_input(grad_output, weight, input_shape, args):
    """d loss / d input: a tap adds ``tap.T @ grad_output`` where it read."""
    N, C_in = input_shape[:2]
    H_pad, W_pad = args.padded_size(input_shape)
    grad_padded = grad_output.new_zeros(N, C_in, H_pad, W_pad)
    for in_ch, out_ch in _group_channels(weight, args.groups):
        grad_out = grad_output[:, out_ch]  # (N, C_out_g, H_out, W_out)
        for u, v, rows, cols in tap_slices(args, weight.shape[2:]):
            tap = weight[out_ch, :, u, v]  # (C_out_g, C_in_g)
            grad_patch = torch.einsum("oc,nohw->nchw", tap, grad_out)
            grad_padded[:, in_ch, rows, cols] += grad_patch
    return crop(grad_padded, args)


def loops_grad_weight(grad_output, input, weight_shape, args):
    """d loss / d weight: tap (u, v) gets grad_output times the patch read."""
    padded = F.pad(input, args.pad)
    grad_weight = grad_output.new_zeros(weight_shape)
    for in_ch, out_ch in _group_channels(grad_weight, args.groups):
        grad_out = grad_output[:, out_ch]  # (N, C_out_g, H_out, W_out)
        for u, v, rows, cols in tap_slices(args, weight_shape[2:]):
            patch = padded[:, in_ch, rows, cols]  # (N, C_in_g, H_out, W_out)
            grad_tap = torch.einsum("nohw,nchw->oc", grad_out, patch)
            grad_weight[out_ch, :, u, v] = grad_tap
    return grad_weight


class Conv2dLoops(torch.autograd.Function):
    """Forward by :func:`loops_forward`; backward by the two gradient loops.

    The backward uses only differentiable operations on the saved tensors, so
    autograd can differentiate it again (double backward).
    """

    @staticmethod
    def forward(ctx, input, weight, bias, args):
        ctx.save_for_backward(input, weight)
        ctx.args = args
        return loops_forward(input, weight, bias, args)

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        needs_input, needs_weight, needs_bias, _ = ctx.needs_input_grad
        grad_input = grad_weight = grad_bias = None
        if needs_input:
            grad_input = loops_grad_input(
                grad_output, weight, input.shape, ctx.args
            )
        if needs_weight:
            grad_weight = loops_grad_weight(
                grad_output, input, weight.shape, ctx.args
            )
        if needs_bias:
            grad_bias = grad_output.sum((0, 2, 3))  # each output adds bias[o]
        return grad_input, grad_weight, grad_bias, None


conv2d_loops = conv2d_function(
    Conv2dLoops,
    "conv2d_loops",
    "2-D convolution as a loop over kernel taps, backward written by hand "
    "(chapter 4).",
)
