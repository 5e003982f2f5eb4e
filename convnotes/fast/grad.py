"""The closed-form gradients of chapter 7, made fast (chapter 9).

Same signatures and results as :func:`convnotes.grad.conv2d_input` and
:func:`convnotes.grad.conv2d_weight`; ordinary NCHW tensors in and out. Each
takes a route to the same sum suited to the arguments:

- windows that do not overlap (stride equal to the kernel, as in the
  forum question's measurement): the convolution is a matrix product over
  blocks of pixels, and so are both gradients (:func:`_tiles`);
- stride 1: the input gradient is an ordinary convolution with the flipped
  kernel, and the weight gradient one matrix product per kernel tap
  (:mod:`convnotes.fast.per_tap`);
- otherwise: the teaching versions, a transposed convolution and a
  correlation.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .. import grad
from ..arguments import grad_input_args, grad_weight_args
from ..geometry import crop
from .per_tap import weight_grad_per_tap

__all__ = ["conv2d_input", "conv2d_weight"]


def _tiles(args, kernel_size):
    """Whether the windows tile: stride = kernel, no dilation, one group."""
    return (
        args.stride == tuple(kernel_size)
        and args.dilation == (1, 1)
        and args.groups == 1
    )


def conv2d_input(
    input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1
):
    """:func:`convnotes.grad.conv2d_input`, routed by the arguments."""
    shape, args = grad_input_args(
        input_size, weight, grad_output, stride, padding, dilation, groups
    )
    g = grad_output if len(shape) == 4 else grad_output.unsqueeze(0)
    if _tiles(args, weight.shape[2:]):
        grad_input = _input_grad_tiled(g, weight, shape[-2:], args)
    elif args.stride == (1, 1):
        grad_input = _input_grad_flipped(g, weight, args)
    else:
        grad_input = grad.input_grad_transposed(g, weight, shape[-2:], args)
    if not grad_input.is_contiguous() and not _channels_last(grad_input):
        grad_input = grad_input.contiguous()  # the crops are views
    return grad_input if len(shape) == 4 else grad_input.squeeze(0)


def _input_grad_tiled(g, weight, input_hw, args):
    """Per output pixel, its gradient times the weight matrix is its tile's."""
    N, C_out, H_out, W_out = g.shape
    _, C_in, kH, kW = weight.shape
    rows = g.permute(0, 2, 3, 1).reshape(-1, C_out)  # one row per output pixel
    tiles = rows @ weight.reshape(C_out, -1)  # (pixels, C_in * kH * kW)
    tiles = tiles.view(N, H_out, W_out, C_in, kH, kW).permute(0, 3, 1, 4, 2, 5)
    reached = tiles.reshape(N, C_in, H_out * kH, W_out * kW)
    H_pad, W_pad = args.padded_size(input_hw)
    # rows and columns at the end that no window read
    unreached = (0, W_pad - W_out * kW, 0, H_pad - H_out * kH)
    return crop(F.pad(reached, unreached), args)


def _input_grad_flipped(g, weight, args):
    """The stride-1 input gradient as a convolution with the flipped kernel.

    As :func:`convnotes.grad.input_grad_flipped`, and also for uneven padding
    (with ``F.pad``) or padding wider than the kernel reaches (a negative pad
    crops). Like a convolution, it gives a channels-last result when ``g`` or
    ``weight`` is channels last.
    """
    kH, kW = weight.shape[2:]
    flipped = grad.flipped_kernel(weight, args.groups)
    if _channels_last(weight):
        # made explicit: with one channel, channels last is ambiguous
        flipped = flipped.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
    left, right, top, bottom = args.pad
    d_h, d_w = args.dilation
    full = (
        d_w * (kW - 1) - left,
        d_w * (kW - 1) - right,
        d_h * (kH - 1) - top,
        d_h * (kH - 1) - bottom,
    )
    if full[0] == full[1] >= 0 and full[2] == full[3] >= 0:
        padding = (full[2], full[0])
    else:  # uneven, or more forward padding than the kernel reaches
        g, padding = F.pad(g, full), 0
    return F.conv2d(g, flipped, None, 1, padding, args.dilation, args.groups)


def _channels_last(t):
    """Whether ``t`` is stored channels last, not merely readable both ways."""
    last = t.is_contiguous(memory_format=torch.channels_last)
    return last and not t.is_contiguous()


def conv2d_weight(
    input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1
):
    """:func:`convnotes.grad.conv2d_weight`, routed by the arguments."""
    shape, args = grad_weight_args(
        input, weight_size, grad_output, stride, padding, dilation, groups
    )
    x = input if input.dim() == 4 else input.unsqueeze(0)
    g = grad_output if input.dim() == 4 else grad_output.unsqueeze(0)
    if _tiles(args, shape[2:]):
        return _weight_grad_tiled(x, g, shape, args)
    if args.stride == (1, 1):
        return weight_grad_per_tap(x, g, shape, args)
    return grad.weight_grad_correlation(x, g, shape, args)


def _weight_grad_tiled(x, g, weight_shape, args):
    """Output pixels' gradients times their tiles, summed: one product."""
    N, C_out, H_out, W_out = g.shape
    _, C_in, kH, kW = weight_shape
    padded = F.pad(x, args.pad)[:, :, : H_out * kH, : W_out * kW]
    tiles = padded.reshape(N, C_in, H_out, kH, W_out, kW)
    tiles = tiles.permute(0, 2, 4, 1, 3, 5)  # (N, H_out, W_out, C_in, kH, kW)
    rows = g.permute(0, 2, 3, 1).reshape(-1, C_out)  # one row per output pixel
    return (rows.T @ tiles.reshape(rows.shape[0], -1)).view(weight_shape)
