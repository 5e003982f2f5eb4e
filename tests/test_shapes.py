"""convnotes.shapes: by hand, against PyTorch, properties, bad input."""

import itertools

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import convnotes as cn
from convnotes.shapes import output_padding_for, same_padding


def torch_conv_size(input_size, kernel_size, stride=1, padding=0, dilation=1):
    """(H_out, W_out) of F.conv2d on zeros, or None if PyTorch refuses."""
    x = torch.zeros(1, 1, *input_size)
    w = torch.zeros(1, 1, *kernel_size)
    try:
        out = F.conv2d(x, w, stride=stride, padding=padding, dilation=dilation)
    except RuntimeError:
        return None
    return tuple(out.shape[2:])


def torch_conv_transpose_size(
    input_size, kernel_size, stride, padding, output_padding, dilation
):
    x = torch.zeros(1, 1, *input_size)
    w = torch.zeros(1, 1, *kernel_size)
    try:
        out = F.conv_transpose2d(
            x,
            w,
            stride=stride,
            padding=padding,
            output_padding=output_padding,
            dilation=dilation,
        )
    except RuntimeError:
        return None
    return tuple(out.shape[2:])


def ours_or_none(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ValueError:
        return None


# 1. cases worked by hand (and the book's worked examples and exercises)


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((5, 3), {}, 3),  # 3 window positions: 0, 1, 2
        ((5, 3), dict(stride=2, padding=1), 3),  # padded 7, starts 0, 2, 4
        ((6, 3), dict(stride=2), 2),  # starts 0, 2; row 5 is never used
        ((3, 2), {}, 2),  # the 2x2 kernel on a 3x3 image
        ((224, 7), dict(stride=2, padding=3), 112),
        ((112, 3), dict(stride=2, padding=1), 56),
        # the forum question's stride-32 kernel
        ((128, 32), dict(stride=32), 4),
        ((159, 32), dict(stride=32), 4),
        ((160, 32), dict(stride=32), 5),
        ((10, 5), dict(padding=4), 14),  # full padding: n + k - 1
        ((10, 5), dict(dilation=2, padding=4), 10),  # span 9, half padding 4
        ((10, 4), dict(padding="same"), 10),
        # the kernel may be larger than the input
        ((3, 5), dict(padding="same"), 3),
        ((7, 3), dict(padding="valid", dilation=3), 1),
        (((28, 30), (5, 3)), dict(stride=(2, 1), padding=(2, 0)), (14, 28)),
        ((32, (3, 5)), {}, (30, 28)),  # an int broadcasts against a tuple
        (([8, 9], 3), {}, (6, 7)),  # lists are accepted, tuples returned
        ((torch.Size([8, 9]), 3), {}, (6, 7)),
    ],
)
def test_conv_output_size_by_hand(args, kwargs, expected):
    assert cn.conv_output_size(*args, **kwargs) == expected


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        # the full correlation of a 3-wide input with a 3-wide kernel
        ((3, 3), {}, 5),
        # gradient of the 2x2 kernel on a 3x3 image has 3x3 entries
        ((2, 2), {}, 3),
        ((4, 3), dict(stride=2, padding=1), 7),
        ((4, 3), dict(stride=2, padding=1, output_padding=1), 8),
        ((4, 32), dict(stride=32), 128),
        ((4, 32), dict(stride=32, output_padding=22), 150),
        ((5, 3), dict(padding="same"), 5),
        ((5, 3), dict(padding="valid"), 7),
        (((4, 5), 3), dict(stride=(2, 1), output_padding=(1, 0)), (10, 7)),
        # op < dilation is allowed
        ((3, 3), dict(dilation=3, output_padding=2), 11),
    ],
)
def test_conv_transpose_output_size_by_hand(args, kwargs, expected):
    assert cn.conv_transpose_output_size(*args, **kwargs) == expected


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_same_padding_splits_like_pytorch():
    assert same_padding(3) == (1, 1)
    assert same_padding(4) == (1, 2)
    assert same_padding(4, dilation=2) == (3, 3)
    assert same_padding((2, 5)) == ((0, 1), (2, 2))
    # PyTorch's "same" equals explicit padding with the larger half at the end
    x = torch.randn(1, 1, 7, 6, dtype=torch.float64)
    w = torch.randn(1, 1, 4, 3, dtype=torch.float64)
    (top, bottom), (left, right) = same_padding((4, 3))
    expected = F.conv2d(F.pad(x, (left, right, top, bottom)), w)
    torch.testing.assert_close(
        F.conv2d(x, w, padding="same"), expected, rtol=0, atol=1e-12
    )


