"""convnotes.grad and convnotes.fast: closed-form gradients, against
torch.nn.grad and autograd. Every test of the contract runs on both, the
teaching versions and the fast ones."""

import warnings

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from test_conv2d import CONFIGS, tensors
from torch.autograd import gradcheck, gradgradcheck

from convnotes import fast
from convnotes import grad as teaching

TOL = dict(rtol=1e-10, atol=1e-10)


# every test runs on the module ``grad``: convnotes.grad, then convnotes.fast
pytestmark = pytest.mark.parametrize(
    "grad", [teaching, fast], ids=["grad", "fast"]
)


def autograd_grads(x, w, b, **kwargs):
    with warnings.catch_warnings():
        # silence PyTorch's note on "same" with even kernels
        warnings.simplefilter("ignore")
        y = F.conv2d(x, w, b, **kwargs)
    grad_output = torch.randn_like(y)
    inputs = [t for t in (x, w, b) if t is not None]
    return grad_output, torch.autograd.grad(y, inputs, grad_output)


def test_by_hand(grad):
    # the 2x2 kernel on the 3x3 image: weight gradient = patch sums; input
    # gradient = sums of the kernel entries that touched each pixel
    x = torch.arange(9.0, dtype=torch.float64).view(1, 1, 3, 3)
    w = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=torch.float64)
    g = torch.ones(1, 1, 2, 2, dtype=torch.float64)
    grad_weight = grad.conv2d_weight(x, w.shape, g)
    assert grad_weight.view(2, 2).tolist() == [[8, 12], [20, 24]]
    assert grad.conv2d_input(x.shape, w, g).view(3, 3).tolist() == [
        [1, 3, 2],
        [4, 10, 6],
        [3, 7, 4],
    ]
    assert teaching.conv2d_bias(g).tolist() == [4.0]


@pytest.mark.parametrize(("shape", "kwargs", "extra"), CONFIGS)
def test_matches_autograd_and_torch_nn_grad(shape, kwargs, extra, grad):
    x, w, b = tensors(**shape, groups=kwargs["groups"], **extra)
    grad_output, expected = autograd_grads(x, w, b, **kwargs)
    grad_input = grad.conv2d_input(x.shape, w, grad_output, **kwargs)
    grad_weight = grad.conv2d_weight(x, w.shape, grad_output, **kwargs)
    torch.testing.assert_close(grad_input, expected[0], **TOL)
    torch.testing.assert_close(grad_weight, expected[1], **TOL)
    # NCHW in, NCHW out, stored in that order, as PyTorch's own gradients
    assert grad_input.is_contiguous() and grad_weight.is_contiguous()
    if b is not None:
        torch.testing.assert_close(
            teaching.conv2d_bias(grad_output), expected[2], **TOL
        )
    if not isinstance(kwargs["padding"], str) and not extra["unbatched"]:
        torch.testing.assert_close(
            grad_input,
            torch.nn.grad.conv2d_input(x.shape, w, grad_output, **kwargs),
            **TOL,
        )
        torch.testing.assert_close(
            grad_weight,
            torch.nn.grad.conv2d_weight(x, w.shape, grad_output, **kwargs),
            **TOL,
        )


