"""The gradients of a 2-D convolution in closed form (chapter 7).

Drop-in equivalents of ``torch.nn.grad.conv2d_input`` and ``conv2d_weight``
written with ordinary, differentiable tensor operations:

- the input gradient is a *transposed convolution* of the output gradient with
  the same weight, with the ``output_padding`` that restores the input's size;
- the weight gradient is a *correlation of the input with the output gradient*,
  in which stride and dilation trade places;
- the bias gradient is the sum of the output gradient over all but the channels.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .geometry import conv2d_args, crop
from .shapes import output_padding_for

__all__ = [
    "conv2d_bias",
    "conv2d_input",
    "conv2d_weight",
    "weight_grad_by_correlation",
    "weight_grad_per_tap",
]


def _shape_of(name, size):
    try:
        shape = tuple(int(s) for s in size)
    except TypeError:
        raise TypeError(
            f"{name} must be a sequence of ints, got {name}={size!r}"
        ) from None
    if len(shape) not in (3, 4):
        raise ValueError(
            f"{name} must have 4 entries (N, C, H, W) or 3 (C, H, W), "
            f"got {name}={shape}"
        )
    return shape


def _placeholder(shape, like):
    """A tensor of ``shape`` (and ``like``'s dtype and device) that holds no memory.

    It stands in for the tensor whose gradient is asked for, so the arguments
    go through the same checks as a convolution's.
    """
    if not isinstance(like, torch.Tensor):
        raise TypeError(f"weight must be a torch.Tensor, got {type(like).__name__}")
    return torch.empty_strided(
        shape, (0,) * len(shape), dtype=like.dtype, device=like.device
    )


def _check_grad_output(grad_output, input_shape, weight_shape, args):
    if not isinstance(grad_output, torch.Tensor):
        raise TypeError(
            f"grad_output must be a torch.Tensor, got {type(grad_output).__name__}"
        )
    expected = (*input_shape[:-3], weight_shape[0], *args.output_size)
    if tuple(grad_output.shape) != expected:
        raise ValueError(
            f"grad_output must have the convolution's output shape {expected}, got "
            f"grad_output.shape={tuple(grad_output.shape)} "
            f"(input shape {tuple(input_shape)}, weight shape {tuple(weight_shape)})"
        )


def conv2d_input(
    input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1
):
    """The gradient of a convolution with respect to its input.

    Derived in chapter 7: every output pixel sends ``weight`` times its gradient
    back to the window it read, which is a transposed convolution.

    Args:
        input_size: the input's shape, ``(N, C_in, H_in, W_in)`` or unbatched.
        weight: ``(C_out, C_in / groups, kH, kW)``.
        grad_output: ``(N, C_out, H_out, W_out)`` (or unbatched).
        stride, padding, dilation, groups: as for ``F.conv2d``.

    Returns:
        The gradient, of shape ``input_size``.

    Example:
        >>> w = torch.ones(1, 1, 2, 2)
        >>> conv2d_input((1, 1, 3, 3), w, torch.ones(1, 1, 2, 2))
        tensor([[[[1., 2., 1.],
                  [2., 4., 2.],
                  [1., 2., 1.]]]])
    """
    shape = _shape_of("input_size", input_size)
    args = conv2d_args(
        _placeholder(shape, weight), weight, None, stride, padding, dilation, groups
    )
    _check_grad_output(grad_output, shape, weight.shape, args)
    g = grad_output if len(shape) == 4 else grad_output.unsqueeze(0)
    (top, bottom), (left, right) = args.padding
    H, W = shape[-2:]
    kernel = tuple(weight.shape[2:])
    if top == bottom and left == right:  # the transposed convolution pads alike
        pad = (top, left)
        extra = output_padding_for((H, W), kernel, args.stride, pad, args.dilation)
        grad_input = F.conv_transpose2d(
            g, weight, None, args.stride, pad, extra, groups, args.dilation
        )
    else:  # uneven "same" padding: no padding, then drop the padded border
        padded = (H + top + bottom, W + left + right)
        extra = output_padding_for(padded, kernel, args.stride, 0, args.dilation)
        full = F.conv_transpose2d(
            g, weight, None, args.stride, 0, extra, groups, args.dilation
        )
        grad_input = crop(full, args)
    return grad_input if len(shape) == 4 else grad_input.squeeze(0)


def conv2d_weight(
    input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1
):
    """The gradient of a convolution with respect to its weight.

    Derived in chapter 7: ``grad_weight[o, c, u, v]`` sums
    ``grad_output[n, o, i, j] * input_padded[n, c, s*i + d*u, s*j + d*v]`` over
    ``n, i, j``. Read as a convolution over ``(i, j)``, the output gradient is the
    kernel, dilated by the stride, and it slides with a step of the dilation:
    stride and dilation trade places, and the batch plays the role of channels.
    That convolution has a kernel as large as the output, which convolution
    libraries handle slowly, so with stride 1 the same sum is organised as one
    matrix product per kernel tap (:func:`weight_grad_per_tap`).

    Args:
        input: ``(N, C_in, H_in, W_in)`` or unbatched ``(C_in, H_in, W_in)``.
        weight_size: ``(C_out, C_in / groups, kH, kW)``.
        grad_output: ``(N, C_out, H_out, W_out)`` (or unbatched).

    Returns:
        The gradient, of shape ``weight_size``.

    Example:
        >>> x = torch.arange(9.0).view(1, 1, 3, 3)
        >>> conv2d_weight(x, (1, 1, 2, 2), torch.ones(1, 1, 2, 2))
        tensor([[[[ 8., 12.],
                  [20., 24.]]]])
    """
    weight_shape = _shape_of("weight_size", weight_size)
    if len(weight_shape) != 4:
        raise ValueError(
            f"weight_size must have 4 entries (C_out, C_in / groups, kH, kW), "
            f"got weight_size={weight_shape}"
        )
    if not isinstance(input, torch.Tensor):
        raise TypeError(f"input must be a torch.Tensor, got {type(input).__name__}")
    placeholder = _placeholder(weight_shape, input)
    args = conv2d_args(input, placeholder, None, stride, padding, dilation, groups)
    _check_grad_output(grad_output, tuple(input.shape), weight_shape, args)
    x = input if input.dim() == 4 else input.unsqueeze(0)
    g = grad_output if input.dim() == 4 else grad_output.unsqueeze(0)
    if args.stride == (1, 1):
        return weight_grad_per_tap(x, g, weight_shape, args)
    return weight_grad_by_correlation(x, g, weight_shape, args)


def weight_grad_by_correlation(x, g, weight_shape, args):
    """The weight gradient as one convolution: images as channels, ``g`` as kernels."""
    N = x.shape[0]
    C_out, C_in_g, kH, kW = weight_shape
    G, C_out_g = args.groups, C_out // args.groups
    H_out, W_out = args.output_size
    padded = F.pad(x, args.pad)
    # images become channels: (C_in_g, G * N, H, W), with group g's images together
    images = padded.view(N, G, C_in_g, *padded.shape[2:]).permute(2, 1, 0, 3, 4)
    images = images.reshape(C_in_g, G * N, *padded.shape[2:])
    # the output gradient becomes the kernels: (G * C_out_g, N, H_out, W_out)
    kernels = g.view(N, G, C_out_g, H_out, W_out).permute(1, 2, 0, 3, 4)
    kernels = kernels.reshape(G * C_out_g, N, H_out, W_out)
    correlation = F.conv2d(
        images, kernels, None, stride=args.dilation, dilation=args.stride, groups=G
    )  # (C_in_g, C_out, >= kH, >= kW)
    return correlation.transpose(0, 1)[:, :, :kH, :kW]


def weight_grad_per_tap(x, g, weight_shape, args):
    """The same sum, one matrix product per kernel tap (stride 1).

    Give the output gradient the padded input's width (zeros on the right) and
    flatten both images: then the pixels tap (u, v) reads for all outputs are one
    contiguous run of the flattened input, starting at ``u*d*W_pad + v*d``, and
    ``grad_weight[:, :, u, v]`` is ``g_flat @ run.T`` summed over images, a matrix
    product on views, with no copy of the input per tap.
    """
    N = x.shape[0]
    C_out, C_in_g, kH, kW = weight_shape
    G, C_out_g = args.groups, C_out // args.groups
    (d_h, d_w), (H_out, W_out) = args.dilation, args.output_size
    left, right, top, bottom = args.pad
    padded = F.pad(
        x, (left, right, top, bottom + 1)
    )  # a spare row: the last run overruns
    W_pad = padded.shape[3]
    flat = padded.reshape(N, G, C_in_g, -1)
    length = H_out * W_pad
    g_flat = F.pad(g, (0, W_pad - W_out)).reshape(N, G, C_out_g, length)
    taps = []
    for u in range(kH):
        for v in range(kW):
            start = u * d_h * W_pad + v * d_w
            run = flat[..., start : start + length]  # (N, G, C_in_g, length), a view
            taps.append(torch.matmul(g_flat, run.transpose(-1, -2)).sum(0))
    return torch.stack(taps, dim=-1).view(C_out, C_in_g, kH, kW)


def conv2d_bias(grad_output):
    """The gradient of a convolution with respect to its bias: one sum per channel.

    Example:
        >>> conv2d_bias(torch.ones(2, 3, 4, 4))
        tensor([32., 32., 32.])
    """
    if not isinstance(grad_output, torch.Tensor) or grad_output.dim() not in (3, 4):
        shown = (
            tuple(grad_output.shape)
            if isinstance(grad_output, torch.Tensor)
            else grad_output
        )
        raise ValueError(
            "grad_output must be a 4-D (N, C_out, H, W) or 3-D (C_out, H, W) tensor, "
            f"got {shown!r}"
        )
    dims = (0, 2, 3) if grad_output.dim() == 4 else (1, 2)
    return grad_output.sum(dims)