def test_output_padding_for_by_hand():
    assert output_padding_for(8, 3, stride=2, padding=1) == 1
    assert output_padding_for(7, 3, stride=2, padding=1) == 0
    assert output_padding_for(150, 32, stride=32) == 22
    assert output_padding_for((8, 9), 3, stride=(2, 3)) == (1, 0)
    assert output_padding_for(9, 4, padding="same") == 0


# 2. agreement with PyTorch over a grid


def test_conv_output_size_matches_pytorch_on_a_grid():
    checked = rejected = 0
    for n, k, s, p, d in itertools.product(
        range(1, 11), range(1, 5), range(1, 4), range(3), (1, 2)
    ):
        ours = ours_or_none(
            cn.conv_output_size, (n, n + 1), (k, 1), (s, 1), (p, 0), (d, 1)
        )
        theirs = torch_conv_size((n, n + 1), (k, 1), (s, 1), (p, 0), (d, 1))
        assert ours == theirs, (n, k, s, p, d)
        checked += 1
        rejected += ours is None
    assert checked == 720 and 0 < rejected < checked


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_padding_strings_match_pytorch(padding):
    for n, k, d in itertools.product(range(1, 9), range(1, 6), (1, 2, 3)):
        ours = ours_or_none(
            cn.conv_output_size, (n, 5), (k, 2), padding=padding, dilation=d
        )
        theirs = torch_conv_size((n, 5), (k, 2), padding=padding, dilation=d)
        assert ours == theirs, (padding, n, k, d)


def test_conv_transpose_output_size_matches_pytorch_on_a_grid():
    grid = itertools.product(
        range(1, 7), range(1, 5), range(1, 4), range(3), range(3), (1, 2)
    )
    checked = rejected = 0
    for n, k, s, p, op, d in grid:
        args = ((n, 3), (k, 2), (s, 1), (p, 0), (op, 0), (d, 1))
        ours = ours_or_none(cn.conv_transpose_output_size, *args)
        assert ours == torch_conv_transpose_size(*args), (n, k, s, p, op, d)
        checked += 1
        rejected += ours is None
    assert checked == 1296 and 0 < rejected < checked


def test_conv_transpose_output_size_agrees_with_output_padding_for():
    # ConvTranspose2d(..., output_size=...) picks the output_padding itself
    layer = torch.nn.ConvTranspose2d(1, 1, 3, stride=3, padding=1)
    for n in range(3, 12):
        out = cn.conv_output_size(n, 3, stride=3, padding=1)
        op = output_padding_for(n, 3, stride=3, padding=1)
        y = layer(torch.zeros(1, 1, out, out), output_size=[n, n])
        size = cn.conv_transpose_output_size(out, 3, 3, 1, op)
        assert y.shape[-1] == n == size


# 4. properties

sizes = st.integers(1, 40)
small = st.integers(1, 6)
pads = st.integers(0, 6)


@settings(max_examples=150, deadline=None)
@given(
    n=st.tuples(sizes, sizes),
    k=st.tuples(small, small),
    s=st.tuples(small, small),
    p=st.tuples(pads, pads),
    d=st.tuples(st.integers(1, 4), st.integers(1, 4)),
)
def test_conv_output_size_property_matches_pytorch(n, k, s, p, d):
    ours = ours_or_none(cn.conv_output_size, n, k, s, p, d)
    assert ours == torch_conv_size(n, k, s, p, d)


@settings(max_examples=150, deadline=None)
@given(n=sizes, k=small, s=small, p=pads, d=st.integers(1, 4))
def test_transpose_undoes_conv_sizes(n, k, s, p, d):
    """Inputs sharing a conv output size all come back via output_padding."""
    out = ours_or_none(cn.conv_output_size, n, k, s, p, d)
    if out is None:
        return
    op = output_padding_for(n, k, s, p, d)
    assert 0 <= op < s
    assert cn.conv_transpose_output_size(out, k, s, p, op, d) == n
    # every size from n - op to n - op + s - 1 gives `out` (if positive)
    base = n - op
    same_out = {
        cn.conv_output_size(m, k, s, p, d)
        for m in range(max(base, 1), base + s)
    }
    assert same_out == {out}


