"""convnotes.fast's gradient routes: each agrees with the teaching one."""

import warnings

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from test_conv2d import tensors
from test_grad import TOL, autograd_grads

from convnotes import arguments, fast, grad
from convnotes.fast import grad as fast_grad
from convnotes.fast import per_tap


def stride_one_case(N, H, W, groups, padding, dilation):
    """Input, 3x2 weight, output gradient and checked arguments.

    The weight has 2 channels per group.
    """
    x, w, _ = tensors(
        N, 2 * groups, H, W, 2 * groups, 3, 2, groups=groups, bias=False
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = F.conv2d(x, w, padding=padding, dilation=dilation, groups=groups)
    args = arguments.conv2d_args(x, w, None, 1, padding, dilation, groups)
    return x, w, torch.randn_like(y), args


@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("dilation", [1, (2, 1)])
@pytest.mark.parametrize("padding", [0, (1, 2), "same"])
@pytest.mark.parametrize("block_bytes", [1, 3000, per_tap.ROW_BLOCK_BYTES])
def test_the_two_weight_gradient_forms_agree(
    groups, dilation, padding, block_bytes, monkeypatch
):
    """Per kernel tap (for stride 1) and as one correlation (otherwise).

    ``block_bytes`` splits the per-tap sum into blocks of one row, of a few
    rows (not dividing the 7 output rows evenly), or runs it in one block.
    """
    monkeypatch.setattr(per_tap, "ROW_BLOCK_BYTES", block_bytes)
    x, w, g, args = stride_one_case(3, 7, 8, groups, padding, dilation)
    by_tap = per_tap.weight_grad_per_tap(x, g, tuple(w.shape), args)
    correlation = grad.weight_grad_correlation(x, g, tuple(w.shape), args)
    torch.testing.assert_close(by_tap, correlation, **TOL)


@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("dilation", [1, (2, 1)])
@pytest.mark.parametrize("padding", [0, (1, 2), (3, 0), "same"])
def test_the_two_input_gradient_forms_agree(groups, dilation, padding):
    """Full correlation (used for stride 1) and transposed convolution.

    Padding (3, 0) is more than a 3x2 kernel reaches with dilation 1, so the
    full correlation crops; "same" with an even kernel pads unevenly.
    """
    x, w, g, args = stride_one_case(2, 8, 7, groups, padding, dilation)
    flipped = fast_grad._input_grad_flipped(g, w, args)
    transposed = grad.input_grad_transposed(g, w, x.shape[2:], args)
    assert flipped.shape == x.shape
    torch.testing.assert_close(flipped, transposed, **TOL)


@settings(max_examples=60, deadline=None)
@given(
    H=st.integers(1, 7),
    W=st.integers(1, 7),
    k=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.tuples(st.integers(0, 4), st.integers(0, 4)),
    dilation=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    groups=st.sampled_from([1, 2]),
    block_bytes=st.sampled_from([1, 500, per_tap.ROW_BLOCK_BYTES]),
)
def test_property_stride_one_with_wide_padding(
    H, W, k, padding, dilation, groups, block_bytes
):
    """Stride 1, where both gradients take their fast forms: padding up to
    beyond the kernel's reach, taps that read only padding, blocks of any
    size."""
    x, w, _ = tensors(
        2, 2 * groups, H, W, 2 * groups, *k, groups=groups, bias=False
    )
    kwargs = dict(padding=padding, dilation=dilation, groups=groups)
    try:
        F.conv2d(x, w, **kwargs)
    except RuntimeError:
        return  # the kernel does not fit: covered above
    grad_output, (expected_input, expected_weight) = autograd_grads(
        x, w, None, **kwargs
    )
    saved, per_tap.ROW_BLOCK_BYTES = per_tap.ROW_BLOCK_BYTES, block_bytes
    try:
        grad_weight = fast.conv2d_weight(x, w.shape, grad_output, **kwargs)
    finally:
        per_tap.ROW_BLOCK_BYTES = saved
    torch.testing.assert_close(grad_weight, expected_weight, **TOL)
    grad_input = fast.conv2d_input(x.shape, w, grad_output, **kwargs)
    torch.testing.assert_close(grad_input, expected_input, **TOL)


def channels_last(t):
    return t.contiguous(memory_format=torch.channels_last)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("padding", [0, (1, 2), "same"])
@pytest.mark.parametrize("layout", ["x", "grad_output", "both"])
@pytest.mark.parametrize("block_bytes", [1, per_tap.ROW_BLOCK_BYTES])
def test_channels_last_operands(
    layout, padding, groups, block_bytes, monkeypatch
):
    """Either factor channels last (the per-tap products then run the other way
    round when only ``grad_output`` is) gives the same weight gradient, and a
    channels-last weight gives the same, channels-last, input gradient.

    Three input and five output channels, so that a product taken the wrong way
    round, or a correction left untransposed, cannot fit or pass.
    """
    monkeypatch.setattr(per_tap, "ROW_BLOCK_BYTES", block_bytes)
    C_in, C_out = 3 * groups, 5 * groups
    x, w, _ = tensors(2, C_in, 6, 7, C_out, 3, 2, groups=groups, bias=False)
    kwargs = dict(padding=padding, groups=groups)
    g, (expected_input, expected_weight) = autograd_grads(x, w, None, **kwargs)
    if layout in ("x", "both"):
        x = channels_last(x)
    if layout in ("grad_output", "both"):
        g = channels_last(g)
    grad_weight = fast.conv2d_weight(x, w.shape, g, **kwargs)
    grad_input = fast.conv2d_input(x.shape, channels_last(w), g, **kwargs)
    torch.testing.assert_close(grad_weight, expected_weight, **TOL)
    torch.testing.assert_close(grad_input, expected_input, **TOL)
    assert grad_input.is_contiguous(memory_format=torch.channels_last)
    assert not grad_input.is_contiguous()


@settings(max_examples=60, deadline=None)
@given(
    N=st.integers(1, 2),
    tiles=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    k=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    padding=st.tuples(st.integers(0, 3), st.integers(0, 3)),
    extra=st.tuples(st.integers(0, 3), st.integers(0, 3)),
    C=st.tuples(st.integers(1, 3), st.integers(1, 3)),
)
def test_property_windows_that_tile_the_input(N, tiles, k, padding, extra, C):
    """Stride equal to the kernel: both gradients are one matrix product.
    Padding, and rows or columns at the end that no window reads, must come
    out right."""
    H = tiles[0] * k[0] + extra[0] - 2 * padding[0]
    W = tiles[1] * k[1] + extra[1] - 2 * padding[1]
    if H < 1 or W < 1:
        return
    x, w, _ = tensors(N, C[0], H, W, C[1], *k, bias=False)
    kwargs = dict(stride=k, padding=padding)
    try:
        F.conv2d(x, w, **kwargs)
    except RuntimeError:
        return  # the kernel does not fit
    args = arguments.conv2d_args(x, w, None, **kwargs)
    assert fast_grad._tiles(args, k)
    grad_output, (expected_input, expected_weight) = autograd_grads(
        x, w, None, **kwargs
    )
    grad_input = fast.conv2d_input(x.shape, w, grad_output, **kwargs)
    grad_weight = fast.conv2d_weight(x, w.shape, grad_output, **kwargs)
    torch.testing.assert_close(grad_input, expected_input, **TOL)
    torch.testing.assert_close(grad_weight, expected_weight, **TOL)
    # NCHW in, NCHW out, as torch's own: also where a 1x1 kernel's product
    # happens to have each pixel's channels together
    assert grad_input.is_contiguous()


def test_teaching_flipped_kernel_route_equals_the_transposed_convolution():
    x, w, g, args = stride_one_case(2, 8, 7, 2, 1, 2)
    flipped = grad.input_grad_flipped(g, w, padding=1, dilation=2, groups=2)
    torch.testing.assert_close(
        flipped,
        grad.conv2d_input(x.shape, w, g, padding=1, dilation=2, groups=2),
        **TOL,
    )


def test_teaching_flipped_kernel_route_refuses_padding_past_the_kernel():
    x, w, g, args = stride_one_case(1, 2, 5, 3, 1, 1)
    with pytest.raises(ValueError, match=r"padding=3 .* = \(2, 1\)") as error:
        grad.input_grad_flipped(g, w, padding=3)
    assert "weight.shape=(" in str(error.value)
    with pytest.raises(ValueError, match=r"padding=\(0, 5\)"):
        grad.input_grad_flipped(g, w, padding=(0, 5), dilation=2)


def few_channels_case(kernel, padding=1, dilation=1, C_out=1, C_in=13):
    """Input, weight, output gradient, arguments and autograd's input
    gradient, with ``C_out * kH * kW <= C_in``."""
    torch.manual_seed(0)
    x = torch.randn(2, C_in, 9, 8, dtype=torch.float64, requires_grad=True)
    w = torch.randn(C_out, C_in, *kernel, dtype=torch.float64)
    kwargs = dict(padding=padding, dilation=dilation)
    g, (expected, _) = autograd_grads(x, w.requires_grad_(), None, **kwargs)
    return x.detach(), w.detach(), g, kwargs, expected


@pytest.mark.parametrize("kernel", [(1, 2), (3, 3), (3, 2), (2, 4)])
@pytest.mark.parametrize("padding", [0, 1, (1, 2), (3, 0), "same"])
@pytest.mark.parametrize("dilation", [1, (2, 1)])
def test_few_channels_route_is_the_input_gradient(
    kernel, padding, dilation, monkeypatch
):
    """With few output-gradient channels, stride 1 takes the columns, not the
    flipped convolution (made to fail here); padding (3, 0) is more than the
    kernels reach, "same" with an even kernel pads unevenly."""

    def no_convolution(*_):
        raise AssertionError("the flipped convolution was used")

    monkeypatch.setattr(fast_grad, "_input_grad_flipped", no_convolution)
    x, w, g, kwargs, expected = few_channels_case(kernel, padding, dilation)
    got = fast.conv2d_input(x.shape, w, g, **kwargs)
    torch.testing.assert_close(got, expected, **TOL)
    assert got.is_contiguous()


@pytest.mark.parametrize(
    ("C_out", "C_in", "kernel", "groups", "few"),
    [
        (1, 9, (3, 3), 1, True),
        (2, 18, (3, 3), 1, True),
        (2, 17, (3, 3), 1, False),
        (4, 4, (1, 1), 1, True),
        (2, 4, (1, 1), 2, False),
    ],
)
def test_few_channels_means_columns_no_larger_than_the_result(
    C_out, C_in, kernel, groups, few
):
    w = torch.zeros(C_out, C_in // groups, *kernel)
    args = arguments.conv2d_args(torch.zeros(1, C_in, 5, 5), w, groups=groups)
    assert fast_grad._few_channels(w.shape, args) is few


@pytest.mark.parametrize("layout", ["grad_output", "weight", "out"])
def test_few_channels_route_keeps_a_channels_last_layout(layout):
    """As a convolution would, a channels-last operand gives a channels-last
    result; ``out`` receives it. Two output-gradient channels, so that
    channels last is not also contiguous."""
    x, w, g, _, expected = few_channels_case((3, 3), C_out=2, C_in=18)
    args = arguments.conv2d_args(x, w, None, 1, 1, 1, 1)
    out = None
    if layout == "grad_output":
        g = channels_last(g)
    elif layout == "weight":
        w = channels_last(w)
    else:
        out = torch.full_like(x, float("nan")).to(
            memory_format=torch.channels_last
        )
    got = fast_grad.input_grad_columns(g, w, args, out)
    torch.testing.assert_close(got, expected, **TOL)
    assert got.is_contiguous(memory_format=torch.channels_last)
    assert not got.is_contiguous()
    if out is not None:
        assert got.data_ptr() == out.data_ptr()


@pytest.mark.parametrize(
    ("out", "words"),
    [
        (torch.zeros(2, 5, 9, 9), "shape (2, 5, 9, 8)"),
        (torch.zeros(2, 5, 9, 8), "channels last: False"),
        (
            torch.zeros(2, 5, 9, 8).to(memory_format=torch.channels_last),
            "dtype torch.float64",
        ),
        ("not a tensor", "got str"),
    ],
)
def test_input_grad_columns_refuses_an_out_it_cannot_fill(out, words):
    x = torch.zeros(2, 5, 9, 8, dtype=torch.float64)
    weight = torch.zeros(3, 5, 3, 3, dtype=torch.float64)
    grad_output = torch.zeros(2, 3, 9, 8, dtype=torch.float64)
    args = arguments.conv2d_args(x, weight, None, 1, 1, 1, 1)
    with pytest.raises(ValueError, match="out: expected") as raised:
        fast_grad.input_grad_columns(grad_output, weight, args, out)
    assert words in str(raised.value)


@pytest.mark.parametrize("padding", [0, 1])
def test_a_one_by_one_kernel_gives_nchw_memory_for_nchw_operands(padding):
    """Its tiles' product has each pixel's channels together; the result
    is still stored in NCHW order, as torch's own is."""
    x, w, _ = tensors(2, 3, 5, 4, 2, 1, 1, bias=False)
    g, (expected, _) = autograd_grads(x, w, None, padding=padding)
    got = fast.conv2d_input(x.shape, w, g, padding=padding)
    torch.testing.assert_close(got, expected, **TOL)
    assert got.is_contiguous()


REFUSING = {
    "input_grad_columns": lambda x, w, g, args: fast_grad.input_grad_columns(
        g, w, args
    ),
    "output_grad_columns": lambda x, w, g, args: fast_grad.output_grad_columns(
        g, w.shape, args
    ),
    "conv2d_few_outputs": lambda x, w, g, args: fast.chain.conv2d_few_outputs(
        x, w, args
    ),
}


@pytest.mark.parametrize("name", REFUSING)
@pytest.mark.parametrize(
    ("stride", "groups", "words"),
    [(2, 1, "stride=(2, 2), groups=1"), (1, 2, "stride=(1, 1), groups=2")],
)
def test_the_columns_routes_refuse_arguments_they_cannot_compute(
    name, stride, groups, words
):
    """A second group would give a result with too few channels, a stride
    the wrong pixels: both are refused, naming them."""
    x = torch.zeros(1, 4, 6, 6, dtype=torch.float64)
    weight = torch.zeros(2, 4 // groups, 3, 3, dtype=torch.float64)
    args = arguments.conv2d_args(x, weight, None, stride, 1, 1, groups)
    g = torch.zeros(1, 2, *args.output_size, dtype=torch.float64)
    with pytest.raises(ValueError, match=name) as raised:
        REFUSING[name](x, weight, g, args)
    assert words in str(raised.value)
    assert "weight.shape=(2," in str(raised.value)


@pytest.mark.parametrize("kernel", [(1, 2), (3, 3), (3, 2), (2, 4)])
@pytest.mark.parametrize("padding", [0, 1, (1, 2), (3, 0), "same"])
@pytest.mark.parametrize("dilation", [1, (2, 1)])
@pytest.mark.parametrize("layout", ["NCHW", "channels last"])
def test_few_channels_weight_route_is_the_weight_gradient(
    kernel, padding, dilation, layout, monkeypatch
):
    """With few output-gradient channels, stride 1 takes the columns times
    the input's pixels, not the per-tap products (made to fail here)."""

    def no_taps(*_):
        raise AssertionError("the per-tap products were used")

    monkeypatch.setattr(fast_grad, "weight_grad_per_tap", no_taps)
    x, w, _, kwargs, _ = few_channels_case(kernel, padding, dilation)
    x, w = x.requires_grad_(), w.requires_grad_()
    g, (_, expected) = autograd_grads(x, w, None, **kwargs)
    x, w = x.detach(), w.detach()
    x = channels_last(x) if layout == "channels last" else x
    got = fast.conv2d_weight(x, w.shape, g, **kwargs)
    torch.testing.assert_close(got, expected, **TOL)
    assert got.is_contiguous()


def test_the_columns_of_another_gradient_are_refused():
    """Columns made for other operands cannot give a silently wrong sum."""
    x, w, g, _, _ = few_channels_case((3, 3), C_out=1, C_in=13)
    args = arguments.conv2d_args(x, w, None, 1, 1, 1, 1)
    columns = fast_grad.output_grad_columns(g[:, :, :-1], w.shape, args)
    with pytest.raises(ValueError, match=r"columns: expected shape") as raised:
        fast_grad.input_grad_columns(g, w, args, columns=columns)
    assert "grad_output (2, 1, 9, 8)" in str(raised.value)
    with pytest.raises(ValueError, match=r"columns: expected shape") as raised:
        fast_grad.weight_grad_columns(columns, x, w.shape)
    assert "got (2, 9, 64)" in str(raised.value)


def test_weight_grad_columns_refuses_a_weight_of_groups():
    """Its weight has fewer input channels than the input: a second group,
    which the columns' sum does not split."""
    x = torch.zeros(1, 4, 6, 6, dtype=torch.float64)
    columns = torch.zeros(1, 2 * 9, 36, dtype=torch.float64)
    with pytest.raises(ValueError, match="weight_grad_columns") as raised:
        fast_grad.weight_grad_columns(columns, x, (2, 2, 3, 3))
    words = "got weight (2, 2, 3, 3) for input (1, 4, 6, 6)"
    assert words in str(raised.value)
