"""Pooling's backward passes and the receptive field (convnotes.layers)."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from convnotes.layers import (
    avg_pool2d_backward,
    max_pool2d_backward,
    receptive_field,
)


def test_receptive_field_by_hand():
    # 3x3 stride 2: 3 pixels, jump 2; then 3x3 dilation 2: 3 + 2*2*2 = 11
    assert receptive_field([(3, 2, 1), (3, 1, 2)]) == (11, 2)
    assert receptive_field([]) == (1, 1)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 2)),
        min_size=1,
        max_size=4,
    )
)
def test_receptive_field_matches_backpropagation(layers):
    # all-ones weights: the one-hot gradient reaches every pixel it reads
    size, jump = receptive_field(layers)
    x = torch.zeros(1, 1, 1, size + jump, dtype=torch.float64)
    x.requires_grad_(True)
    y = x
    for kernel, stride, dilation in layers:
        weight = torch.ones(1, 1, 1, kernel, dtype=torch.float64)
        y = F.conv2d(y, weight, stride=stride, dilation=dilation)
    assert y.shape[-1] == 2  # exactly two outputs fit: size + jump wide
    for out in range(2):
        grad_output = torch.zeros_like(y)
        grad_output[..., out] = 1
        (g,) = torch.autograd.grad(y, x, grad_output, retain_graph=True)
        columns = (g[0, 0, 0] != 0).nonzero().flatten()
        assert columns.min().item() == out * jump
        assert columns.max().item() == out * jump + size - 1


def test_receptive_field_bad_layer():
    with pytest.raises(ValueError, match=r"layers\[1\].*\(3, 0, 1\)"):
        receptive_field([(3, 1, 1), (3, 0, 1)])


def test_max_pool_by_hand():
    x = torch.tensor([[5.0, 1.0, 2.0], [5.0, 0.0, 7.0], [3.0, 4.0, 6.0]])
    x = x.view(1, 1, 3, 3)
    # windows of 2, stride 1: maxima 5 (first of two), 7, 5, 7
    g = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).view(1, 1, 2, 2)
    expected = torch.tensor([[1.0, 0, 0], [3.0, 0, 6.0], [0, 0, 0]])
    got = max_pool2d_backward(x, g, 2, stride=1)
    torch.testing.assert_close(got, expected.view(1, 1, 3, 3))


def test_avg_pool_by_hand():
    # one 3x3 window with padding 1 over a 1x1 image: 1/9 or 1/1
    g = torch.ones(1, 1, 1, 1)
    got = avg_pool2d_backward((1, 1, 1, 1), g, 3, padding=1)
    torch.testing.assert_close(got, torch.full((1, 1, 1, 1), 1 / 9))
    got = avg_pool2d_backward(
        (1, 1, 1, 1), g, 3, padding=1, count_include_pad=False
    )
    torch.testing.assert_close(got, torch.ones(1, 1, 1, 1))


pools = st.tuples(
    st.integers(1, 3),  # kH
    st.integers(1, 3),  # kW
    st.integers(1, 3),  # stride
    st.booleans(),  # padding: half the kernel, or none
    st.booleans(),  # count_include_pad
    st.integers(0, 2**16),  # seed
)


@settings(max_examples=60, deadline=None)
@given(pools)
def test_pool_backward_matches_autograd(case):
    kH, kW, stride, padded, include, seed = case
    padding = (kH // 2, kW // 2) if padded else 0
    generator = torch.Generator().manual_seed(seed)
    # small integers: many ties, which must go where PyTorch sends them
    x = torch.randint(0, 3, (2, 3, 7, 6), generator=generator)
    x = x.to(torch.float64).requires_grad_(True)
    args = ((kH, kW), stride, padding)
    y = F.max_pool2d(x, *args)
    g = torch.randn(y.shape, generator=generator, dtype=torch.float64)
    (expected,) = torch.autograd.grad(y, x, g)
    got = max_pool2d_backward(x.detach(), g, *args)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)

    y = F.avg_pool2d(x, *args, count_include_pad=include)
    (expected,) = torch.autograd.grad(y, x, g)
    got = avg_pool2d_backward(x.shape, g, *args, count_include_pad=include)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)
    assert got.is_contiguous()  # its own tensor, not a view of the padded


def test_max_pool_ties_planted_fault():
    # sending a tie to the last maximum instead of the first is caught
    x = torch.ones(1, 1, 2, 2, dtype=torch.float64, requires_grad=True)
    g = torch.ones(1, 1, 1, 1, dtype=torch.float64)
    (expected,) = torch.autograd.grad(F.max_pool2d(x, 2), x, g)
    last = torch.zeros(1, 1, 2, 2, dtype=torch.float64)
    last[..., 1, 1] = 1
    assert not torch.equal(last, expected)
    assert torch.equal(max_pool2d_backward(x.detach(), g, 2), expected)


def test_pool_bad_inputs():
    x = torch.zeros(1, 1, 4, 4)
    with pytest.raises(ValueError, match=r"grad_output.shape=\(1, 1, 3, 3\)"):
        max_pool2d_backward(x, torch.zeros(1, 1, 3, 3), 2)
    with pytest.raises(ValueError, match=r"padding=\(2, 2\).*kernel_size"):
        avg_pool2d_backward(x.shape, torch.zeros(1, 1, 3, 3), 2, 1, 2)
    with pytest.raises(ValueError, match=r"input_size must be.*\(4, 4\)"):
        avg_pool2d_backward((4, 4), torch.zeros(1, 1, 3, 3), 2)
    with pytest.raises(ValueError, match=r"kernel_size=\(5, 5\).*\(4, 4\)"):
        max_pool2d_backward(x, torch.zeros(1, 1, 1, 1), 5)
    with pytest.raises(ValueError, match="padding.*'same'"):
        avg_pool2d_backward(
            x.shape, torch.zeros(1, 1, 2, 2), 2, padding="same"
        )
    with pytest.raises(ValueError, match="stride"):
        max_pool2d_backward(x, torch.zeros(1, 1, 2, 2), 2, stride=0)
    # -inf in the input would tie with the -inf padding
    inf = torch.full((1, 1, 2, 2), float("-inf"))
    with pytest.raises(ValueError, match="-inf"):
        max_pool2d_backward(inf, torch.ones(1, 1, 3, 3), 2, 1, 1)
    assert max_pool2d_backward(inf, torch.ones(1, 1, 1, 1), 2).sum() == 1
    # the expected shape is shown
    with pytest.raises(ValueError, match=r"output shape \(1, 1, 2, 2\)"):
        avg_pool2d_backward(x.shape, torch.zeros(1, 1, 3, 3), 2)
    # grad_output and input are tensors; max pooling's share dtype, device
    with pytest.raises(TypeError, match="grad_output must be a torch.Tensor"):
        avg_pool2d_backward(x.shape, [[[[0.0, 0.0], [0.0, 0.0]]]], 2)
    with pytest.raises(TypeError, match="input must be a torch.Tensor"):
        max_pool2d_backward(x.tolist(), torch.zeros(1, 1, 2, 2), 2)
    with pytest.raises(TypeError, match="grad_output and input must share"):
        max_pool2d_backward(x, torch.zeros(1, 1, 2, 2).double(), 2)


def max_pool_backward(x, grad_output):
    """A right answer to ex-beyond-maxpool."""
    N, C, H, W = x.shape
    windows = x.view(N, C, H // 2, 2, W // 2, 2).permute(0, 1, 2, 4, 3, 5)
    windows = windows.reshape(N, C, H // 2, W // 2, 4)
    first = windows.argmax(-1, keepdim=True)
    grad = torch.zeros_like(windows).scatter(
        -1, first, grad_output.unsqueeze(-1)
    )
    grad = grad.view(N, C, H // 2, W // 2, 2, 2).permute(0, 1, 2, 4, 3, 5)
    return grad.reshape(N, C, H, W)


def last_max(x, grad_output):
    """A wrong answer: ties go to the last maximum."""
    flipped = max_pool_backward(x.flip(-1, -2), grad_output.flip(-1, -2))
    return flipped.flip(-1, -2)


def spread(x, grad_output):
    """A wrong answer: the gradient goes to every maximum of a window."""
    N, C, H, W = x.shape
    pooled = x.view(N, C, H // 2, 2, W // 2, 2).amax((3, 5))
    up = F.interpolate(pooled, scale_factor=2, mode="nearest")
    g = F.interpolate(grad_output, scale_factor=2, mode="nearest")
    return (x == up) * g


def with_unfold(x, grad_output):
    """Right numbers, but by the chapter's function, which uses F.unfold."""
    from convnotes.layers import max_pool2d_backward

    return max_pool2d_backward(x, grad_output, 2)


