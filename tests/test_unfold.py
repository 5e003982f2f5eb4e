"""convnotes.unfold's unfold and fold: equal to PyTorch's, and adjoint to each other."""

import itertools

import pytest
import torch
import torch.nn.functional as F

from convnotes.conv2d_args import window_args
from convnotes.unfold import CHUNK_BYTES, batch_chunks, fold, unfold

SETTINGS = list(
    itertools.product(
        [(2, 2), (3, 1), (1, 3)],  # kernel_size
        [1, (2, 1)],  # dilation
        [0, (1, 2)],  # padding
        [1, (2, 3)],  # stride
    )
)


@pytest.mark.parametrize(("kernel_size", "dilation", "padding", "stride"), SETTINGS)
def test_unfold_and_fold_equal_pytorch(kernel_size, dilation, padding, stride):
    x = torch.randn(2, 3, 7, 8, dtype=torch.float64)
    kwargs = dict(
        kernel_size=kernel_size, dilation=dilation, padding=padding, stride=stride
    )
    cols = unfold(x, **kwargs)
    torch.testing.assert_close(cols, F.unfold(x, **kwargs), rtol=0, atol=0)
    c = torch.randn_like(cols)
    torch.testing.assert_close(fold(c, (7, 8), **kwargs), F.fold(c, (7, 8), **kwargs))


def test_fold_is_the_adjoint_of_unfold():
    """<unfold(x), c> = <x, fold(c)>: fold is unfold's transpose, hence its backward."""
    x = torch.randn(2, 3, 9, 6, dtype=torch.float64)
    kwargs = dict(kernel_size=(3, 2), dilation=(2, 1), padding=1, stride=(1, 2))
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


def test_unfold_rejects_bad_input():
    with pytest.raises(
        ValueError, match=r"input must be a 4-D tensor \(N, C, H, W\), got \(3, 3\)"
    ):
        unfold(torch.zeros(3, 3), 2)
    with pytest.raises(ValueError, match="kernel does not fit"):
        unfold(torch.zeros(1, 1, 3, 3), 4)


def test_fold_rejects_columns_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"cols.shape=\(1, 4, 5\)"):
        fold(torch.zeros(1, 4, 5), (3, 3), 2)  # 2x2 windows on 3x3: L must be 4
    with pytest.raises(ValueError, match=r"cols must be 3-D \(N, C \* 4, 4\)"):
        fold(torch.zeros(1, 3, 4), (3, 3), 2)


def test_batch_chunks_bound_the_columns():
    x, w = torch.zeros(64, 32, 64, 64), torch.zeros(64, 32, 3, 3)
    args = window_args((64, 64), 3, padding=1)
    chunks = batch_chunks(x, w, args)
    per_image = 32 * 9 * 64 * 64 * 4
    assert all((c.stop - c.start) * per_image <= CHUNK_BYTES for c in chunks)
    assert [i for c in chunks for i in range(c.start, c.stop)] == list(range(64))
    # an image whose columns alone exceed the budget still gets a chunk of its own
    big = torch.zeros(2, 256, 64, 64)
    chunks = batch_chunks(big, torch.zeros(8, 256, 3, 3), args)
    assert [(c.start, c.stop) for c in chunks] == [(0, 1), (1, 2)]
