"""The gradients of a 2-D convolution in closed form (chapter 7).

Drop-in equivalents of ``torch.nn.grad.conv2d_input`` and ``conv2d_weight``
written with ordinary, differentiable tensor operations:

- the input gradient is a *transposed convolution* of the output gradient
  with the same weight, with the ``output_padding`` that restores the input's
  size;
- with stride 1 that is also a *full correlation with the flipped kernel*
  (:func:`input_grad_flipped`), an ordinary convolution;
- the weight gradient is a *correlation of the input with the output
  gradient*, in which stride and dilation trade places;
- the bias gradient is the sum of the output gradient over all but the
  channels.

Every optimisation of these lives in :mod:`convnotes.fast` (chapter 9).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .arguments import grad_input_args, grad_weight_args, pair
from .geometry import crop

__all__ = [
    "conv2d_bias",
    "conv2d_input",
    "conv2d_weight",
    "flipped_kernel",
    "input_grad_flipped",
    "input_grad_transposed",
    "weight_grad_correlation",
]


def conv2d_input(
    input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1
):
    """The gradient of a convolution with respect to its input.

    Every output pixel sends ``weight`` times its gradient back to the window
    it read: a transposed convolution. It is asked for no padding, and the
    padded border is cropped afterwards, so uneven ``"same"`` padding needs no
    special case. ``output_padding`` adds back the rows and columns at the end
    that no window reached (chapter 3).

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
    shape, args = grad_input_args(
        input_size, weight, grad_output, stride, padding, dilation, groups
    )
    g = grad_output if len(shape) == 4 else grad_output.unsqueeze(0)
    grad_input = input_grad_transposed(g, weight, shape[-2:], args)
    # its own tensor, as torch.nn.grad's is: the crop is a view of a larger one
    return grad_input.contiguous().view(shape)


def input_grad_transposed(g, weight, input_hw, args):
    """Input gradient: ``F.conv_transpose2d`` of a batched ``g``, cropped."""
    padded = args.padded_size(input_hw)
    unreached = []  # rows, then columns, at the end that no window reached
    for i in range(2):
        s, d, k = args.stride[i], args.dilation[i], weight.shape[2 + i]
        # the last window starts at (out - 1) * s and spans d * (k - 1) + 1
        reached = (args.output_size[i] - 1) * s + d * (k - 1) + 1
        unreached.append(padded[i] - reached)
    grad_padded = F.conv_transpose2d(
        g, weight, None, args.stride, 0, unreached, args.groups, args.dilation
    )
    return crop(grad_padded, args)


def input_grad_flipped(g, weight, padding=0, dilation=1, groups=1):
    """The stride-1 input gradient of a batched ``g``, an ordinary convolution.

    ``g`` is correlated with the kernel flipped in both directions, its two
    channel dimensions swapped (within each group), and with *full* padding:
    ``d * (k - 1)`` zeros on each side, less the forward padding ``padding``
    (an int or a pair, at most ``d * (k - 1)``).

    Example:
        >>> w = torch.ones(1, 1, 2, 2)
        >>> input_grad_flipped(torch.ones(1, 1, 2, 2), w)
        tensor([[[[1., 2., 1.],
                  [2., 4., 2.],
                  [1., 2., 1.]]]])
    """
    kH, kW = weight.shape[2:]
    (p_h, p_w), (d_h, d_w) = pair(padding), pair(dilation)
    full = (d_h * (kH - 1) - p_h, d_w * (kW - 1) - p_w)
    if min(full) < 0:  # more zeros than any window of the kernel reaches
        reach = (d_h * (kH - 1), d_w * (kW - 1))
        raise ValueError(
            f"padding={padding} is more than dilation * (kernel - 1) = "
            f"{reach} (weight.shape={tuple(weight.shape)})"
        )
    return F.conv2d(
        g, flipped_kernel(weight, groups), None, 1, full, (d_h, d_w), groups
    )


def flipped_kernel(weight, groups=1):
    """The kernel flipped both ways, in- and output channels swapped per group.

    ``(C_out, C_in / groups, kH, kW)`` becomes
    ``(C_in, C_out / groups, kH, kW)``: the weight of the convolution that
    carries the output gradient back.
    """
    C_out, C_in_g, kH, kW = weight.shape
    C_out_g = C_out // groups
    swapped = weight.reshape(groups, C_out_g, C_in_g, kH, kW).transpose(1, 2)
    return swapped.reshape(groups * C_in_g, C_out_g, kH, kW).flip(2, 3)


def conv2d_weight(
    input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1
):
    """The gradient of a convolution with respect to its weight.

    ``grad_weight[o, c, u, v]`` sums
    ``grad_output[n, o, i, j] * input_padded[n, c, s*i + d*u, s*j + d*v]`` over
    ``n, i, j``. Read as a convolution whose output is indexed by ``(u, v)``,
    the output gradient is the kernel, dilated by the stride, and it slides
    with a step of the dilation: stride and dilation trade places. The batch
    plays the role of the channels that are summed, and the input's channels
    that of a batch.

    Args:
        input: ``(N, C_in, H_in, W_in)`` or unbatched ``(C_in, H_in, W_in)``.
        weight_size: ``(C_out, C_in / groups, kH, kW)``.
        grad_output: ``(N, C_out, H_out, W_out)`` (or unbatched).
        stride, padding, dilation, groups: as for ``F.conv2d``.

    Returns:
        The gradient, of shape ``weight_size``.

    Example:
        >>> x = torch.arange(9.0).view(1, 1, 3, 3)
        >>> conv2d_weight(x, (1, 1, 2, 2), torch.ones(1, 1, 2, 2))
        tensor([[[[ 8., 12.],
                  [20., 24.]]]])
    """
    shape, args = grad_weight_args(
        input, weight_size, grad_output, stride, padding, dilation, groups
    )
    x = input if input.dim() == 4 else input.unsqueeze(0)
    g = grad_output if input.dim() == 4 else grad_output.unsqueeze(0)
    return weight_grad_correlation(x, g, shape, args)


def weight_grad_correlation(x, g, weight_shape, args):
    """The weight gradient of a batched ``x`` and ``g``: one convolution."""
    N, G = x.shape[0], args.groups
    C_out, C_in_g, kH, kW = weight_shape
    padded = F.pad(x, args.pad)
    # the images become channels, (C_in_g, G * N, H, W), each group's together
    images = padded.unflatten(1, (G, C_in_g)).permute(2, 1, 0, 3, 4)
    images = images.reshape(C_in_g, G * N, *padded.shape[2:])
    # the output gradient becomes the kernels, (C_out, N, H_out, W_out)
    kernels = g.transpose(0, 1)
    correlation = F.conv2d(
        images, kernels, stride=args.dilation, dilation=args.stride, groups=G
    )  # (C_in_g, C_out, >= kH, >= kW): a window may fit a few more times
    return correlation.transpose(0, 1)[:, :, :kH, :kW].contiguous()


def conv2d_bias(grad_output):
    """A convolution's gradient with respect to its bias: one sum per channel.

    Example:
        >>> conv2d_bias(torch.ones(2, 3, 4, 4))
        tensor([32., 32., 32.])
    """
    if not torch.is_tensor(grad_output) or grad_output.dim() not in (3, 4):
        shape = getattr(grad_output, "shape", None)
        shown = grad_output if shape is None else tuple(shape)
        raise ValueError(
            "grad_output must be a 4-D (N, C_out, H, W) or 3-D (C_out, H, W) "
            f"tensor, got {shown!r}"
        )
    dims = (0, 2, 3) if grad_output.dim() == 4 else (1, 2)
    return grad_output.sum(dims)