CASES = [
    (
        dict(N=2, C_in=2, H=5, W=6, C_out=3, kH=2, kW=3),
        dict(stride=(2, 1), padding=1),
    ),
    (
        dict(N=1, C_in=4, H=7, W=6, C_out=2, kH=3, kW=2),
        dict(dilation=(2, 1), groups=2),
    ),
    (dict(N=2, C_in=2, H=5, W=5, C_out=2, kH=2, kW=2), dict(padding="same")),
    # C_out * kH * kW <= C_in: cn.fast's two gradients take the columns
    (dict(N=2, C_in=9, H=5, W=4, C_out=1, kH=3, kW=3), dict(padding=1)),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize(("shape", "kwargs"), CASES)
def test_gradients_are_differentiable(shape, kwargs, grad):
    x, w, _ = tensors(**shape, groups=kwargs.get("groups", 1), bias=False)
    g = torch.randn_like(F.conv2d(x, w, **kwargs)).requires_grad_()

    def input_grad(w, g):
        return grad.conv2d_input(x.shape, w, g, **kwargs)

    def weight_grad(x, g):
        return grad.conv2d_weight(x, w.shape, g, **kwargs)

    assert gradcheck(input_grad, (w, g)) and gradgradcheck(input_grad, (w, g))
    assert gradcheck(weight_grad, (x, g))
    assert gradgradcheck(weight_grad, (x, g))


@settings(max_examples=40, deadline=None)
@given(
    N=st.integers(1, 2),
    H=st.integers(1, 9),
    W=st.integers(1, 9),
    k=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
)
def test_property_matches_autograd(
    N, H, W, k, stride, padding, dilation, grad
):
    x, w, _ = tensors(N, 2, H, W, 3, *k, bias=False)
    kwargs = dict(stride=stride, padding=padding, dilation=dilation)
    try:
        F.conv2d(x, w, **kwargs)
    except RuntimeError:  # PyTorch refuses: so must we
        with pytest.raises(ValueError, match="kernel does not fit"):
            grad.conv2d_weight(x, w.shape, torch.zeros(1), **kwargs)
        return
    grad_output, (expected_input, expected_weight) = autograd_grads(
        x, w, None, **kwargs
    )
    grad_input = grad.conv2d_input(x.shape, w, grad_output, **kwargs)
    grad_weight = grad.conv2d_weight(x, w.shape, grad_output, **kwargs)
    torch.testing.assert_close(grad_input, expected_input, **TOL)
    torch.testing.assert_close(grad_weight, expected_weight, **TOL)


X = torch.zeros(1, 3, 5, 5, dtype=torch.float64)
W = torch.zeros(4, 3, 3, 3, dtype=torch.float64)
G = torch.zeros(1, 4, 3, 3, dtype=torch.float64)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda grad: grad.conv2d_input((5, 5), W, G),
            ValueError,
            "input_size must have 4 entries",
        ),
        (
            lambda grad: grad.conv2d_input(7, W, G),
            TypeError,
            "input_size must be a sequence",
        ),
        (
            lambda grad: grad.conv2d_input(X.shape, W, G[:, :3]),
            ValueError,
            "grad_output must have the convolution's output shape "
            "(1, 4, 3, 3)",
        ),
        (
            lambda grad: grad.conv2d_input((1, 2, 5, 5), W, G),
            ValueError,
            "weight expects C_in=3",
        ),
        (
            lambda grad: grad.conv2d_input(X.shape, W, G, stride=0),
            ValueError,
            "stride must be",
        ),
        (
            lambda grad: grad.conv2d_input(X.shape, "w", G),
            TypeError,
            "weight must be a torch.Tensor",
        ),
        (
            lambda grad: grad.conv2d_weight(X, (4, 3, 3), G),
            ValueError,
            "weight_size must have 4",
        ),
        (
            lambda grad: grad.conv2d_weight(X, W.shape, G, padding=1),
            ValueError,
            "grad_output.shape=(1, 4, 3, 3)",
        ),
        (
            lambda grad: grad.conv2d_weight([1.0], W.shape, G),
            TypeError,
            "input must be a torch",
        ),
        (
            lambda grad: grad.conv2d_weight(X, (4, 3, 7, 7), G),
            ValueError,
            "kernel does not fit",
        ),
        (
            lambda grad: grad.conv2d_input(X.shape, W, G.float()),
            TypeError,
            "grad_output and weight must share dtype and device",
        ),
        (
            lambda grad: grad.conv2d_weight(X, W.shape, G.tolist()),
            TypeError,
            "grad_output must be a torch.Tensor, got list",
        ),
        (
            lambda grad: grad.conv2d_weight(X, W.shape, G.float()),
            TypeError,
            "grad_output and input must share dtype and device",
        ),
        (
            lambda grad: teaching.conv2d_bias(torch.zeros(3)),
            ValueError,
            "grad_output must be a 4-D",
        ),
    ],
)
def test_bad_input(call, error, message, grad):
    with pytest.raises(error) as info:
        call(grad)
    assert message in str(info.value)


@pytest.mark.parametrize("stride", [1, 2])
def test_no_autograd_inside(stride, grad):
    """The closed forms run neither autograd nor any convolution backward."""
    x, w, _ = tensors(2, 2, 6, 6, 3, 3, 3, bias=False)
    kwargs = dict(stride=stride, padding=1, dilation=2)
    g = torch.randn_like(F.conv2d(x, w, **kwargs)).detach()
    with torch.profiler.profile() as prof, torch.no_grad():
        grad_input = grad.conv2d_input(x.shape, w, g, **kwargs)
        grad_weight = grad.conv2d_weight(x, w.shape, g, **kwargs)
    names = {event.name for event in prof.events()}
    assert "aten::convolution" in names  # it does run convolutions...
    backward = {n for n in names if "backward" in n.lower()}
    assert not backward  # ...but no backward
    y = F.conv2d(x, w, **kwargs)
    expected = torch.autograd.grad(y, (x, w), g)
    torch.testing.assert_close(grad_input, expected[0], **TOL)
    torch.testing.assert_close(grad_weight, expected[1], **TOL)
