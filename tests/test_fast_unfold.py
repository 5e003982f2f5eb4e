"""convnotes.fast.unfold: columns and fold as PyTorch's, adjoint, in blocks."""

import itertools

import pytest
import torch
import torch.nn.functional as F

import convnotes as cn
from convnotes.arguments import pair, window_args
from convnotes.fast.unfold import (
    BLOCK_BYTES,
    blocks,
    fold_padded,
    unfold_padded,
)
from convnotes.geometry import crop


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """F.unfold from the fast pieces: pad, then the strided-view columns."""
    size = tuple(input.shape[-2:])
    args = window_args(size, kernel_size, stride, padding, dilation)
    return unfold_padded(F.pad(input, args.pad), pair(kernel_size), args)


def fold(cols, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """F.fold from the fast pieces: fold onto the padded image, then crop."""
    output_size = pair(output_size)
    args = window_args(output_size, kernel_size, stride, padding, dilation)
    padded = args.padded_size(output_size)
    return crop(fold_padded(cols, padded, pair(kernel_size), args), args)


SETTINGS = list(
    itertools.product(
        [(2, 2), (3, 1), (1, 3)],  # kernel_size
        [1, (2, 1)],  # dilation
        [0, (1, 2)],  # padding
        [1, (2, 3)],  # stride
    )
)


NAMES = ("kernel_size", "dilation", "padding", "stride")


@pytest.mark.parametrize(NAMES, SETTINGS)
def test_unfold_and_fold_equal_pytorch(kernel_size, dilation, padding, stride):
    x = torch.randn(2, 3, 7, 8, dtype=torch.float64)
    kwargs = dict(
        kernel_size=kernel_size,
        dilation=dilation,
        padding=padding,
        stride=stride,
    )
    cols = unfold(x, **kwargs)
    torch.testing.assert_close(cols, F.unfold(x, **kwargs), rtol=0, atol=0)
    c = torch.randn_like(cols)
    expected = F.fold(c, (7, 8), **kwargs)
    torch.testing.assert_close(fold(c, (7, 8), **kwargs), expected)


def test_fold_is_the_adjoint_of_unfold():
    """<unfold(x), c> = <x, fold(c)>: fold is unfold's transpose (backward)."""
    x = torch.randn(2, 3, 9, 6, dtype=torch.float64)
    kwargs = dict(
        kernel_size=(3, 2), dilation=(2, 1), padding=1, stride=(1, 2)
    )
    cols = unfold(x, **kwargs)
    c = torch.randn_like(cols)
    left = (cols * c).sum()
    right = (x * fold(c, (9, 6), **kwargs)).sum()
    torch.testing.assert_close(left, right, rtol=1e-12, atol=1e-12)


def test_fold_of_unfold_counts_window_memberships():
    x = torch.ones(1, 1, 3, 3)
    assert fold(unfold(x, 2), 3, 2).view(3, 3).tolist() == [
        [1, 2, 1],
        [2, 4, 2],
        [1, 2, 1],
    ]


def test_teaching_columns_are_f_unfold_per_group():
    x = torch.randn(2, 4, 7, 8, dtype=torch.float64)
    w = torch.zeros(6, 2, 3, 2, dtype=x.dtype)
    args = cn.arguments.conv2d_args(x, w, stride=2, padding=1, groups=2)
    cols = cn.unfold.columns(x, (3, 2), args)
    expected = F.unfold(x, (3, 2), padding=1, stride=2)
    assert cols.shape == (2, 2, 2 * 3 * 2, expected.shape[-1])
    torch.testing.assert_close(cols.flatten(1, 2), expected, rtol=0, atol=0)


def test_blocks_bound_the_columns_and_cover_the_output():
    x, w = torch.zeros(64, 32, 64, 64), torch.zeros(64, 32, 3, 3)
    args = window_args((64, 64), 3, padding=1)
    found = blocks(x, w, args)
    per_row = 32 * 9 * 64 * 4  # bytes of the columns of one output row
    for block in found:
        images = block.batch.stop - block.batch.start
        rows = block.rows.stop - block.rows.start
        assert images * rows * per_row <= BLOCK_BYTES
        assert block.args.output_size == (rows, 64)
    # every (image, output row) is in exactly one block
    covered = sorted(
        (n, r)
        for b in found
        for n in range(b.batch.start, b.batch.stop)
        for r in range(b.rows.start, b.rows.stop)
    )
    assert covered == [(n, r) for n in range(64) for r in range(64)]


def test_small_images_are_blocked_whole_and_large_ones_by_rows(monkeypatch):
    monkeypatch.setattr("convnotes.fast.unfold.BLOCK_BYTES", 4 * 2**20)
    x, w = torch.zeros(64, 3, 8, 8), torch.zeros(4, 3, 3, 3)
    small = blocks(x, w, window_args(8, 3))
    assert small[0].rows == slice(0, 6) and small[0].batch.stop > 1
    x, w = torch.zeros(2, 64, 130, 130), torch.zeros(8, 64, 3, 3)
    large = blocks(x, w, window_args(130, 3, stride=2))
    assert all(b.batch.stop - b.batch.start == 1 for b in large)
    # as few blocks per image as 4 MiB allows (28 rows fit: 3 blocks for 64
    # rows), of equal height but for a shorter last one
    sizes = [b.rows.stop - b.rows.start for b in large if b.batch.start == 0]
    assert sizes == [22, 22, 20]
    # the padded rows a block reads: its first window's start to its last
    # window's end
    first = large[1]
    assert first.padded_rows.start == 2 * first.rows.start
    assert first.padded_rows.stop == 2 * (first.rows.stop - 1) + 3
