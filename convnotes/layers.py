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

from .arguments import pair

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


def _windows(input_size, kernel_size, stride, padding):
    """The window geometry: kernel, stride, padding pairs; padded size."""
    if len(input_size) != 4:
        raise ValueError(
            f"input_size must be (N, C, H, W), got {tuple(input_size)}"
        )
    kernel = pair(kernel_size)
    stride = kernel if stride is None else pair(stride)
    padding = pair(padding)
    if any(2 * p > k for p, k in zip(padding, kernel, strict=True)):
        raise ValueError(
            f"padding={padding} must be at most half of kernel_size={kernel}"
        )
    padded = tuple(
        n + 2 * p for n, p in zip(input_size[2:], padding, strict=True)
    )
    return kernel, stride, padding, padded


def _fold(grad_cols, input_size, kernel, stride, padding, padded):
    """Sum the window columns back into the input, then drop the padding."""
    N, C, H, W = input_size
    grad = F.fold(grad_cols, padded, kernel, stride=stride)
    grad = grad.view(N, C, *padded)
    (p_h, p_w) = padding
    return grad[:, :, p_h : p_h + H, p_w : p_w + W]


def max_pool2d_backward(
    input, grad_output, kernel_size, stride=None, padding=0
):
    """The input gradient of ``F.max_pool2d(input, kernel_size, ...)``.

    Each window passes its output gradient to its maximum; of equal maxima,
    to the first in reading order (row by row). Padding is ``-inf``, so it is
    never the maximum. Overlapping windows add up.

    Shape:
        input: ``(N, C, H, W)``; grad_output: ``(N, C, H_out, W_out)`` with
        ``H_out = floor((H + 2*padding - kernel) / stride) + 1``;
        returns ``(N, C, H, W)``.

    >>> x = torch.tensor([[[[1.0, 3.0], [3.0, 2.0]]]])
    >>> max_pool2d_backward(x, torch.ones(1, 1, 1, 1), 2)  # ties: first 3
    tensor([[[[0., 1.],
              [0., 0.]]]])
    """
    kernel, stride, padding, padded = _windows(
        input.shape, kernel_size, stride, padding
    )
    N, C, H, W = input.shape
    (p_h, p_w) = padding
    x = F.pad(input, (p_w, p_w, p_h, p_h), value=float("-inf"))
    # one row per (image, channel): unfold then mixes no channels
    cols = F.unfold(x.reshape(N * C, 1, *padded), kernel, stride=stride)
    L = cols.shape[-1]  # cols: (N*C, kH*kW, L)
    if grad_output.shape[:2] != (N, C) or grad_output[0, 0].numel() != L:
        raise ValueError(
            f"grad_output.shape={tuple(grad_output.shape)} does not match "
            f"the {L} windows of input.shape={tuple(input.shape)}"
        )
    first_max = cols.argmax(1, keepdim=True)  # ties: the first one
    grad_cols = torch.zeros_like(cols).scatter(
        1, first_max, grad_output.reshape(N * C, 1, L)
    )
    return _fold(grad_cols, input.shape, kernel, stride, padding, padded)


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
    kernel, stride, padding, padded = _windows(
        input_size, kernel_size, stride, padding
    )
    N, C, H, W = input_size
    (p_h, p_w) = padding
    inside = torch.ones(1, 1, H, W, dtype=grad_output.dtype)
    inside = F.pad(inside, (p_w, p_w, p_h, p_h))
    counts = F.unfold(inside, kernel, stride=stride).sum(1)  # (1, L)
    L = counts.shape[-1]
    if grad_output.shape[:2] != (N, C) or grad_output[0, 0].numel() != L:
        raise ValueError(
            f"grad_output.shape={tuple(grad_output.shape)} does not match "
            f"the {L} windows of input_size={input_size}"
        )
    if count_include_pad:
        counts = torch.full_like(counts, kernel[0] * kernel[1])
    share = grad_output.reshape(N * C, 1, L) / counts  # (N*C, 1, L)
    grad_cols = share.expand(N * C, kernel[0] * kernel[1], L)
    return _fold(grad_cols, input_size, kernel, stride, padding, padded)
