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
    "input_grad_full_correlation",
    "input_grad_transposed",
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
    back to the window it read, which is a transposed convolution
    (:func:`input_grad_transposed`). With stride 1 that is a full-padded
    correlation with the flipped kernel (:func:`input_grad_full_correlation`).

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
    if args.stride == (1, 1):
        grad_input = input_grad_full_correlation(g, weight, args)
    else:
        grad_input = input_grad_transposed(g, weight, shape[-2:], args)
    return grad_input if len(shape) == 4 else grad_input.squeeze(0)


def input_grad_transposed(g, weight, input_hw, args):
    """``F.conv_transpose2d`` with the ``output_padding`` that restores ``input_hw``."""
    (top, bottom), (left, right) = args.padding
    kernel = tuple(weight.shape[2:])
    if top == bottom and left == right:  # the transposed convolution pads alike
        pad = (top, left)
        extra = output_padding_for(input_hw, kernel, args.stride, pad, args.dilation)
        return F.conv_transpose2d(
            g, weight, None, args.stride, pad, extra, args.groups, args.dilation
        )
    # uneven "same" padding: no padding, then drop the padded border
    padded = (input_hw[0] + top + bottom, input_hw[1] + left + right)
    extra = output_padding_for(padded, kernel, args.stride, 0, args.dilation)
    full = F.conv_transpose2d(
        g, weight, None, args.stride, 0, extra, args.groups, args.dilation
    )
    return crop(full, args)


