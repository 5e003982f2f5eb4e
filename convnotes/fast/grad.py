"""The closed-form gradients of chapter 7, made fast (chapter 9).

Same signatures and results as :func:`convnotes.grad.conv2d_input` and
:func:`convnotes.grad.conv2d_weight`; ordinary NCHW tensors in and out. Each
takes a route to the same sum suited to the arguments:

- windows that do not overlap (stride equal to the kernel, as in the
  forum question's measurement): the convolution is a matrix product over
  blocks of pixels, and so are both gradients (:func:`_tiles`);
- stride 1, when the output gradient has few channels: its columns
  (:func:`output_grad_columns`), no larger than the input, times the flipped
  kernel's matrix for the input gradient (:func:`input_grad_columns`), and
  times the input's pixels for the weight gradient
  (:func:`weight_grad_columns`);
- stride 1 otherwise: the input gradient is an ordinary convolution with the
  flipped kernel; the weight gradient one matrix product per kernel tap
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
from .unfold import unfold_padded

__all__ = [
    "conv2d_input",
    "conv2d_weight",
    "input_grad_columns",
    "output_grad_columns",
    "weight_grad_columns",
]


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
    elif args.stride == (1, 1) and _few_channels(weight.shape, args):
        grad_input = input_grad_columns(g, weight, args)
    elif args.stride == (1, 1):
        grad_input = _input_grad_flipped(g, weight, args)
    else:
        grad_input = grad.input_grad_transposed(g, weight, shape[-2:], args)
    # NCHW, unless an operand is channels last (as for a convolution): the
    # crops are views, and a 1x1 kernel's tiles are channels last
    last = _channels_last(grad_output) or _channels_last(weight)
    if not grad_input.is_contiguous() and not (
        last and _channels_last(grad_input)
    ):
        grad_input = grad_input.contiguous()
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
    full = _full_padding((kH, kW), args)
    if full[0] == full[1] >= 0 and full[2] == full[3] >= 0:
        padding = (full[2], full[0])
    else:  # uneven, or more forward padding than the kernel reaches
        g, padding = F.pad(g, full), 0
    return F.conv2d(g, flipped, None, 1, padding, args.dilation, args.groups)


def _full_padding(kernel_size, args):
    """``(left, right, top, bottom)``: the padding of the output gradient that
    makes the stride-1 input gradient a convolution with the flipped kernel.

    On each side, as far as the dilated kernel reaches, ``d * (k - 1)``, less
    the forward's padding there; negative where the forward padded more than
    that (``F.pad`` then crops).
    """
    kH, kW = kernel_size
    left, right, top, bottom = args.pad
    d_h, d_w = args.dilation
    return (
        d_w * (kW - 1) - left,
        d_w * (kW - 1) - right,
        d_h * (kH - 1) - top,
        d_h * (kH - 1) - bottom,
    )


def _few_channels(weight_shape, args):
    """Whether the output gradient's columns are no larger than the input:
    ``C_out * kH * kW <= C_in``, one group."""
    C_out, C_in, kH, kW = weight_shape
    return args.groups == 1 and C_out * kH * kW <= C_in


def output_grad_columns(g, weight_shape, args):
    """The columns of ``g``, fully padded: ``(N, C_out * kH * kW, H * W)``.

    Stride 1, one group; ``H, W`` the input's size. Laid out as by
    ``F.unfold``, in one copy from a strided view (chapter 9's "One copy in").
    Row ``(o, u, v)`` at input pixel ``q`` holds the gradient of the output
    pixel that tap ``(kH - 1 - u, kW - 1 - v)`` joins to ``q`` (zero where
    there is none): the factor that both gradients take from ``g``.
    """
    _check_stride_one("output_grad_columns", args, weight_shape)
    kernel_size = tuple(weight_shape[2:])
    padded = F.pad(g, _full_padding(kernel_size, args))
    return unfold_padded(padded, kernel_size, args)


def _check_stride_one(name, args, weight_shape):
    """The columns' routes: stride 1 and one group, or a ValueError."""
    if args.stride != (1, 1) or args.groups != 1:
        raise ValueError(
            f"{name}: expected args with stride (1, 1) and one group, got "
            f"stride={args.stride}, groups={args.groups} "
            f"(weight.shape={tuple(weight_shape)})"
        )


def input_grad_columns(g, weight, args, out=None, columns=None):
    """The stride-1 input gradient as one matrix product per image.

    One group. The convolution of ``g`` with the flipped kernel, written as
    chapter 5 writes a convolution: the columns of ``g``, fully padded, times
    the flipped kernel as a weight matrix. With few output-gradient channels
    (``dL/dz2`` has one) the columns are small, a few numbers per pixel, no
    more than the result holds. ``columns``: :func:`output_grad_columns` of
    ``g``, if the caller has made them already.

    NCHW, or channels last when ``g`` or ``weight`` is, as a convolution's
    result would be; or into ``out``, a channels-last tensor of the input's
    shape, if given. Each pixel's channels are then one row of the product:
    the columns, transposed, times the matrix, transposed.
    """
    _check_stride_one("input_grad_columns", args, weight.shape)
    N = g.shape[0]
    C_out, C_in, kH, kW = weight.shape
    if columns is None:
        columns = output_grad_columns(g, weight.shape, args)
    full = _full_padding((kH, kW), args)  # the input's size, from g's:
    H = g.shape[2] + full[2] + full[3] - args.dilation[0] * (kH - 1)
    W = g.shape[3] + full[0] + full[1] - args.dilation[1] * (kW - 1)
    if columns.shape != (N, C_out * kH * kW, H * W):
        raise ValueError(
            f"columns: expected shape {(N, C_out * kH * kW, H * W)}, the "
            f"columns of grad_output {tuple(g.shape)} for weight "
            f"{tuple(weight.shape)}, got {tuple(columns.shape)}"
        )
    if out is not None:
        _check_out(out, (N, C_in, H, W), g.dtype)
    # chapter 7's flipped kernel as chapter 5's weight matrix: row c, column
    # (o, u, v) in F.unfold's order, holds w[o, c, kH - 1 - u, kW - 1 - v]
    taps = grad.flipped_kernel(weight).flatten(1)  # (C_in, C_out * kH * kW)
    if out is None and not (_channels_last(g) or _channels_last(weight)):
        return torch.bmm(taps.expand(N, -1, -1), columns).view(N, C_in, H, W)
    # channels last, seen as (N, pixels, C_in): one row per pixel
    rows = None if out is None else out.permute(0, 2, 3, 1).view(N, -1, C_in)
    matrix = taps.T.expand(N, -1, -1)
    rows = torch.bmm(columns.transpose(1, 2), matrix, out=rows)
    return rows.view(N, H, W, C_in).permute(0, 3, 1, 2)


def weight_grad_columns(columns, x, weight_shape):
    """The stride-1 weight gradient from :func:`output_grad_columns`.

    One group. Tap ``(u, v)`` of output channel ``o`` sums, over images and
    input pixels, the input's channels times the gradient of the output pixel
    the tap joins them to: row ``(o, kH - 1 - u, kW - 1 - v)`` of the columns.
    So the gradient is the columns times the input's pixels (one product per
    image, summed), its taps read back flipped.
    """
    N, C_in = x.shape[:2]
    C_out, C_in_g, kH, kW = weight_shape
    if C_in_g != C_in:
        raise ValueError(
            "weight_grad_columns: expected one group, a weight of "
            f"{C_in} input channels as the input has, got weight "
            f"{tuple(weight_shape)} for input {tuple(x.shape)}"
        )
    expected = (N, C_out * kH * kW, x.shape[2] * x.shape[3])
    if columns.shape != expected:
        raise ValueError(
            f"columns: expected shape {expected}, the columns for input "
            f"{tuple(x.shape)} and weight {tuple(weight_shape)}, got "
            f"{tuple(columns.shape)}"
        )
    pixels = x.flatten(2).transpose(1, 2)  # (N, H * W, C_in), a view
    sums = torch.bmm(columns, pixels).sum(0)  # (C_out * kH * kW, C_in)
    sums = sums.view(C_out, kH, kW, C_in).flip(1, 2)
    return sums.permute(0, 3, 1, 2).contiguous()


def _check_out(out, shape, dtype):
    """``out``: a channels-last tensor of the input's shape and dtype."""
    last = torch.channels_last
    if (
        not isinstance(out, torch.Tensor)
        or out.shape != shape
        or out.dtype != dtype
        or not out.is_contiguous(memory_format=last)
    ):
        got = (
            f"{tuple(out.shape)} {out.dtype}, channels last: "
            f"{out.is_contiguous(memory_format=last)}"
            if isinstance(out, torch.Tensor)
            else type(out).__name__
        )
        raise ValueError(
            f"out: expected a channels-last tensor of shape {tuple(shape)} "
            f"and dtype {dtype}, got {got}"
        )


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
    if args.stride == (1, 1) and _few_channels(shape, args):
        columns = output_grad_columns(g, shape, args)
        return weight_grad_columns(columns, x, shape)
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