def with_autograd(x, grad_output):
    """Right numbers, but by autograd."""
    x = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(F.max_pool2d(x, 2), x, grad_output)
    return grad


def with_unpool(x, grad_output):
    """Right numbers, but by PyTorch's pooling indices."""
    _, where = F.max_pool2d(x, 2, return_indices=True)
    return F.max_unpool2d(grad_output, where, 2, output_size=x.shape[2:])


def test_the_ruled_out_answers_are_right_numbers():
    # so the maxpool checker refuses them for how, not for what
    x = torch.randint(0, 3, (2, 3, 6, 4)).double()
    g = torch.randn(2, 3, 3, 2, dtype=torch.float64)
    for answer in (with_unfold, with_autograd, with_unpool):
        torch.testing.assert_close(answer(x, g), max_pool_backward(x, g))


@pytest.mark.parametrize(
    ("label", "right", "wrong", "words"),
    [
        # stride applied before the layer's own growth: 47
        ("ex-beyond-receptive", (42, 4), (47, 4), "the size is 47"),
        ("ex-beyond-receptive", (42, 4), (42, 8), "the jump is 8"),
        (
            "ex-beyond-separable",
            (90316800, 4083072),
            (90316800, 4553472),  # a depthwise layer with 192 outputs
            "the separable count is 4,553,472",
        ),
        ("ex-beyond-maxpool", max_pool_backward, last_max, "the result"),
        ("ex-beyond-maxpool", max_pool_backward, spread, "first in"),
        ("ex-beyond-maxpool", max_pool_backward, with_unfold, "unfold:"),
        ("ex-beyond-maxpool", max_pool_backward, with_autograd, "max_pool2d"),
        ("ex-beyond-maxpool", max_pool_backward, with_unpool, "max_pool2d"),
    ],
)
def test_the_beyond_checkers(label, right, wrong, words):
    from convnotes.exercises import check

    assert check(label, right), check(label, right)
    feedback = check(label, wrong)
    assert not feedback
    assert words in repr(feedback), repr(feedback)
