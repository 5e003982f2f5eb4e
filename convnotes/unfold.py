"""Convolution as unfold -> matmul -> fold, with a hand-written backward pass.

Derived in chapter 5 (``book/05_unfold_matmul_fold.ipynb``). ``unfold`` copies
every kernel window into a column, so the convolution becomes one matrix
product; its backward is two more matrix products and ``fold``, which adds each
column back onto the pixels it came from.

``unfold`` and ``fold`` here give the same results as ``torch.nn.functional``'s,
computed with ordinary tensor operations: the windows are a strided *view* of
the padded input, copied once into columns, and fold adds one strided slice
per kernel tap (chapter 5 compares them with PyTorch's, and times both).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from .geometry import Conv2dArgs, apply_conv2d, crop, pair, tap_slices, window_args
from .grad import conv2d_bias

__all__ = [
    "Chunk",
    "Conv2dUnfold",
    "block_columns",
    "chunks",
    "conv2d_unfold",
    "fold",
    "unfold",
]


def unfold_padded(padded, kernel_size, args, out=None):
    """Columns of an already padded input: ``(N, C * kH * kW, H_out * W_out)``.

    Built in the memory of ``out`` (a flat tensor at least that large) if given.
    """
    N, C = padded.shape[:2]
    kH, kW = kernel_size
    (s_h, s_w), (d_h, d_w) = args.stride, args.dilation
    span_h, span_w = d_h * (kH - 1) + 1, d_w * (kW - 1) + 1
    # a view, no copy: (N, C, H_out, W_out, span_h, span_w), then every d-th tap
    windows = padded.unfold(2, span_h, s_h).unfold(3, span_w, s_w)[..., ::d_h, ::d_w]
    # the one copy: channel-major columns, as F.unfold lays them out
    columns = windows.permute(0, 1, 4, 5, 2, 3)
    L = windows.shape[2] * windows.shape[3]
    if out is None:
        return columns.reshape(N, C * kH * kW, L)
    return _shaped(out, columns.shape).copy_(columns).view(N, C * kH * kW, L)


def _shaped(buffer, shape):
    """The first entries of a flat ``buffer``, viewed as ``shape``."""
    return buffer[: torch.Size(shape).numel()].view(shape)


def fold_padded(cols, padded_size, kernel_size, args, out=None):
    """Add every column entry back onto the padded pixel it was copied from.

    Into a new zero image of ``padded_size``, or added onto ``out`` if given.
    """
    N = cols.shape[0]
    kH, kW = kernel_size
    C = cols.shape[1] // (kH * kW)
    taps = cols.view(N, C, kH, kW, *args.output_size)
    padded = cols.new_zeros(N, C, *padded_size) if out is None else out
    for u, v, rows, cols_ in tap_slices(args, kernel_size):
        padded[:, :, rows, cols_] += taps[:, :, u, v]
    return padded


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """The same as ``torch.nn.functional.unfold`` for 4-D input.

    Shape:
        input ``(N, C, H, W)`` -> ``(N, C * kH * kW, L)``, ``L = H_out * W_out``.

    Example:
        >>> x = torch.arange(9.0).view(1, 1, 3, 3)
        >>> unfold(x, 2)
        tensor([[[0., 1., 3., 4.],
                 [1., 2., 4., 5.],
                 [3., 4., 6., 7.],
                 [4., 5., 7., 8.]]])
    """
    if not isinstance(input, torch.Tensor) or input.dim() != 4:
        shown = tuple(input.shape) if isinstance(input, torch.Tensor) else type(input)
        raise ValueError(f"input must be a 4-D tensor (N, C, H, W), got {shown}")
    kernel_size = pair(kernel_size)
    args = window_args(tuple(input.shape[-2:]), kernel_size, stride, padding, dilation)
    return unfold_padded(F.pad(input, args.pad), kernel_size, args)


def fold(cols, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The same as ``torch.nn.functional.fold`` for 3-D input: the adjoint of unfold.

    Shape:
        ``(N, C * kH * kW, L)`` -> ``(N, C, *output_size)``.

    Example:
        >>> fold(torch.ones(1, 4, 4), (3, 3), 2)
        tensor([[[[1., 2., 1.],
                  [2., 4., 2.],
                  [1., 2., 1.]]]])
    """
    kernel_size, output_size = pair(kernel_size), pair(output_size)
    args = window_args(output_size, kernel_size, stride, padding, dilation)
    taps = kernel_size[0] * kernel_size[1]
    blocks = args.output_size[0] * args.output_size[1]
    if cols.dim() != 3 or cols.shape[1] % taps or cols.shape[2] != blocks:
        raise ValueError(
            f"cols must be 3-D (N, C * {taps}, {blocks}) for "
            f"output_size={output_size}, kernel_size={kernel_size}, "
            f"got cols.shape={tuple(cols.shape)}"
        )
    (top, bottom), (left, right) = args.padding
    padded_size = (output_size[0] + top + bottom, output_size[1] + left + right)
    return crop(fold_padded(cols, padded_size, kernel_size, args), args)


