"""How libraries compute a convolution: three algorithms (chapter 11).

- *implicit GEMM* (:func:`column_source`, :func:`conv2d_implicit_gemm`): the
  unfold product of chapter 5 without storing the column matrix; each column
  entry is read from the input where index arithmetic says it lives;
- *Winograd* F(2×2, 3×3) (:data:`WINOGRAD_B`, :data:`WINOGRAD_G`,
  :data:`WINOGRAD_A`, :func:`winograd_tile`, :func:`conv2d_winograd`): a 2×2
  block of outputs from 16 multiplications instead of 36;
- *FFT* (:func:`conv2d_fft`): pad, transform, multiply, transform back, crop.

All compute ``F.conv2d``'s correlation (no kernel flip), groups=1; Winograd
and the FFT at stride 1 only. The Winograd code keeps Lavin and Gray's
letters: ``d`` a data tile, ``g`` a kernel, ``B``, ``G``, ``A`` transforms.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .arguments import pair

__all__ = [
    "WINOGRAD_A",
    "WINOGRAD_B",
    "WINOGRAD_G",
    "column_source",
    "conv2d_fft",
    "conv2d_implicit_gemm",
    "conv2d_winograd",
    "fast_length",
    "multiplies",
    "winograd_tile",
]


def _check(input, weight):
    """``input`` (N, C_in, H, W) and ``weight`` (C_out, C_in, kH, kW)."""
    if input.dim() != 4 or weight.dim() != 4:
        raise ValueError(
            f"input and weight must be 4-D, got input.shape="
            f"{tuple(input.shape)}, weight.shape={tuple(weight.shape)}"
        )
    if weight.shape[1] != input.shape[1]:
        raise ValueError(
            f"weight expects C_in={weight.shape[1]} but input has "
            f"C_in={input.shape[1]} (input.shape={tuple(input.shape)})"
        )


def column_source(
    row, column, kernel_size, W_out, stride=1, padding=0, dilation=1
):
    """Where entry ``(row, column)`` of ``F.unfold``'s matrix comes from.

    Row ``row = (c * kH + u) * kW + v`` is channel ``c``, kernel tap
    ``(u, v)``; column ``column = i * W_out + j`` is output ``(i, j)``.
    The entry is ``input[c, r, q]`` at::

        r = i * stride - padding + u * dilation   (likewise q, along W)

    or 0 when ``(r, q)`` falls in the padding.

    Returns:
        ``(c, r, q)``; ``r`` or ``q`` outside the image means padding.

    >>> column_source(5, 1, (3, 3), W_out=4, padding=1)  # c=0, u=1, v=2
    (0, 0, 2)
    """
    (kH, kW), (s_H, s_W) = pair(kernel_size), pair(stride)
    (p_H, p_W), (d_H, d_W) = pair(padding), pair(dilation)
    c, tap = divmod(row, kH * kW)
    u, v = divmod(tap, kW)
    i, j = divmod(column, W_out)
    return c, i * s_H - p_H + u * d_H, j * s_W - p_W + v * d_W


def conv2d_implicit_gemm(
    input, weight, stride=1, padding=0, dilation=1, tile=64
):
    """``F.conv2d`` as the unfold product, one tile of columns at a time.

    The column matrix is never stored: for each tile of ``tile`` output
    positions, the columns are gathered from the padded input with the
    index arithmetic of :func:`column_source`, multiplied, and dropped.

    Shape:
        input ``(N, C_in, H, W)``, weight ``(C_out, C_in, kH, kW)``, output
        ``(N, C_out, H_out, W_out)``, ``H_out = floor((H + 2*padding -
        dilation*(kH - 1) - 1) / stride) + 1``.
    """
    _check(input, weight)
    if tile < 1:
        raise ValueError(f"tile must be >= 1, got tile={tile}")
    N, C_in, H, W = input.shape
    C_out, _, kH, kW = weight.shape
    (s_H, s_W), (p_H, p_W) = pair(stride), pair(padding)
    (d_H, d_W) = pair(dilation)
    x = F.pad(input, (p_W, p_W, p_H, p_H))  # padding counted from 0
    Hp, Wp = x.shape[2:]
    H_out = (Hp - d_H * (kH - 1) - 1) // s_H + 1
    W_out = (Wp - d_W * (kW - 1) - 1) // s_W + 1
    if H_out < 1 or W_out < 1:
        raise ValueError(
            f"weight.shape={tuple(weight.shape)} with dilation="
            f"{(d_H, d_W)} is larger than the padded input {(Hp, Wp)}"
        )
    # the row part of the flat index (c, u, v), the column part (i, j)
    c, u, v = torch.meshgrid(
        torch.arange(C_in), torch.arange(kH), torch.arange(kW), indexing="ij"
    )
    row_offset = (c * Hp * Wp + u * d_H * Wp + v * d_W).reshape(-1, 1)
    i, j = torch.meshgrid(
        torch.arange(H_out), torch.arange(W_out), indexing="ij"
    )
    column_offset = (i * s_H * Wp + j * s_W).reshape(1, -1)
    flat = x.reshape(N, -1)
    weight_matrix = weight.reshape(C_out, -1)  # (C_out, C_in*kH*kW)
    tiles = []
    for start in range(0, H_out * W_out, tile):
        index = row_offset + column_offset[:, start : start + tile]
        # (N, C_in*kH*kW, tile): this tile only, for all N images at once
        cols = flat[:, index]
        tiles.append(weight_matrix @ cols)
    return torch.cat(tiles, -1).view(N, C_out, H_out, W_out)


# F(2x2, 3x3) (Lavin and Gray): Y = A^T [(G g G^T) * (B^T d B)] A
WINOGRAD_B = torch.tensor(
    [[1, 0, 0, 0], [0, 1, -1, 1], [-1, 1, 1, 0], [0, 0, 0, -1]],
    dtype=torch.float64,
)
WINOGRAD_G = torch.tensor(
    [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]],
    dtype=torch.float64,
)
WINOGRAD_A = torch.tensor(
    [[1, 0], [1, 1], [1, -1], [0, -1]], dtype=torch.float64
)


def winograd_tile(d, g):
    """The 2×2 correlation of a 4×4 tile ``d`` with a 3×3 kernel ``g``.

    ``A^T [(G g G^T) ⊙ (B^T d B)] A``: the transforms only add and halve;
    the 16 entries of ``⊙`` are the only multiplications of data by weights
    (36 directly: 4 outputs × 9 taps).

    >>> d = torch.arange(16.0, dtype=torch.float64).view(4, 4)
    >>> winograd_tile(d, torch.ones(3, 3, dtype=torch.float64))
    tensor([[45., 54.],
            [81., 90.]], dtype=torch.float64)
    """
    if d.shape[-2:] != (4, 4) or g.shape[-2:] != (3, 3):
        raise ValueError(
            f"d must be 4x4 and g 3x3, got d.shape={tuple(d.shape)}, "
            f"g.shape={tuple(g.shape)}"
        )
    B, G, A = (m.to(d.dtype) for m in (WINOGRAD_B, WINOGRAD_G, WINOGRAD_A))
    U = G @ g @ G.T  # the kernel, transformed once
    V = B.T @ d @ B  # the data tile, transformed
    return A.T @ (U * V) @ A


def conv2d_winograd(input, weight, padding=0):
    """``F.conv2d`` for 3×3 kernels, stride 1, by Winograd F(2×2, 3×3).

    The output is cut into 2×2 tiles (the input padded on the bottom and
    right to a whole number of tiles); each reads a 4×4 input tile, the
    tiles overlapping by 2. The products are summed over input channels in
    the transformed space, so each tile is transformed back once.
    """
    _check(input, weight)
    if weight.shape[2:] != (3, 3):
        raise ValueError(
            f"weight must be 3x3, got weight.shape={tuple(weight.shape)}"
        )
    (p_h, p_w) = pair(padding)
    N, C_in, H, W = input.shape
    H_out, W_out = H + 2 * p_h - 2, W + 2 * p_w - 2
    T_h, T_w = -(-H_out // 2), -(-W_out // 2)  # tiles per side (ceil)
    extra_h, extra_w = 2 * T_h - H_out, 2 * T_w - W_out
    x = F.pad(input, (p_w, p_w + extra_w, p_h, p_h + extra_h))
    d = x.unfold(2, 4, 2).unfold(3, 4, 2)  # (N, C_in, T_h, T_w, 4, 4)
    B, G, A = (m.to(x.dtype) for m in (WINOGRAD_B, WINOGRAD_G, WINOGRAD_A))
    U = G @ weight @ G.T  # (C_out, C_in, 4, 4)
    V = B.T @ d @ B  # (N, C_in, T_h, T_w, 4, 4)
    M = torch.einsum("ocuv,nctsuv->notsuv", U, V)  # 16 per tile, channel pair
    Y = A.T @ M @ A  # (N, C_out, T_h, T_w, 2, 2)
    Y = Y.permute(0, 1, 2, 4, 3, 5).reshape(N, -1, 2 * T_h, 2 * T_w)
    return Y[:, :, :H_out, :W_out]


def fast_length(n):
    """The smallest ``m >= n`` whose prime factors are all 2, 3, 5 or 7.

    FFTs of such lengths are fast; a length with a large prime factor is
    slow, so FFT convolutions pad up to one of these.

    >>> [fast_length(n) for n in (134, 142, 158, 160)]
    [135, 144, 160, 160]
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got n={n}")
    m = n
    while True:
        rest = m
        for p in (2, 3, 5, 7):
            while rest % p == 0:
                rest //= p
        if rest == 1:
            return m
        m += 1


