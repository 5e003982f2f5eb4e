"""The stride-1 weight gradient as a matrix product per kernel tap (chapter 9).

The sum of :func:`convnotes.grad.conv2d_weight`, organised to copy little: no
border padding is made and no window is copied; each tap reads a shifted view
of the flattened input (the narrower of input and output gradient is first
given zero columns on the right, one copy, so that both share a width).
"""

from __future__ import annotations

import torch.nn.functional as F

__all__ = ["ROW_BLOCK_BYTES", "weight_grad_per_tap"]


# the bytes of a block of rows of the input and the output gradient
ROW_BLOCK_BYTES = 4 * 2**20


def weight_grad_per_tap(x, g, weight_shape, args):
    """The same sum, one matrix product per kernel tap (stride 1).

    Flatten the input and the output gradient into rows of one common width
    (the wider of the two, the other given zero columns on the right; for a
    "same" convolution both already have it). Output pixel ``q`` (flattened)
    meets, under tap ``(u, v)``, input pixel ``q + dr * width + dc`` with row
    shift ``dr = u * d - top`` and column shift ``dc = v * d - left``: so each
    tap is a matrix product of ``g_flat`` with a *shifted view* of ``x_flat``,
    with no padding and no copy. Two things need care:

    - where the input row ``i + dr`` is padding, the run is cut short: only
      the rows of ``g`` whose input row exists take part;
    - where ``j + dc`` falls off the left or right edge, the flat index runs
      into the neighbouring row instead of the padding. Those few products
      (``|dc|`` pixels per row) are computed separately and subtracted
      (:func:`_wrapped_terms`).

    The products run over blocks of output rows of at most
    ``ROW_BLOCK_BYTES`` (or one row, if a row is larger), every tap reading a
    block before the next one is touched: a block that fits in the CPU's
    cache is fetched from memory once, not once per tap. Each product's
    right-hand factor is a (pixels, channels) matrix, stored row by row only
    when its tensor is channels last (each pixel's channels together): so
    when ``g`` is channels last and ``x`` is not, the products are taken the
    other way round, ``x`` times ``g`` transposed, to hand the matrix library
    that factor row by row (:func:`_pixel_major`). Whether that is quicker
    depends on the library and the CPU.
    """
    N, _, H, W = x.shape
    C_out, C_in_g, kH, kW = weight_shape
    G = args.groups
    (d_h, d_w), (H_out, W_out) = args.dilation, args.output_size
    left, _, top, _ = args.pad
    width = max(W, W_out)
    x_wide = F.pad(x, (0, width - W)) if width > W else x
    g_wide = F.pad(g, (0, width - W_out)) if width > W_out else g
    x_flat = x_wide.reshape(N * G, C_in_g, H * width)
    g_flat = g_wide.reshape(N * G, C_out // G, H_out * width)
    swap = _pixel_major(g_flat) and not _pixel_major(x_flat)
    left_factor, right_factor = (x_flat, g_flat) if swap else (g_flat, x_flat)
    shifts = [
        (u * d_h - top, v * d_w - left) for u in range(kH) for v in range(kW)
    ]
    runs = [_run(dr, dc, H, H_out, width) for dr, dc in shifts]
    row_bytes = max(1, N * (C_out + C_in_g * G) * width * x.element_size())
    block = max(1, ROW_BLOCK_BYTES // row_bytes) * width
    taps = x.new_zeros(
        kH * kW, N * G, left_factor.shape[1], right_factor.shape[1]
    )
    for first in range(0, H_out * width, block):
        for tap, ((dr, dc), run) in enumerate(zip(shifts, runs, strict=True)):
            lo, hi = max(first, run.start), min(first + block, run.stop)
            if lo < hi:
                shift = dr * width + dc
                g_run = g_flat[:, :, lo:hi]
                x_run = x_flat[:, :, lo + shift : hi + shift]  # a view
                left_run, right_run = (
                    (x_run, g_run) if swap else (g_run, x_run)
                )
                taps[tap].baddbmm_(left_run, right_run.transpose(1, 2))
    for tap, terms in _wrapped_terms(x_wide, g_wide, shifts, runs, G):
        taps[tap].sub_(terms.transpose(1, 2) if swap else terms)
    if swap:
        taps = taps.transpose(2, 3)
    taps = taps.reshape(kH, kW, N, C_out, C_in_g).sum(2)
    return taps.permute(2, 3, 0, 1).contiguous()


def _pixel_major(flat):
    """Whether ``(batch, channels, pixels)`` is stored pixel by pixel."""
    return flat.shape[1] > 1 and flat.stride(1) == 1 and flat.shape[2] > 1


def _run(dr, dc, H, H_out, width):
    """Flat output positions whose input pixel, shifted by (dr, dc), is inside.

    Output rows ``i`` with ``0 <= i + dr < H``; in the first row the ``-dc``
    pixels before the image start are left out, in the last row the ``dc``
    after its end. Empty when the tap only ever reads padding.
    """
    first_row, end_row = max(0, -dr), min(H_out, H - dr)
    if first_row >= end_row or abs(dc) >= width:
        return range(0)
    return range(first_row * width + max(0, -dc), end_row * width - max(0, dc))


def _wrapped_terms(x_wide, g_wide, shifts, runs, G):
    """The products each tap's flat run took across a row edge.

    With ``dc < 0`` the first ``-dc`` output pixels of each row (but the run's
    first row, already cut) read the end of the input row above; with
    ``dc > 0`` the last ``dc`` pixels of each row (but the run's last) read the
    start of the row below. The columns involved are gathered once per column
    shift ``dc``. Yields ``(tap, terms)``, one product per (image, group):
    ``terms`` has shape ``(N * G, C_out / G, C_in / G)``.
    """
    width = g_wide.shape[3]
    columns = {}
    for tap, ((dr, dc), run) in enumerate(zip(shifts, runs, strict=True)):
        if dc == 0 or len(run) == 0:
            continue
        if dc not in columns:
            g_cols = slice(None, -dc) if dc < 0 else slice(width - dc, None)
            x_cols = slice(width + dc, None) if dc < 0 else slice(None, dc)
            columns[dc] = (
                _by_group(g_wide[..., g_cols], G),
                _by_group(x_wide[..., x_cols], G),
            )
        g_cols, x_cols = columns[dc]
        first_row, end_row = run.start // width, -(-run.stop // width)
        if dc < 0:
            g_part = g_cols[:, :, first_row + 1 : end_row]
            x_part = x_cols[:, :, first_row + dr : end_row + dr - 1]
        else:
            g_part = g_cols[:, :, first_row : end_row - 1]
            x_part = x_cols[:, :, first_row + dr + 1 : end_row + dr]
        yield tap, g_part.flatten(2) @ x_part.flatten(2).transpose(1, 2)


def _by_group(t, G):
    """``(N, C, ...)`` as a contiguous ``(N * G, C / G, ...)``."""
    N, C = t.shape[:2]
    return t.reshape(N * G, C // G, *t.shape[2:]).contiguous()
