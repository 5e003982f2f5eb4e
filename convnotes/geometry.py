"""The geometry of a 2-D convolution: its checked arguments and where each window reads.

One path for every implementation in the package (chapters 4 and 5), with the
contract of ``torch.nn.functional.conv2d``: batched ``(N, C_in, H, W)`` or
unbatched ``(C_in, H, W)`` input, ``(C_out, C_in / groups, kH, kW)`` weight,
int or pair arguments, and ``"valid"``/``"same"`` padding. The size rules are
those of :mod:`convnotes.shapes`.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from .shapes import conv_dims, conv_output_size, same_padding

__all__ = [
    "Conv2dArgs",
    "apply_conv2d",
    "conv2d_args",
    "crop",
    "pair",
    "tap_slices",
    "window_args",
    "window_reads",
]


class Conv2dArgs(NamedTuple):
    """The arguments of one convolution, checked and spelled out per dimension."""

    stride: tuple[int, int]
    padding: tuple[tuple[int, int], tuple[int, int]]  # ((top, bottom), (left, right))
    dilation: tuple[int, int]
    groups: int
    output_size: tuple[int, int]  # (H_out, W_out)

    @property
    def pad(self):
        """The padding in the order ``F.pad`` wants: (left, right, top, bottom)."""
        (top, bottom), (left, right) = self.padding
        return (left, right, top, bottom)


def _shape(tensor):
    return tuple(tensor.shape)


def _one_to_two(value):
    # F.conv2d also takes a 1-element list or tuple for a 2-D argument
    if isinstance(value, (tuple, list)) and len(value) == 1:
        return (value[0], value[0])
    return value


def pair(value):
    """An int or a 1- or 2-element tuple as a pair, like ``F.conv2d`` reads it."""
    value = _one_to_two(value)
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _check_tensors(input, weight, bias):
    for name, tensor in (("input", input), ("weight", weight), ("bias", bias)):
        if tensor is None and name == "bias":
            continue
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(
                f"{name} must be a torch.Tensor, got {type(tensor).__name__}"
            )
        if not tensor.is_floating_point():
            raise TypeError(
                f"{name} must be floating point, got {name}.dtype={tensor.dtype}"
            )
        if tensor.dtype != input.dtype or tensor.device != input.device:
            raise TypeError(
                f"{name} and input must share dtype and device, got "
                f"{name}: {tensor.dtype} on {tensor.device}, "
                f"input: {input.dtype} on {input.device}"
            )
    if input.dim() not in (3, 4):
        raise ValueError(
            "input must be 4-D (N, C_in, H, W) or 3-D (C_in, H, W), "
            f"got input.shape={_shape(input)}"
        )
    if weight.dim() != 4:
        raise ValueError(
            f"weight must be 4-D (C_out, C_in / groups, kH, kW), "
            f"got weight.shape={_shape(weight)}"
        )


def _check_channels(input, weight, bias, groups):
    if isinstance(groups, bool) or not isinstance(groups, int):
        raise TypeError(f"groups must be an int, got groups={groups!r}")
    if groups < 1:
        raise ValueError(f"groups must be positive, got groups={groups}")
    C_in = input.shape[-3]
    C_out, C_in_g = weight.shape[:2]
    if C_in % groups or C_out % groups:
        raise ValueError(
            f"groups={groups} must divide both C_in={C_in} and C_out={C_out} "
            f"(input.shape={_shape(input)}, weight.shape={_shape(weight)})"
        )
    if C_in_g * groups != C_in:
        raise ValueError(
            f"weight expects C_in={C_in_g * groups} (groups={groups}) but input has "
            f"C_in={C_in} (input.shape={_shape(input)}, weight.shape={_shape(weight)})"
        )
    if bias is not None and _shape(bias) != (C_out,):
        raise ValueError(
            f"bias must have shape (C_out,)=({C_out},), got bias.shape={_shape(bias)}"
        )


def conv2d_args(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Check the arguments of a convolution and return them as :class:`Conv2dArgs`.

    Raises TypeError for a wrong type and ValueError for a wrong value, naming
    the argument and showing the shapes involved.

    Example:
        >>> x, w = torch.zeros(1, 3, 5, 5), torch.zeros(4, 3, 2, 2)
        >>> conv2d_args(x, w, padding="same")
        Conv2dArgs(stride=(1, 1), padding=((0, 1), (0, 1)), dilation=(1, 1), \
groups=1, output_size=(5, 5))
    """
    _check_tensors(input, weight, bias)
    _check_channels(input, weight, bias, groups)
    try:
        return window_args(
            _shape(input)[-2:], _shape(weight)[-2:], stride, padding, dilation, groups
        )
    except ValueError as error:
        shapes = f"input.shape={_shape(input)}, weight.shape={_shape(weight)}"
        raise ValueError(f"{error} ({shapes})") from error