def conv2d_fft(input, weight, padding=0):
    """``F.conv2d`` (stride 1) by the FFT: pad, transform, multiply, crop.

    The FFT computes a *convolution* (kernel flipped); flipping the kernel
    first turns it into ``F.conv2d``'s correlation. Both are zero-padded to
    at least ``H + kH - 1`` by ``W + kW - 1`` (``H``, ``W`` the padded
    input's size) so that the circular convolution of the FFT equals the
    linear one, rounded up by :func:`fast_length`; the valid part starts at
    row ``kH - 1``.
    """
    _check(input, weight)
    (p_h, p_w) = pair(padding)
    x = F.pad(input, (p_w, p_w, p_h, p_h))
    (H, W), (kH, kW) = x.shape[2:], weight.shape[2:]
    if kH > H or kW > W:
        raise ValueError(
            f"weight.shape={tuple(weight.shape)} is larger than the padded "
            f"input {(H, W)}"
        )
    size = (fast_length(H + kH - 1), fast_length(W + kW - 1))
    x_hat = torch.fft.rfft2(x, s=size)  # (N, C_in, P, Q // 2 + 1)
    w_hat = torch.fft.rfft2(weight.flip(-2, -1), s=size)
    # sum over input channels in the frequency domain
    y_hat = torch.einsum("ncpq,ocpq->nopq", x_hat, w_hat)
    y = torch.fft.irfft2(y_hat, s=size)
    return y[:, :, kH - 1 : H, kW - 1 : W]