@settings(max_examples=100, deadline=None)
@given(
    n=sizes,
    k=small,
    s=small,
    p=pads,
    op=st.integers(0, 5),
    d=st.integers(1, 4),
)
def test_conv_transpose_output_size_property_matches_pytorch(
    n, k, s, p, op, d
):
    args = ((n, 2), (k, 1), (s, 1), (p, 0), (op, 0), (d, 1))
    ours = ours_or_none(cn.conv_transpose_output_size, *args)
    assert ours == torch_conv_transpose_size(*args)


@settings(max_examples=50, deadline=None)
@given(n=sizes, k=small, d=st.integers(1, 4))
def test_same_keeps_the_size(n, k, d):
    assert cn.conv_output_size(n, k, padding="same", dilation=d) == n
    before, after = same_padding(k, d)
    assert cn.conv_output_size(n + before + after, k, dilation=d) == n


# bad input: the documented errors, naming the argument and its value

BAD_CONV = [
    (
        dict(input_size=0, kernel_size=3),
        ValueError,
        "must be positive, got input_size=0",
    ),
    (
        dict(input_size=(5, -1), kernel_size=3),
        ValueError,
        "input_size=(5, -1)",
    ),
    (
        dict(input_size=5, kernel_size=0),
        ValueError,
        "kernel_size must be positive",
    ),
    (
        dict(input_size=5, kernel_size=3, stride=0),
        ValueError,
        "must be positive, got stride=0",
    ),
    (
        dict(input_size=5, kernel_size=3, dilation=(1, 0)),
        ValueError,
        "dilation=(1, 0)",
    ),
    (
        dict(input_size=5, kernel_size=3, padding=-1),
        ValueError,
        "padding must be non-negative",
    ),
    (
        dict(input_size=3, kernel_size=5),
        ValueError,
        "kernel does not fit: kernel_size=5",
    ),
    (
        dict(input_size=5, kernel_size=3, dilation=3),
        ValueError,
        "spans 7, but input_size=5",
    ),
    (
        dict(input_size=(5, 5), kernel_size=(3, 3, 3)),
        ValueError,
        "kernel_size=(3, 3, 3)",
    ),
    (
        dict(input_size=(), kernel_size=3),
        ValueError,
        "input_size must not be an empty tuple",
    ),
    (
        dict(input_size=5, kernel_size=3, padding="full"),
        ValueError,
        "got padding='full'",
    ),
    (
        dict(input_size=5, kernel_size=3, padding="same", stride=2),
        ValueError,
        "stride=2",
    ),
    (dict(input_size=5.0, kernel_size=3), TypeError, "input_size=5.0 (float)"),
    (
        dict(input_size=5, kernel_size=True),
        TypeError,
        "kernel_size=True (bool)",
    ),
    (
        dict(input_size=5, kernel_size=(3, "3")),
        TypeError,
        "kernel_size=(3, '3')",
    ),
    (
        dict(input_size=5, kernel_size=3, padding=None),
        TypeError,
        "padding=None",
    ),
]


@pytest.mark.parametrize(("kwargs", "error", "message"), BAD_CONV)
def test_conv_output_size_rejects_bad_input(kwargs, error, message):
    with pytest.raises(error) as info:
        cn.conv_output_size(**kwargs)
    assert message in str(info.value)


BAD_TRANSPOSE = [
    (
        dict(input_size=4, kernel_size=3, stride=2, output_padding=2),
        "output_padding=2 with stride=2,",
    ),
    (
        dict(input_size=4, kernel_size=3, output_padding=-1),
        "output_padding must be non-negative",
    ),
    (dict(input_size=2, kernel_size=3, padding=3), "padding=3 is too large"),
    (
        dict(input_size=4, kernel_size=3, padding="same", stride=2),
        "padding='same' is only",
    ),
    (dict(input_size=4, kernel_size=3, padding="half"), "got padding='half'"),
    (dict(input_size=0, kernel_size=3), "input_size must be positive"),
    (
        dict(input_size=(4, 4), kernel_size=3, stride=(1, 2, 1)),
        "stride=(1, 2, 1)",
    ),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD_TRANSPOSE)
def test_conv_transpose_output_size_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError) as info:
        cn.conv_transpose_output_size(**kwargs)
    assert message in str(info.value)


def test_output_padding_for_rejects_a_kernel_that_does_not_fit():
    with pytest.raises(ValueError, match="kernel does not fit"):
        output_padding_for(3, 5)
