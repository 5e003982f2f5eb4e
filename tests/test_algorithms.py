"""Implicit GEMM, Winograd and FFT convolutions (convnotes.algorithms)."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from convnotes.algorithms import (
    column_source,
    conv2d_fft,
    conv2d_implicit_gemm,
    conv2d_winograd,
    fast_length,
    multiplies,
    winograd_tile,
)


def random(*shape, seed):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=generator, dtype=torch.float64)


def test_winograd_tile_by_hand():
    # the 1-D F(2, 3) inside: y0 = d0 g0 + d1 g1 + d2 g2, y1 shifted by one
    d = torch.zeros(4, 4, dtype=torch.float64)
    d[0] = torch.tensor([1.0, 2.0, 3.0, 4.0])
    g = torch.zeros(3, 3, dtype=torch.float64)
    g[0] = torch.tensor([1.0, 10.0, 100.0])
    expected = torch.tensor([[321.0, 432.0], [0.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(winograd_tile(d, g), expected)


def test_winograd_planted_fault():
    # a wrong sign in B is caught by the comparison with F.conv2d
    import convnotes.algorithms as algorithms

    x, w = random(1, 2, 6, 6, seed=1), random(3, 2, 3, 3, seed=2)
    saved = algorithms.WINOGRAD_B.clone()
    try:
        algorithms.WINOGRAD_B[1, 2] *= -1
        assert not torch.allclose(conv2d_winograd(x, w), F.conv2d(x, w))
    finally:
        algorithms.WINOGRAD_B.copy_(saved)
    torch.testing.assert_close(conv2d_winograd(x, w), F.conv2d(x, w))


def test_column_source_matches_unfold():
    x = random(1, 2, 5, 6, seed=3)
    kernel, stride, padding, dilation = (2, 3), (2, 1), (1, 2), (2, 1)
    cols = F.unfold(x, kernel, dilation, padding, stride)  # (1, 12, L)
    H_out = (5 + 2 - 2 - 1) // 2 + 1
    W_out = (6 + 4 - 2 - 1) // 1 + 1
    assert cols.shape[-1] == H_out * W_out
    for row in range(cols.shape[1]):
        for column in range(cols.shape[2]):
            c, h, w = column_source(
                row, column, kernel, W_out, stride, padding, dilation
            )
            inside = 0 <= h < 5 and 0 <= w < 6
            value = x[0, c, h, w] if inside else 0.0
            assert cols[0, row, column] == value


configs = st.tuples(
    st.integers(1, 3),  # N
    st.integers(1, 3),  # C_in
    st.integers(1, 3),  # C_out
    st.integers(3, 9),  # H
    st.integers(3, 9),  # W
    st.integers(0, 2),  # padding
    st.integers(0, 2**16),  # seed
)


@settings(max_examples=40, deadline=None)
@given(configs, st.integers(1, 3), st.integers(1, 2), st.integers(1, 5))
def test_implicit_gemm_matches_conv2d(config, k, step, tile):
    N, C_in, C_out, H, W, padding, seed = config
    assume(step * (k - 1) < min(H, W) + 2 * padding)
    x = random(N, C_in, H, W, seed=seed)
    w = random(C_out, C_in, k, k, seed=seed + 1)
    expected = F.conv2d(x, w, None, step, padding, step)
    got = conv2d_implicit_gemm(x, w, step, padding, step, tile=tile)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(configs)
def test_winograd_matches_conv2d(config):
    N, C_in, C_out, H, W, padding, seed = config
    x = random(N, C_in, H, W, seed=seed)
    w = random(C_out, C_in, 3, 3, seed=seed + 1)
    expected = F.conv2d(x, w, padding=padding)
    got = conv2d_winograd(x, w, padding)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(configs, st.integers(1, 3), st.integers(1, 3))
def test_fft_matches_conv2d(config, kH, kW):
    N, C_in, C_out, H, W, padding, seed = config
    x = random(N, C_in, H, W, seed=seed)
    w = random(C_out, C_in, kH, kW, seed=seed + 1)
    expected = F.conv2d(x, w, padding=padding)
    got = conv2d_fft(x, w, padding)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)


def test_fft_without_flip_is_convolution():
    # the FFT's product is a true convolution: without the flip, the result
    # is F.conv2d with the flipped kernel (and differs from F.conv2d)
    x, w = random(1, 1, 6, 6, seed=4), random(1, 1, 3, 3, seed=5)
    got = conv2d_fft(x, w.flip(-2, -1))
    assert not torch.allclose(got, F.conv2d(x, w))
    torch.testing.assert_close(got, F.conv2d(x, w.flip(-2, -1)))


def test_algorithms_are_differentiable():
    x = random(1, 2, 5, 5, seed=6).requires_grad_(True)
    w = random(2, 2, 3, 3, seed=7).requires_grad_(True)
    for function in (conv2d_winograd, conv2d_fft, conv2d_implicit_gemm):
        assert torch.autograd.gradcheck(function, (x, w))


def test_multiplies():
    assert multiplies("direct", 3, 6, 6) == 16 * 9
    assert multiplies("winograd", 3, 6, 6) == 4 * 16
    assert multiplies("winograd", 3, 5, 5) == 4 * 16  # 3x3 -> 4 tiles
    # the FFT's count barely depends on k; the direct one grows as k^2
    fft_3, fft_31 = (multiplies("fft", k, 256, 256) for k in (3, 31))
    assert fft_3 < fft_31 < 1.5 * fft_3
    assert multiplies("direct", 31, 256, 256) > 5 * fft_31


def test_multiplies_with_channels():
    # direct and Winograd: one channel pair's count, C_in * C_out times
    for method in ("direct", "winograd"):
        one = multiplies(method, 3, 20, 20)
        assert multiplies(method, 3, 20, 20, (4, 6)) == 24 * one
    # the FFT: products per pair, transforms shared (C_in + pairs + C_out)
    P = Q = 20 + 7 - 1
    product = 4 * P * (Q // 2 + 1)
    one = multiplies("fft", 7, 20, 20)
    transform = (one - product) // 3
    assert one == product + 3 * transform
    many = multiplies("fft", 7, 20, 20, (4, 6))
    assert many == 24 * product + (4 + 24 + 6) * transform
    assert many < 24 * one  # sharing saves
    with pytest.raises(ValueError, match=r"channels=\(0, 2\)"):
        multiplies("fft", 3, 8, 8, (0, 2))


def test_fast_length():
    for n in (1, 7, 134, 142, 158, 211, 1000):
        m = fast_length(n)
        assert m >= n
        rest = m
        for p in (2, 3, 5, 7):
            while rest % p == 0:
                rest //= p
        assert rest == 1, (n, m)
        # no smaller length >= n has only these factors
        assert all(fast_length(k) == m for k in range(n, m + 1))
    assert fast_length(142) == 144  # 142 = 2 * 71
    with pytest.raises(ValueError, match=r"n=0"):
        fast_length(0)


def test_fft_pads_to_a_fast_length():
    # 11 + 3 - 1 = 13 is prime: the transform is 14 long; still F.conv2d
    x, w = random(1, 2, 11, 9, seed=8), random(3, 2, 3, 3, seed=9)
    torch.testing.assert_close(
        conv2d_fft(x, w), F.conv2d(x, w), rtol=0, atol=1e-12
    )


def test_bad_inputs():
    x, w = torch.zeros(1, 2, 5, 5), torch.zeros(1, 3, 3, 3)
    with pytest.raises(ValueError, match=r"C_in=3.*input.shape=\(1, 2"):
        conv2d_fft(x, w)
    with pytest.raises(ValueError, match=r"weight must be 3x3.*\(1, 2, 5"):
        conv2d_winograd(x, torch.zeros(1, 2, 5, 5))
    with pytest.raises(ValueError, match=r"must be 4-D.*\(2, 5, 5\)"):
        conv2d_implicit_gemm(x[0], w)
    with pytest.raises(ValueError, match=r"tile must be >= 1.*tile=0"):
        conv2d_implicit_gemm(x, torch.zeros(1, 2, 3, 3), tile=0)
    with pytest.raises(ValueError, match=r"larger than the padded input"):
        conv2d_fft(x, torch.zeros(1, 2, 7, 7))
    with pytest.raises(ValueError, match=r"dilation=\(3, 3\).*\(5, 5\)"):
        conv2d_implicit_gemm(x, torch.zeros(1, 2, 3, 3), dilation=3)
    with pytest.raises(ValueError, match=r"method must be.*'gemm'"):
        multiplies("gemm", 3, 8, 8)
    with pytest.raises(ValueError, match=r"k=5"):
        multiplies("winograd", 5, 8, 8)
    with pytest.raises(ValueError, match=r"d must be 4x4.*\(3, 3\)"):
        winograd_tile(torch.zeros(3, 3), torch.zeros(3, 3))
