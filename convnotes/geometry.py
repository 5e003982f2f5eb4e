"""Where each window of a 2-D convolution reads, from its checked arguments.

Shared by the pictures (chapters 1 and 2), the loops (chapter 4), the unfold
and the closed-form gradients (chapters 5 and 7, ``crop``) and
:mod:`convnotes.fast` (chapter 9). The arguments come from
:mod:`convnotes.arguments`.
"""

from __future__ import annotations

__all__ = ["crop", "tap_slices", "window_reads"]


def tap_slices(args, kernel_size):
    """The padded input's rows and columns that each kernel tap (u, v) reads.

    Tap (u, v) of the window at output (i, j) reads padded pixel
    ``(stride_h * i + dilation_h * u, stride_w * j + dilation_w * v)``; over
    all outputs that is a strided slice of rows and one of columns.

    Example:
        >>> from convnotes.arguments import window_args
        >>> args = window_args((5, 5), 2, stride=2)
        >>> [(u, v, rows) for u, v, rows, cols in tap_slices(args, (2, 2))][:2]
        [(0, 0, slice(0, 3, 2)), (0, 1, slice(0, 3, 2))]
    """
    (s_h, s_w), (d_h, d_w) = args.stride, args.dilation
    H_out, W_out = args.output_size
    kH, kW = kernel_size
    for u in range(kH):
        for v in range(kW):
            rows = slice(d_h * u, d_h * u + s_h * (H_out - 1) + 1, s_h)
            cols = slice(d_w * v, d_w * v + s_w * (W_out - 1) + 1, s_w)
            yield u, v, rows, cols


def window_reads(args, kernel_size, position):
    """The padded-input pixels read by the window at output ``position``.

    Returns a list of ``(u, v, row, col)``: kernel entry (u, v) multiplies
    padded pixel (row, col).

    Example:
        >>> from convnotes.arguments import window_args
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
    left, right, top, bottom = args.pad
    H = grad_padded.shape[-2] - top - bottom
    W = grad_padded.shape[-1] - left - right
    return grad_padded[..., top : top + H, left : left + W]
