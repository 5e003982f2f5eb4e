"""Chapter 5's unfold -> matmul -> fold convolution, made fast (chapter 9).

Same results as :func:`convnotes.conv2d_unfold`. What is added, step by step:

- the columns are built from a strided *view* of the padded input, in one
  copy, and folded back with one strided addition per kernel tap;
- they are built a block of images or output rows at a time
  (:func:`blocks`), so a block's columns stay in the CPU's cache;
- every block's columns and products are built in the same memory
  (:func:`_buffers`);
- the products of a block's images and groups are one ``bmm`` (a
  ``baddbmm`` with the bias), written into a buffer or the output itself.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from ..arguments import Conv2dArgs, conv2d_function
from ..geometry import crop, tap_slices
from .per_tap import weight_grad_per_tap

__all__ = [
    "BLOCK_BYTES",
    "Block",
    "Conv2dUnfold",
    "blocks",
    "conv2d_unfold",
    "fold_padded",
    "unfold_padded",
]


def unfold_padded(padded, kernel_size, args, out=None):
    """Columns of an already padded input: ``(N, C * kH * kW, H_out * W_out)``.

    Built in the memory of ``out`` (a flat tensor, large enough) if given.
    """
    N, C = padded.shape[:2]
    kH, kW = kernel_size
    (s_h, s_w), (d_h, d_w) = args.stride, args.dilation
    span_h, span_w = d_h * (kH - 1) + 1, d_w * (kW - 1) + 1
    # a view, no copy: (N, C, H_out, W_out, span_h, span_w)
    windows = padded.unfold(2, span_h, s_h).unfold(3, span_w, s_w)
    windows = windows[..., ::d_h, ::d_w]  # every d-th tap: (..., kH, kW)
    # the one copy: channel-major columns, as F.unfold lays them out
    columns = windows.permute(0, 1, 4, 5, 2, 3)
    count = windows.shape[2] * windows.shape[3]  # windows: H_out * W_out
    if out is None:
        return columns.reshape(N, C * kH * kW, count)
    copied = _shaped(out, columns.shape).copy_(columns)
    return copied.view(N, C * kH * kW, count)


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
        padded[:, :, rows, cols_].add_(taps[:, :, u, v])  # in place, a view
    return padded


def _batched_matmul(a, b, out=None, add=None):
    """``a @ b`` over leading dims (N, groups), as one ``bmm`` on views.

    ``torch.matmul`` with a broadcast 2-D operand may copy the large operand
    transposed; ``bmm`` on views reads it in place. The product goes into the
    memory of ``out`` (flat, large enough) if given. ``add``, of shape
    ``(groups, rows, 1)``, is added to every column in the same pass.
    """
    N, G = b.shape[:2]
    a = a.expand(N, G, *a.shape[-2:]) if a.dim() == 3 else a
    a, b = a.reshape(N * G, *a.shape[-2:]), b.reshape(N * G, *b.shape[-2:])
    shape = (N * G, a.shape[1], b.shape[2])
    out = None if out is None else _shaped(out, shape)
    if add is None:
        product = torch.bmm(a, b, out=out)
    else:
        add = add.expand(N, G, a.shape[1], 1).reshape(N * G, a.shape[1], 1)
        product = torch.baddbmm(add, a, b, out=out)
    return product.view(N, G, *product.shape[-2:])


# Unfold at most this many bytes of columns at once. The columns are about
# kH * kW times larger than the input; a block of them this small fits in the
# last-level cache of many processors. Halving it makes twice as many small
# operations, each of which has to wake the other threads: measured on a 2-core
# CPU, 8 MiB beat 4 and 16 MiB on the benchmark's layers.
BLOCK_BYTES = 8 * 2**20


class Block(NamedTuple):
    """A block of the convolution: some images, some output rows."""

    batch: slice  # images
    rows: slice  # output rows
    padded_rows: slice  # the rows of the padded input their windows read
    args: Conv2dArgs  # the arguments, with this block's output size


def blocks(input, weight, args):
    """Blocks of whole images, or of an image's rows, with small columns."""
    N, C_in = input.shape[:2]
    kH, kW = weight.shape[2:]
    H_out, W_out = args.output_size
    s_h, span_h = args.stride[0], args.dilation[0] * (kH - 1) + 1
    row_bytes = C_in * kH * kW * W_out * input.element_size()  # per output row
    rows = max(1, BLOCK_BYTES // row_bytes)
    if rows < H_out:  # split each image into equal blocks of rows
        parts = -(-H_out // rows)  # ceil(H_out / rows) blocks per image
        rows = -(-H_out // parts)  # rows per block, rounded up
    images = max(1, rows // H_out)
    found = []
    # an empty batch still makes one (empty) block, so the output has its shape
    for n in range(0, max(N, 1), images):
        for start in range(0, H_out, min(rows, H_out)):
            stop = min(start + rows, H_out)
            found.append(
                Block(
                    batch=slice(n, min(n + images, N)),
                    rows=slice(start, stop),
                    padded_rows=slice(start * s_h, (stop - 1) * s_h + span_h),
                    args=args._replace(output_size=(stop - start, W_out)),
                )
            )
    return found


def block_columns(padded, block, kernel_size, out=None):
    """One block's columns per group: ``(n, groups, C_in_g * kH * kW, l)``."""
    pixels = padded[block.batch, :, block.padded_rows]
    cols = unfold_padded(pixels, kernel_size, block.args, out)
    return cols.unflatten(1, (block.args.groups, -1))  # a view


class Conv2dUnfold(torch.autograd.Function):
    """unfold -> matmul; backward: two matmuls and fold.

    Per group g, with ``W_g`` the ``(C_out_g, C_in_g * kH * kW)`` weight matrix
    and ``X_n`` the columns of image n:

    - forward: ``Y_n = W_g @ X_n``;
    - ``grad_weight_g = sum over n of grad_Y_n @ X_n.T``;
    - ``grad_X_n = W_g.T @ grad_Y_n``, folded back onto the input.

    The columns are built a block at a time (:func:`blocks`), and only the
    input and weight are saved: unfolding again in backward costs one copy,
    where keeping the columns would hold about ``kH * kW`` times the input.
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
        plan = blocks(input, weight, args)
        whole = all(
            block.args.output_size == args.output_size for block in plan
        )
        rows = (G * K_g,) if whole else (G * K_g, G * C_out_g)
        cols_buffer, *product_buffer = _buffers(input, plan, *rows)
        add = None if bias is None else bias.view(G, -1, 1)  # in the product
        for block in plan:
            cols = block_columns(padded, block, weight.shape[2:], cols_buffer)
            target = output[block.batch, :, block.rows]  # a view
            if whole:  # whole images: multiply straight into the output
                _batched_matmul(weight_matrix, cols, target.view(-1), add)
            else:
                product = _batched_matmul(
                    weight_matrix, cols, *product_buffer, add
                )
                target.copy_(product.view_as(target))
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        args = ctx.args
        needs_input, needs_weight, needs_bias, _ = ctx.needs_input_grad
        N, G, C_out_g, K_g, _ = _matrix_sizes(input, weight, args)
        kernel_size = weight.shape[2:]
        weight_matrix = weight.reshape(G, C_out_g, K_g)
        plan = blocks(input, weight, args)
        (cols_buffer,) = _buffers(input, plan, G * K_g)
        grad_input = grad_weight = grad_bias = None

        # each block's output gradient as matrices: (n, G, C_out_g, l)
        grad_ys = []
        for block in plan:
            g = grad_output[block.batch, :, block.rows]
            grad_ys.append(g.flatten(2).unflatten(1, (G, C_out_g)))
        # one loop per gradient, so only one block's columns exist at a time
        if needs_weight and args.stride == (1, 1):  # no columns needed at all
            grad_weight = weight_grad_per_tap(
                input, grad_output, weight.shape, args
            )
        elif needs_weight:
            padded = F.pad(input, args.pad)
            grad_weight = weight.new_zeros(G, C_out_g, K_g)
            for block, grad_y in zip(plan, grad_ys, strict=True):
                cols = block_columns(padded, block, kernel_size, cols_buffer)
                for image_y, image_cols in zip(grad_y, cols, strict=True):
                    grad_weight.baddbmm_(image_y, image_cols.transpose(-1, -2))
            grad_weight = grad_weight.view(weight.shape)
        if needs_input:
            padded_size = args.padded_size(input.shape)
            grad_padded = input.new_zeros(*input.shape[:2], *padded_size)
            weight_t = weight_matrix.transpose(-1, -2)  # (G, K_g, C_out_g)
            for block, grad_y in zip(plan, grad_ys, strict=True):
                grad_cols = _batched_matmul(weight_t, grad_y, cols_buffer)
                grad_cols = grad_cols.flatten(1, 2)  # (n, C_in*kH*kW, l)
                rows = grad_padded[block.batch, :, block.padded_rows]  # a view
                fold_padded(
                    grad_cols, rows.shape[2:], kernel_size, block.args, rows
                )
            grad_input = crop(grad_padded, args)
        if needs_bias:
            grad_bias = grad_output.sum((0, 2, 3))
        return grad_input, grad_weight, grad_bias, None


REUSE_BUFFERS = True  # False: new tensors per block (chapter 9 compares)


def _buffers(input, plan, *rows):
    """Flat buffers for the largest block's matrices, one per ``rows`` entry.

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
    if torch.is_grad_enabled() or not REUSE_BUFFERS:
        return (None,) * len(rows)
    pixels = max(_block_pixels(block, input.shape[0]) for block in plan)
    return tuple(input.new_empty(r * pixels) for r in rows)


def _block_pixels(block, N):
    """Images times output pixels in one block."""
    images = len(range(N)[block.batch])
    return images * block.args.output_size[0] * block.args.output_size[1]


def _matrix_sizes(input, weight, args):
    """(N, groups, C_out per group, rows of a group's columns, windows)."""
    N, G = input.shape[0], args.groups
    C_out, C_in_g, kH, kW = weight.shape
    H_out, W_out = args.output_size
    return N, G, C_out // G, C_in_g * kH * kW, H_out * W_out


conv2d_unfold = conv2d_function(
    Conv2dUnfold,
    "conv2d_unfold",
    "2-D convolution as unfold -> matmul -> fold, made fast (chapter 9).",
)