def input_grad_full_correlation(g, weight, args):
    """The stride-1 input gradient: ``g`` correlated with the flipped kernel.

    ``g`` gets full padding, ``d * (k - 1)`` zeros per side, less the forward
    padding ``p`` of that side (a negative amount crops), and the weight's
    channel dimensions swap within each group. It equals the transposed
    convolution and needs nothing but an ordinary convolution; the two compute
    the same sums by different routes and need not take the same time
    (chapter 7 times both).
    Like a convolution, it gives a channels-last result when ``g`` or ``weight``
    is channels last.
    """
    C_out, C_in_g, kH, kW = weight.shape
    G = args.groups
    swapped = weight.reshape(G, C_out // G, C_in_g, kH, kW).transpose(1, 2)
    flipped = swapped.reshape(G * C_in_g, C_out // G, kH, kW).flip(-1, -2)
    if _channels_last(weight):
        # stated outright: with one channel, a channels-last layout is ambiguous
        flipped = flipped.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
    (top, bottom), (left, right) = args.padding
    d_h, d_w = args.dilation
    pads = (
        d_w * (kW - 1) - left,
        d_w * (kW - 1) - right,
        d_h * (kH - 1) - top,
        d_h * (kH - 1) - bottom,
    )
    if pads[0] == pads[1] >= 0 and pads[2] == pads[3] >= 0:
        padding = (pads[2], pads[0])
    else:  # uneven, or more forward padding than the kernel reaches
        g, padding = F.pad(g, pads), 0
    return F.conv2d(g, flipped, None, 1, padding, args.dilation, G)


def _channels_last(t):
    """Whether ``t`` is stored channels last, and not just as readable both ways."""
    return t.is_contiguous(memory_format=torch.channels_last) and not t.is_contiguous()


def conv2d_weight(
    input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1
):
    """The gradient of a convolution with respect to its weight.

    Derived in chapter 7: ``grad_weight[o, c, u, v]`` sums
    ``grad_output[n, o, i, j] * input_padded[n, c, s*i + d*u, s*j + d*v]`` over
    ``n, i, j``. Read as a convolution over ``(i, j)``, the output gradient is the
    kernel, dilated by the stride, and it slides with a step of the dilation:
    stride and dilation trade places, and the batch plays the role of channels.
    That convolution has a kernel as large as the output gradient and an output
    only as large as the kernel; with stride 1 the package organises the same
    sum as one matrix product per kernel tap instead (:func:`weight_grad_per_tap`).

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


BAND_BYTES = 4 * 2**20  # a band of rows of the input and the output gradient


def weight_grad_per_tap(x, g, weight_shape, args):
    """The same sum, one matrix product per kernel tap (stride 1).

    Flatten the input and the output gradient into rows of one common width
    (the wider of the two, the other given zero columns on the right; for a
    "same" convolution both already have it). Output pixel ``q`` (flattened)
    meets, under tap ``(u, v)``, input pixel ``q + a * width + c`` with row shift
    ``a = u * d - top`` and column shift ``c = v * d - left``: so each tap is a
    matrix product of ``g_flat`` with a *shifted view* of ``x_flat``, with no
    padding and no copy. Two things need care:

    - where the input row ``i + a`` is padding, the run is cut short: only the
      rows of ``g`` whose input row exists take part;
    - where ``j + c`` falls off the left or right edge, the flat index runs into
      the neighbouring row instead of the padding. Those few products (``|c|``
      pixels per row) are computed separately and subtracted
      (:func:`_wrapped_terms`).

    The products run over bands of output rows of at most ``BAND_BYTES`` (or one
    row, if a row is larger), every tap reading a band before the next band is
    touched: a band that fits in the CPU's cache is fetched from memory once, not
    once per tap. Each product's right-hand factor is a (pixels, channels)
    matrix, stored row by row only when its tensor is channels last (each
    pixel's channels together): so when ``g`` is channels last and ``x`` is not,
    the products are taken the other way round, ``x`` times ``g`` transposed,
    to hand the matrix library that factor row by row (:func:`_pixel_major`).
    Whether that is quicker depends on the library and the CPU.
    """
    N, _, H, W = x.shape
    C_out, C_in_g, kH, kW = weight_shape
    G = args.groups
    (d_h, d_w), (H_out, W_out) = args.dilation, args.output_size
    (top, _), (left, _) = args.padding
    width = max(W, W_out)
    x_wide = F.pad(x, (0, width - W)) if width > W else x
    g_wide = F.pad(g, (0, width - W_out)) if width > W_out else g
    x_flat = x_wide.reshape(N * G, C_in_g, -1)
    g_flat = g_wide.reshape(N * G, C_out // G, -1)
    swap = _pixel_major(g_flat) and not _pixel_major(x_flat)
    left_factor, right_factor = (x_flat, g_flat) if swap else (g_flat, x_flat)
    shifts = [(u * d_h - top, v * d_w - left) for u in range(kH) for v in range(kW)]
    runs = [_run(a, c, H, H_out, width) for a, c in shifts]
    row_bytes = N * (C_out + C_in_g * G) * width * x.element_size()
    band = max(1, BAND_BYTES // row_bytes) * width
    taps = x.new_zeros(kH * kW, N * G, left_factor.shape[1], right_factor.shape[1])
    for first in range(0, H_out * width, band):
        for tap, ((a, c), run) in enumerate(zip(shifts, runs, strict=True)):
            lo, hi = max(first, run.start), min(first + band, run.stop)
            if lo < hi:
                shift = a * width + c
                g_run = g_flat[:, :, lo:hi]
                x_run = x_flat[:, :, lo + shift : hi + shift]  # a view
                left_run, right_run = (x_run, g_run) if swap else (g_run, x_run)
                taps[tap].baddbmm_(left_run, right_run.transpose(1, 2))
    for tap, terms in _wrapped_terms(x_wide, g_wide, shifts, runs, G):
        taps[tap].sub_(terms.transpose(1, 2) if swap else terms)
    if swap:
        taps = taps.transpose(2, 3)
    taps = taps.reshape(kH, kW, N, C_out, C_in_g).sum(2)
    return taps.permute(2, 3, 0, 1).contiguous()


def _pixel_major(flat):
    """Whether ``(batch, channels, pixels)`` keeps each pixel's channels together."""
    return flat.shape[1] > 1 and flat.stride(1) == 1 and flat.shape[2] > 1


def _run(a, c, H, H_out, width):
    """Flat output positions whose input pixel, shifted by (a, c), lies in the image.

    Output rows ``i`` with ``0 <= i + a < H``; in the first row the ``-c`` pixels
    before the image start are left out, in the last row the ``c`` after its end.
    Empty when the tap only ever reads padding.
    """
    first_row, end_row = max(0, -a), min(H_out, H - a)
    if first_row >= end_row or abs(c) >= width:
        return range(0)
    return range(first_row * width + max(0, -c), end_row * width - max(0, c))


def _wrapped_terms(x_wide, g_wide, shifts, runs, G):
    """The products each tap's flat run took across a row edge, per (image, group).

    With ``c < 0`` the first ``-c`` output pixels of each row (but the run's
    first row, already cut) read the end of the input row above; with ``c > 0``
    the last ``c`` pixels of each row (but the run's last) read the start of the
    row below. The columns involved are gathered once per column shift ``c``.
    Yields ``(tap, terms)`` with ``terms`` of shape ``(N * G, C_out / G, C_in / G)``.
    """
    width = g_wide.shape[3]
    columns = {}
    for tap, ((a, c), run) in enumerate(zip(shifts, runs, strict=True)):
        if c == 0 or len(run) == 0:
            continue
        if c not in columns:
            g_cols = slice(None, -c) if c < 0 else slice(width - c, None)
            x_cols = slice(width + c, None) if c < 0 else slice(None, c)
            columns[c] = (
                _by_group(g_wide[..., g_cols], G),
                _by_group(x_wide[..., x_cols], G),
            )
        g_cols, x_cols = columns[c]
        first_row, end_row = run.start // width, -(-run.stop // width)
        if c < 0:
            g_part = g_cols[:, :, first_row + 1 : end_row]
            x_part = x_cols[:, :, first_row + a : end_row + a - 1]
        else:
            g_part = g_cols[:, :, first_row : end_row - 1]
            x_part = x_cols[:, :, first_row + a + 1 : end_row + a]
        yield tap, torch.matmul(g_part.flatten(2), x_part.flatten(2).transpose(1, 2))


def _by_group(t, G):
    """``(N, C, ...)`` as a contiguous ``(N * G, C / G, ...)``."""
    return t.reshape(t.shape[0] * G, t.shape[1] // G, *t.shape[2:]).contiguous()


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