def window_args(input_size, kernel_size, stride=1, padding=0, dilation=1, groups=1):
    """:class:`Conv2dArgs` from sizes alone (as ``F.unfold`` and ``F.fold`` take them).

    Example:
        >>> window_args((5, 5), 3, stride=2).output_size
        (2, 2)
    """
    input_size, kernel_size = pair(input_size), pair(kernel_size)
    # keep ints as given, so that error messages quote the caller's values
    stride, padding, dilation = (_one_to_two(v) for v in (stride, padding, dilation))
    output_size = conv_output_size(input_size, kernel_size, stride, padding, dilation)
    _, mode, dims = conv_dims(input_size, kernel_size, stride, padding, dilation)
    if mode == "same":
        pads = same_padding(kernel_size, tuple(d.dilation for d in dims))
    else:
        pads = tuple((d.padding, d.padding) for d in dims)
    return Conv2dArgs(
        stride=tuple(d.stride for d in dims),
        padding=pads,
        dilation=tuple(d.dilation for d in dims),
        groups=groups,
        output_size=output_size,
    )


def apply_conv2d(function, input, weight, bias, stride, padding, dilation, groups):
    """Check the arguments, then run an autograd ``function`` on a batched input."""
    args = conv2d_args(input, weight, bias, stride, padding, dilation, groups)
    if input.dim() == 3:  # unbatched: a batch of one, and back
        return function.apply(input.unsqueeze(0), weight, bias, args).squeeze(0)
    return function.apply(input, weight, bias, args)


def tap_slices(args, kernel_size):
    """For each kernel tap (u, v), the rows and columns of the padded input it reads.

    Tap (u, v) of the window at output (i, j) reads padded pixel
    ``(stride_h * i + dilation_h * u, stride_w * j + dilation_w * v)``; over all
    outputs that is a strided slice of rows and one of columns.

    Example:
        >>> x, w = torch.zeros(1, 1, 5, 5), torch.zeros(1, 1, 2, 2)
        >>> args = conv2d_args(x, w, stride=2)
        >>> [(u, v, rows) for u, v, rows, cols in tap_slices(args, (2, 2))][:2]
        [(0, 0, slice(0, 3, 2)), (0, 1, slice(0, 3, 2))]
    """
    (s_h, s_w), (d_h, d_w), (H_out, W_out) = (
        args.stride,
        args.dilation,
        args.output_size,
    )
    kH, kW = kernel_size
    for u in range(kH):
        for v in range(kW):
            rows = slice(d_h * u, d_h * u + s_h * (H_out - 1) + 1, s_h)
            cols = slice(d_w * v, d_w * v + s_w * (W_out - 1) + 1, s_w)
            yield u, v, rows, cols


def window_reads(args, kernel_size, position):
    """The padded-input pixels the window at output ``position`` reads, tap by tap.

    Returns a list of ``(u, v, row, col)``: kernel entry (u, v) multiplies padded
    pixel (row, col).

    Example:
        >>> args = window_args((5, 5), 3, stride=2, padding=1)
        >>> window_reads(args, (3, 3), (1, 0))[:2]
        [(0, 0, 2, 0), (0, 1, 2, 1)]
    """
    (s_h, s_w), (d_h, d_w) = args.stride, args.dilation
    i, j = position
    kH, kW = kernel_size
    return [
        (u, v, s_h * i + d_h * u, s_w * j + d_w * v)
        for u in range(kH)
        for v in range(kW)
    ]


def crop(grad_padded, args):
    """Drop the padding again: the gradient of ``F.pad`` is a slice."""
    (top, bottom), (left, right) = args.padding
    H, W = grad_padded.shape[-2] - top - bottom, grad_padded.shape[-1] - left - right
    return grad_padded[..., top : top + H, left : left + W]
