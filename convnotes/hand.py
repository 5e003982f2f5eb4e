"""The gradients of one 2-D convolution, term by term (derived in chapter 1).

For a single-channel image ``x`` and kernel ``w`` (no batch, no channels),
with stride ``s`` and dilation ``d``, each output is
``y[i, j] = sum over (u, v) of w[u, v] * x_padded[s*i + d*u, s*j + d*v]``.
These helpers list, for every gradient entry, the terms that sum into it, so
a learner can compare a sum written out by hand with autograd's number.
"""

from __future__ import annotations

import itertools

import torch.nn.functional as F

from .arguments import pair, window_args
from .geometry import tap_slices, window_reads

__all__ = ["input_grad_terms", "weight_grad_patches"]


def weight_grad_patches(input, kernel_size, stride=1, padding=0, dilation=1):
    """For each kernel entry (u, v), the input pixels it multiplied.

    One pixel per output position:
    ``grad_weight[u, v] = (grad_output * patches[(u, v)]).sum()``; with an
    all-ones ``grad_output`` (the loss ``y.sum()``) it is the patch's sum. The
    pixels are those of the zero-padded input: with padding, a patch holds
    zeros.

    Args:
        input: a 2-D image ``(H, W)``.

    Returns:
        ``{(u, v): tensor of shape (H_out, W_out)}``.

    Example:
        >>> import torch
        >>> patches = weight_grad_patches(torch.arange(9.0).view(3, 3), 2)
        >>> patches[(0, 0)]
        tensor([[0., 1.],
                [3., 4.]])
    """
    size = tuple(input.shape)
    if len(size) != 2:
        raise ValueError(
            f"input must be a 2-D image (H, W), got input.shape={size}"
        )
    kernel_size = pair(kernel_size)
    args = window_args(size, kernel_size, stride, padding, dilation)
    padded = F.pad(input, args.pad)
    taps = tap_slices(args, kernel_size)
    return {(u, v): padded[rows, cols] for u, v, rows, cols in taps}


def input_grad_terms(input_size, kernel_size, stride=1, padding=0, dilation=1):
    """Each input pixel's (output position, kernel entry) pairs that read it.

    ``grad_input[r, c] = sum of grad_output[i, j] * weight[u, v]`` over the
    pairs ``((i, j), (u, v))`` listed for ``(r, c)``. A pixel that no window
    reads has an empty list, so its gradient is zero; padding pixels are not
    listed.

    Example:
        >>> terms = input_grad_terms((3, 3), 2)
        >>> terms[(0, 1)]
        [((0, 0), (0, 1)), ((0, 1), (0, 0))]
    """
    input_size, kernel_size = pair(input_size), pair(kernel_size)
    args = window_args(input_size, kernel_size, stride, padding, dilation)
    left, _, top, _ = args.pad
    terms = {pixel: [] for pixel in itertools.product(*map(range, input_size))}
    for position in itertools.product(*map(range, args.output_size)):
        for u, v, row, col in window_reads(args, kernel_size, position):
            pixel = (row - top, col - left)
            if pixel in terms:  # not a padding pixel
                terms[pixel].append((position, (u, v)))
    return terms