def multiplies(method, k, H, W, channels=(1, 1)):
    """Multiplications of a k×k, stride-1 convolution.

    Args:
        method: ``"direct"`` (``k²`` per output), ``"winograd"`` (3×3 only,
            16 per 2×2 output tile), or ``"fft"``: the pointwise product
            (4 real multiplications per complex one, over the ``P × (Q//2 +
            1)`` half spectrum, ``P = H + k - 1``, ``Q = W + k - 1``) plus
            the transforms, each counted as radix-2, ``(n / 2) log2 n``
            complex multiplications for ``n = P Q``.
        H, W: the (padded) input size; the output is ``H - k + 1`` wide.
        channels: ``(C_in, C_out)``. Direct and Winograd cost
            ``C_in * C_out`` times one channel pair. The FFT's products do
            too, but its transforms are shared: ``C_in`` for the input,
            ``C_in * C_out`` for the kernels, ``C_out`` inverse ones (3
            for one pair, about 1 per pair for many channels).

    >>> multiplies("direct", 3, 10, 10), multiplies("winograd", 3, 10, 10)
    (576, 256)
    """
    C_in, C_out = channels
    if C_in < 1 or C_out < 1:
        raise ValueError(f"channels must be >= 1, got channels={channels}")
    pairs = C_in * C_out
    H_out, W_out = H - k + 1, W - k + 1
    if H_out < 1 or W_out < 1:
        raise ValueError(f"k={k} is larger than the input {(H, W)}")
    if method == "direct":
        return pairs * H_out * W_out * k * k
    if method == "winograd":
        if k != 3:
            raise ValueError(f"winograd here is F(2x2, 3x3): k=3, got k={k}")
        return pairs * 16 * -(-H_out // 2) * -(-W_out // 2)
    if method == "fft":
        P, Q = H + k - 1, W + k - 1
        n = P * Q
        transforms = C_in + pairs + C_out
        one = 4 * round(n / 2 * math.log2(n))
        return pairs * 4 * P * (Q // 2 + 1) + transforms * one
    raise ValueError(
        f"method must be 'direct', 'winograd' or 'fft', got {method!r}"
    )