def _batched_matmul(a, b, out=None):
    """``a @ b`` over leading dims (N, groups), as one ``bmm`` on views.

    ``torch.matmul`` with a broadcast 2-D operand may copy the large operand
    transposed; ``bmm`` on views reads it in place. The product goes into the
    memory of ``out`` (flat, large enough) if given.
    """
    N, G = b.shape[:2]
    a = a.expand(N, G, *a.shape[-2:]) if a.dim() == 3 else a
    a, b = a.reshape(N * G, *a.shape[-2:]), b.reshape(N * G, *b.shape[-2:])
    if out is None:
        product = torch.bmm(a, b)
    else:
        product = torch.bmm(a, b, out=_shaped(out, (N * G, a.shape[1], b.shape[2])))
    return product.view(N, G, *product.shape[-2:])


# Unfold at most this many bytes of columns at once. The columns are about
# kH * kW times larger than the input; a block of them this small fits in the
# last-level cache of many processors. Halving it makes twice as many small
# operations, each of which has to wake the other threads: measured on a 2-core
# CPU, 8 MiB beat 4 and 16 MiB on the benchmark's layers.
CHUNK_BYTES = 8 * 2**20


class Chunk(NamedTuple):
    """A block of the convolution: some images, some output rows."""

    batch: slice  # images
    rows: slice  # output rows
    padded_rows: slice  # the rows of the padded input their windows read
    args: Conv2dArgs  # the convolution's arguments, with this block's output size


