"""Pooling's backward passes and the receptive field of a stack (chapter 11).

- :func:`receptive_field`: how many input pixels one output of a stack of
  layers reads (along one side), and how far apart the windows of neighbouring
  outputs start (the *jump*, the product of the strides);
- :func:`max_pool2d_backward`: the output gradient goes to the position of
  each window's maximum, the first one in reading order when there are ties,
  as PyTorch breaks them;
- :func:`avg_pool2d_backward`: the output gradient is spread evenly over each
  window, divided by the same count as ``F.avg_pool2d`` uses.

Both backward passes are unfold and fold (chapter 5): one column per window.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .arguments import check_grad_output, pair, window_args
from .geometry import crop

__all__ = ["avg_pool2d_backward", "max_pool2d_backward", "receptive_field"]


def receptive_field(layers):
    """The receptive field size and jump of a stack of layers.

    Args:
        layers: ``(kernel, stride, dilation)`` per layer, input side first.

    Returns:
        ``(size, jump)``: one output reads ``size`` consecutive input pixels
        (along one side); the windows of neighbouring outputs start ``jump``
        input pixels apart. Each layer adds ``(kernel - 1) * dilation`` of
        its own pixels, each ``jump`` input pixels wide::

            size += (kernel - 1) * dilation * jump;  jump *= stride

    >>> receptive_field([(3, 1, 1), (3, 1, 1)])  # two 3x3: one 5x5
    (5, 1)
    >>> receptive_field([(7, 2, 1), (3, 2, 1), (3, 1, 1)])
    (19, 4)
    """
    size, jump = 1, 1
    for i, layer in enumerate(layers):
        if len(layer) != 3 or min(layer) < 1:
            raise ValueError(
                f"layers[{i}] must be (kernel, stride, dilation), each "
                f">= 1, got {layer!r}"
            )
        kernel, stride, dilation = layer
        size += (kernel - 1) * dilation * jump
        jump *= stride
    return size, jump


def _windows(
    input_size, grad_output, kernel_size, stride, padding, input=None
):
    """Pooling's windows, checked: ``(kernel, args)``.

    ``args`` are :class:`~convnotes.arguments.Conv2dArgs` (the padding, the
    output size); the stride defaults to the kernel, and, as in PyTorch's
    pooling, the padding may be at most half of the kernel. ``grad_output``
    must have one entry per window (and share ``input``'s dtype and device,
    if given).
    """
    name = "input_size" if input is None else "input.shape"
    if len(input_size) != 4:
        raise ValueError(
            f"{name} must be (N, C, H, W), got {name}={tuple(input_size)}"
        )
    if isinstance(padding, str):
        raise ValueError(f"padding must be an int or a pair, got {padding!r}")
    kernel = pair(kernel_size)
    stride = kernel if stride is None else stride
    args = window_args(input_size[2:], kernel, stride, padding)
    left, _, top, _ = args.pad
    if 2 * top > kernel[0] or 2 * left > kernel[1]:
        raise ValueError(
            f"padding={(top, left)} must be at most half of "
            f"kernel_size={kernel}"
        )
    check_grad_output(
        grad_output,
        (*input_size[:2], *args.output_size),
        "the pooling's output",
        f" ({name}={tuple(input_size)})",
        None if input is None else ("input", input),
    )
    return kernel, args


def _fold(grad_cols, input_size, kernel, args):
    """Sum the window columns back into the input, then drop the padding."""
    padded = args.padded_size(input_size)
    grad = F.fold(grad_cols, padded, kernel, stride=args.stride)
    # a tensor of its own, not a view of the padded one
    return crop(grad.view(*input_size[:2], *padded), args).contiguous()


def max_pool2d_backward(
    input, grad_output, kernel_size, stride=None, padding=0
):
    """The input gradient of ``F.max_pool2d(input, kernel_size, ...)``.

    Each window passes its output gradient to its maximum; of equal maxima,
    to the first in reading order (row by row). Padding is ``-inf``, so it is
    never the maximum: with padding, an input holding ``-inf`` is refused.
    Overlapping windows add up.

    Shape:
        input: ``(N, C, H, W)``; grad_output: ``(N, C, H_out, W_out)`` with
        ``H_out = floor((H + 2*padding - kernel) / stride) + 1``;
        returns ``(N, C, H, W)``.

    >>> x = torch.tensor([[[[1.0, 3.0], [3.0, 2.0]]]])
    >>> max_pool2d_backward(x, torch.ones(1, 1, 1, 1), 2)  # ties: first 3
    tensor([[[[0., 1.],
              [0., 0.]]]])
    """
    if not isinstance(input, torch.Tensor):
        raise TypeError(
            f"input must be a torch.Tensor, got {type(input).__name__}"
        )
    kernel, args = _windows(
        input.shape, grad_output, kernel_size, stride, padding, input
    )
    if any(args.pad) and torch.isneginf(input).any():
        raise ValueError("input holds -inf, which the -inf padding would tie")
    N, C = input.shape[:2]
    x = F.pad(input, args.pad, value=float("-inf"))
    # one row per (image, channel): unfold then mixes no channels
    x = x.reshape(N * C, 1, *x.shape[2:])
    cols = F.unfold(x, kernel, stride=args.stride)  # (N*C, kH*kW, windows)
    first_max = cols.argmax(1, keepdim=True)  # ties: the first one
    grad_cols = torch.zeros_like(cols).scatter(
        1, first_max, grad_output.reshape(N * C, 1, -1)
    )
    return _fold(grad_cols, input.shape, kernel, args)


def avg_pool2d_backward(
    input_size,
    grad_output,
    kernel_size,
    stride=None,
    padding=0,
    count_include_pad=True,
):
    """The input gradient of ``F.avg_pool2d(input, kernel_size, ...)``.

    Each window spreads its output gradient evenly over its pixels, divided
    by the window's count: ``kH * kW`` with ``count_include_pad``, else the
    number of its pixels inside the image. Padding gets its share, which is
    then dropped.

    Shape:
        input_size: ``(N, C, H, W)``; grad_output: ``(N, C, H_out, W_out)``;
        returns ``(N, C, H, W)``.

    >>> g = torch.ones(1, 1, 1, 1)
    >>> avg_pool2d_backward((1, 1, 2, 2), g, 2)
    tensor([[[[0.2500, 0.2500],
              [0.2500, 0.2500]]]])
    """
    input_size = tuple(input_size)
    kernel, args = _windows(
        input_size, grad_output, kernel_size, stride, padding
    )
    N, C, H, W = input_size
    if count_include_pad:
        counts = kernel[0] * kernel[1]
    else:  # each window's pixels inside the image
        inside = F.pad(grad_output.new_ones(1, 1, H, W), args.pad)
        counts = F.unfold(inside, kernel, stride=args.stride).sum(1)
    share = grad_output.reshape(N * C, 1, -1) / counts  # one per window
    grad_cols = share.expand(-1, kernel[0] * kernel[1], -1)
    return _fold(grad_cols, input_size, kernel, args)