def chunks(input, weight, args):
    """Blocks of whole images, or of output rows of one image, with small columns."""
    N, C_in = input.shape[:2]
    kH, kW = weight.shape[2:]
    H_out, W_out = args.output_size
    s_h, span_h = args.stride[0], args.dilation[0] * (kH - 1) + 1
    per_row = C_in * kH * kW * W_out * input.element_size()  # bytes of one output row
    rows = max(1, CHUNK_BYTES // per_row)
    if rows < H_out:  # split each image into equal blocks of rows
        rows = -(-H_out // -(-H_out // rows))  # ceil(H_out / ceil(H_out / rows))
    images = max(1, rows // H_out)
    blocks = []
    # an empty batch still makes one (empty) chunk, so the output has its shape
    for n in range(0, max(N, 1), images):
        for start in range(0, H_out, min(rows, H_out)):
            stop = min(start + rows, H_out)
            blocks.append(
                Chunk(
                    batch=slice(n, min(n + images, N)),
                    rows=slice(start, stop),
                    padded_rows=slice(start * s_h, (stop - 1) * s_h + span_h),
                    args=args._replace(output_size=(stop - start, W_out)),
                )
            )
    return blocks


def block_columns(padded, chunk, kernel_size, groups, out=None):
    """The columns of one block, per group: ``(n, groups, C_in_g * kH * kW, l)``."""
    block = padded[chunk.batch, :, chunk.padded_rows]
    cols = unfold_padded(block, kernel_size, chunk.args, out)  # (n, C_in*kH*kW, l)
    return cols.view(cols.shape[0], groups, cols.shape[1] // groups, cols.shape[-1])


class Conv2dUnfold(torch.autograd.Function):
    """unfold -> matmul; backward: two matmuls and fold.

    Per group g, with ``W_g`` the ``(C_out_g, C_in_g * kH * kW)`` weight matrix
    and ``X_n`` the columns of image n:

    - forward: ``Y_n = W_g @ X_n``;
    - ``grad_weight_g = sum over n of grad_Y_n @ X_n.T``;
    - ``grad_X_n = W_g.T @ grad_Y_n``, folded back onto the input.

    The columns are built a block at a time (:func:`chunks`), and only the input
    and weight are saved: unfolding again in backward costs one copy, where
    keeping the columns would hold about ``kH * kW`` times the input.
    Recomputing them from the saved input also keeps backward differentiable.
    Every block's columns and products are built in the same buffers
    (:func:`_buffers`).
    """

    @staticmethod
    def forward(ctx, input, weight, bias, args):
        ctx.save_for_backward(input, weight)
        ctx.args = args
        N, G, C_out_g, K_g, _ = _matrix_sizes(input, weight, args)
        weight_matrix = weight.reshape(G, C_out_g, K_g)
        padded = F.pad(input, args.pad)
        output = input.new_empty(N, G * C_out_g, *args.output_size)
        blocks = chunks(input, weight, args)
        cols_buffer, product_buffer = _buffers(input, blocks, G * K_g, G * C_out_g)
        for chunk in blocks:
            cols = block_columns(padded, chunk, weight.shape[2:], G, cols_buffer)
            product = _batched_matmul(weight_matrix, cols, product_buffer)
            target = output[chunk.batch, :, chunk.rows]  # a view
            target.copy_(product.view_as(target))
        if bias is not None:
            output += bias.view(1, -1, 1, 1)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        args = ctx.args
        needs_input, needs_weight, needs_bias, _ = ctx.needs_input_grad
        N, G, C_out_g, K_g, _ = _matrix_sizes(input, weight, args)
        weight_matrix = weight.reshape(G, C_out_g, K_g)
        blocks = chunks(input, weight, args)
        (cols_buffer,) = _buffers(input, blocks, G * K_g)
        grad_input = grad_weight = grad_bias = None

        grad_ys = []  # each block's output gradient as matrices: (n, G, C_out_g, l)
        for chunk in blocks:
            g = grad_output[chunk.batch, :, chunk.rows]
            grad_ys.append(g.reshape(g.shape[0], G, C_out_g, g.shape[2] * g.shape[3]))
        # one loop per gradient, so only one block's columns exist at a time
        if needs_weight:
            padded = F.pad(input, args.pad)
            grad_weight = 0
            for chunk, grad_y in zip(blocks, grad_ys, strict=True):
                cols = block_columns(padded, chunk, weight.shape[2:], G, cols_buffer)
                part = _batched_matmul(grad_y, cols.transpose(-1, -2))
                grad_weight = grad_weight + part.sum(0)  # (G, C_out_g, K_g)
            grad_weight = grad_weight.view(weight.shape)
        if needs_input:
            (top, bottom), (left, right) = args.padding
            H_pad, W_pad = input.shape[2] + top + bottom, input.shape[3] + left + right
            grad_padded = input.new_zeros(input.shape[0], input.shape[1], H_pad, W_pad)
            weight_t = weight_matrix.transpose(-1, -2)  # (G, K_g, C_out_g)
            for chunk, grad_y in zip(blocks, grad_ys, strict=True):
                grad_cols = _batched_matmul(weight_t, grad_y, cols_buffer)
                grad_cols = grad_cols.view(
                    grad_cols.shape[0], G * K_g, grad_cols.shape[-1]
                )
                band = grad_padded[chunk.batch, :, chunk.padded_rows]  # a view
                fold_padded(
                    grad_cols, band.shape[2:], weight.shape[2:], chunk.args, band
                )
            grad_input = crop(grad_padded, args)
        if needs_bias:
            grad_bias = conv2d_bias(grad_output)
        return grad_input, grad_weight, grad_bias, None


def _buffers(input, blocks, *rows):
    """Flat buffers for the largest block's matrices, one per entry of ``rows``.

    A block's columns have ``C_in * kH * kW`` rows and its product ``C_out``,
    each with one column per image and output pixel of the block. Allocating
    the same few megabytes afresh for every block can cost more than it seems:
    a large allocation can come fresh from the operating system, which then
    handles a page fault for each page on its first write. So the blocks share
    the buffers, one after another. While autograd records (a backward pass
    that is itself differentiated), a buffer would be overwritten after
    autograd saved it, so every block then gets its own tensors: a ``None`` for
    each buffer.
    """
    if torch.is_grad_enabled():
        return (None,) * len(rows)
    pixels = max(_block_pixels(chunk, input.shape[0]) for chunk in blocks)
    return tuple(input.new_empty(r * pixels) for r in rows)


def _block_pixels(chunk, N):
    """Images times output pixels in one block."""
    images = len(range(N)[chunk.batch])
    return images * chunk.args.output_size[0] * chunk.args.output_size[1]


def _matrix_sizes(input, weight, args):
    """(N, groups, C_out per group, rows of a group's columns, L)."""
    N, G = input.shape[0], args.groups
    C_out, C_in_g, kH, kW = weight.shape
    return N, G, C_out // G, C_in_g * kH * kW, args.output_size[0] * args.output_size[1]


def conv2d_unfold(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution as unfold -> matmul -> fold, backward written by hand.

    Derived in chapter 5. Same arguments and results as
    ``torch.nn.functional.conv2d``.

    Args:
        input: ``(N, C_in, H_in, W_in)`` or unbatched ``(C_in, H_in, W_in)``.
        weight: ``(C_out, C_in / groups, kH, kW)``.
        bias: ``(C_out,)`` or None.
        stride, dilation: an int or a pair (height, width).
        padding: an int, a pair, ``"valid"`` or ``"same"``.
        groups: how many independent groups the channels are split into.

    Returns:
        ``(N, C_out, H_out, W_out)``, or ``(C_out, H_out, W_out)`` when unbatched.

    Shape:
        ``H_out = floor((H_in + 2*p[0] - d[0]*(kH - 1) - 1) / s[0]) + 1`` with
        ``s, p, d`` the stride, padding and dilation, and the same for ``W_out``.

    Example:
        >>> x = torch.arange(9.0).view(1, 1, 3, 3)
        >>> w = torch.tensor([[[[1.0, 0.0], [0.0, -1.0]]]])
        >>> conv2d_unfold(x, w)
        tensor([[[[-4., -4.],
                  [-4., -4.]]]])
    """
    return apply_conv2d(
        Conv2dUnfold, input, weight, bias, stride, padding, dilation, groups
    )
