"""conv2d_loops, conv2d_unfold, fast.conv2d_unfold: the contract of F.conv2d,
backward by hand."""

import random
import warnings

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.autograd import gradcheck, gradgradcheck

import convnotes as cn

IMPLEMENTATIONS = [cn.conv2d_loops, cn.conv2d_unfold, cn.fast.conv2d_unfold]
ids = ["loops", "unfold", "fast"]
TOL = dict(rtol=1e-10, atol=1e-10)


def grads(conv, x, w, b, grad_output, **kwargs):
    inputs = [t for t in (x, w, b) if t is not None]
    y = conv(x, w, b, **kwargs)
    return (y, *torch.autograd.grad(y, inputs, grad_output))


def assert_matches_pytorch(conv, x, w, b=None, **kwargs):
    """Output and all gradients equal F.conv2d's (float64, tolerance 1e-10)."""
    y_ref = F.conv2d(x, w, b, **kwargs)
    grad_output = torch.randn_like(y_ref)
    ours = grads(conv, x, w, b, grad_output, **kwargs)
    theirs = grads(F.conv2d, x, w, b, grad_output, **kwargs)
    assert len(ours) == len(theirs)
    for mine, ref in zip(ours, theirs, strict=True):
        torch.testing.assert_close(mine, ref, **TOL)


def tensors(
    N, C_in, H, W, C_out, kH, kW, groups=1, bias=True, unbatched=False, seed=0
):
    g = torch.Generator().manual_seed(seed)

    def make(*shape):
        t = torch.randn(*shape, generator=g, dtype=torch.float64)
        return t.requires_grad_()

    x = make(C_in, H, W) if unbatched else make(N, C_in, H, W)
    w = make(C_out, C_in // groups, kH, kW)
    return x, w, (make(C_out) if bias else None)


# 1. by hand: the 2x2 kernel on a 3x3 image of chapter 1


@pytest.mark.parametrize("conv", IMPLEMENTATIONS, ids=ids)
def test_two_by_two_kernel_by_hand(conv):
    x = torch.arange(9.0, dtype=torch.float64).view(1, 1, 3, 3)
    x.requires_grad_()
    w = torch.tensor(
        [[[[1.0, 2.0], [3.0, 4.0]]]], dtype=torch.float64, requires_grad=True
    )
    b = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    y = conv(x, w, b)
    # y[0, 0] = 0*1 + 1*2 + 3*3 + 4*4 + 0.5, and so on
    expected = [[27.5, 37.5], [57.5, 67.5]]
    assert y.detach().view(2, 2).tolist() == expected
    y.sum().backward()
    # each weight gradient is the sum of the 2x2 patch that tap reads
    assert w.grad.view(2, 2).tolist() == [[8.0, 12.0], [20.0, 24.0]]
    # each pixel's gradient is the sum of the kernel entries that touched it
    assert x.grad.view(3, 3).tolist() == [[1, 3, 2], [4, 10, 6], [3, 7, 4]]
    assert b.grad.tolist() == [4.0]  # one per output


@pytest.mark.parametrize("conv", IMPLEMENTATIONS, ids=ids)
def test_stride_two_by_hand(conv):
    # stride 2, 1x5 row, 1x2 ones: windows [0,1] and [2,3]; pixel 4 unused
    x = torch.arange(5.0, dtype=torch.float64).view(1, 1, 1, 5)
    x.requires_grad_()
    w = torch.ones(1, 1, 1, 2, dtype=torch.float64, requires_grad=True)
    y = conv(x, w, stride=2)
    assert y.detach().flatten().tolist() == [1.0, 5.0]
    y.sum().backward()
    assert x.grad.flatten().tolist() == [1.0, 1.0, 1.0, 1.0, 0.0]
    assert w.grad.flatten().tolist() == [2.0, 4.0]


# 2. agreement with PyTorch over many configurations


def random_configs(count, seed):
    rng = random.Random(seed)
    configs = []
    while len(configs) < count:
        groups = rng.choice([1, 1, 2, 3])
        C_in, C_out = groups * rng.randint(1, 3), groups * rng.randint(1, 3)
        kH, kW = rng.randint(1, 4), rng.randint(1, 4)
        stride = (rng.randint(1, 3), rng.randint(1, 3))
        dilation = (rng.randint(1, 2), rng.randint(1, 3))
        padding = rng.choice(
            [(rng.randint(0, 2), rng.randint(0, 3)), 1, "valid", "same"]
        )
        if padding == "same":
            stride = 1
        H, W = rng.randint(1, 9), rng.randint(1, 9)
        kwargs = dict(
            stride=stride, padding=padding, dilation=dilation, groups=groups
        )
        shape = dict(
            N=rng.randint(1, 3), C_in=C_in, H=H, W=W, C_out=C_out, kH=kH, kW=kW
        )
        extra = dict(bias=rng.random() < 0.7, unbatched=rng.random() < 0.2)
        x, w, _ = tensors(**shape, groups=groups)
        try:  # keep only settings PyTorch accepts; refusals are tested below
            with warnings.catch_warnings():
                warnings.simplefilter(
                    "ignore"
                )  # PyTorch's note on even kernels and "same"
                F.conv2d(x, w, **kwargs)
        except RuntimeError:
            continue
        configs.append((shape, kwargs, extra))
    return configs


CONFIGS = random_configs(40, seed=2)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("conv", IMPLEMENTATIONS, ids=ids)
@pytest.mark.parametrize(("shape", "kwargs", "extra"), CONFIGS)
def test_matches_pytorch(conv, shape, kwargs, extra):
    x, w, b = tensors(**shape, groups=kwargs["groups"], **extra)
    assert_matches_pytorch(conv, x, w, b, **kwargs)


def test_the_configurations_cover_the_contract():
    kinds = [
        (kw["groups"] > 1, kw["padding"], ex["bias"], ex["unbatched"])
        for _, kw, ex in CONFIGS
    ]
    assert any(g for g, *_ in kinds) and any(not g for g, *_ in kinds)
    assert {"same", "valid"} <= {p for _, p, *_ in kinds if isinstance(p, str)}
    assert any(b for *_, b, _ in kinds) and any(not b for *_, b, _ in kinds)
    assert any(u for *_, u in kinds) and any(not u for *_, u in kinds)
    assert any(kw["stride"] not in (1, (1, 1)) for _, kw, _ in CONFIGS)
    assert any(kw["dilation"] != (1, 1) for _, kw, _ in CONFIGS)


@pytest.mark.parametrize("conv", IMPLEMENTATIONS, ids=ids)
def test_lists_and_one_element_tuples_are_accepted(conv):
    x, w, b = tensors(2, 3, 7, 6, 4, 3, 2)
    assert_matches_pytorch(
        conv, x, w, b, stride=[2, 1], padding=(1,), dilation=[1]
    )


@pytest.mark.parametrize("conv", IMPLEMENTATIONS, ids=ids)
def test_empty_batch(conv):
    x, w, b = tensors(0, 3, 5, 5, 4, 3, 3)
    y = conv(x, w, b)
    assert y.shape == (0, 4, 3, 3)
    y.sum().backward()
    assert x.grad.shape == x.shape and w.grad.abs().sum() == 0


@pytest.mark.parametrize("conv", IMPLEMENTATIONS, ids=ids)
def test_float32(conv):
    x, w, b = (
        t.detach().float().requires_grad_()
        for t in tensors(2, 4, 9, 9, 5, 3, 3)
    )
    y, *g = grads(conv, x, w, b, torch.ones(2, 5, 7, 7))
    y_ref, *g_ref = grads(F.conv2d, x, w, b, torch.ones(2, 5, 7, 7))
    assert y.dtype == torch.float32
    for mine, ref in zip((y, *g), (y_ref, *g_ref), strict=True):
        torch.testing.assert_close(mine, ref, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("conv", IMPLEMENTATIONS, ids=ids)
def test_only_the_gradients_asked_for_are_computed(conv):
    x, w, _ = tensors(1, 2, 5, 5, 3, 3, 3)
    x.requires_grad_(False)
    y = conv(x, w)
    (grad_w,) = torch.autograd.grad(y.sum(), [w])
    torch.testing.assert_close(
        grad_w, torch.autograd.grad(F.conv2d(x, w).sum(), [w])[0]
    )


def test_fast_unfold_does_not_depend_on_how_the_batch_is_blocked(monkeypatch):
    x, w, b = tensors(5, 4, 8, 8, 6, 3, 3, groups=2)
    g = torch.ones(5, 6, 8, 8)
    full = grads(cn.fast.conv2d_unfold, x, w, b, g, padding=1, groups=2)
    monkeypatch.setattr(cn.fast.unfold, "BLOCK_BYTES", 1)  # one row at a time
    chunked = grads(cn.fast.conv2d_unfold, x, w, b, g, padding=1, groups=2)
    for a, c in zip(full, chunked, strict=True):
        torch.testing.assert_close(a, c, **TOL)


# per output row below, 4 channels * 9 taps * 8 columns * 8 bytes = 2304
@pytest.mark.parametrize(
    ("block_bytes", "blocks"),
    [(5 * 2304, 10), (2 * 9 * 2304, 3)],
    ids=["bands of 5 and 4 rows", "2, 2 and 1 images"],
)
def test_fast_unfold_blocks_of_unequal_size_share_buffers(
    block_bytes, blocks, monkeypatch
):
    """Every block's columns are built in one buffer, the last, smaller block
    in its start; with and without autograd recording the backward."""
    monkeypatch.setattr(cn.fast.unfold, "BLOCK_BYTES", block_bytes)
    x, w, b = tensors(5, 4, 9, 8, 6, 3, 3, groups=2)
    assert len(blocks_of(x, w, padding=1, groups=2)) == blocks
    assert_matches_pytorch(cn.fast.conv2d_unfold, x, w, b, padding=1, groups=2)
    assert gradgradcheck(
        lambda x, w: cn.fast.conv2d_unfold(x, w, padding=1, groups=2),
        (x[:1], w),
    )


def blocks_of(x, w, **kwargs):
    args = cn.arguments.conv2d_args(x, w, None, **kwargs)
    return cn.fast.unfold.blocks(x, w, args)


# 3. gradcheck and gradgradcheck: the backward, and its own backward

GRADCHECK_CASES = [
    (dict(N=2, C_in=2, H=5, W=4, C_out=3, kH=2, kW=3), dict()),
    (
        dict(N=1, C_in=4, H=6, W=7, C_out=2, kH=3, kW=2),
        dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2),
    ),
    (
        dict(N=2, C_in=3, H=5, W=5, C_out=3, kH=2, kW=2),
        dict(padding="same", groups=3),
    ),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("conv", IMPLEMENTATIONS, ids=ids)
@pytest.mark.parametrize(("shape", "kwargs"), GRADCHECK_CASES)
def test_gradcheck_and_gradgradcheck(conv, shape, kwargs):
    x, w, b = tensors(**shape, groups=kwargs.get("groups", 1))

    def f(x, w, b):
        return conv(x, w, b, **kwargs)

    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))
    # gradgradcheck skips gradients that do not require grad, so check that
    # none is cut
    loss = (f(x, w, b) ** 2).sum()
    first = torch.autograd.grad(loss, (x, w, b), create_graph=True)
    assert all(g.requires_grad for g in first)


@pytest.mark.parametrize("conv", IMPLEMENTATIONS, ids=ids)
def test_second_derivatives_match_pytorch(conv):
    x, w, b = tensors(2, 2, 6, 6, 3, 3, 3)
    kwargs = dict(stride=2, padding=1)

    def hessian_vector(conv):
        y = conv(x, w, b, **kwargs)
        gx, gw = torch.autograd.grad((y**2).sum(), (x, w), create_graph=True)
        return torch.autograd.grad(gx.sin().sum() + gw.cos().sum(), (x, w, b))

    ours, theirs = hessian_vector(conv), hessian_vector(F.conv2d)
    for mine, ref in zip(ours, theirs, strict=True):
        torch.testing.assert_close(mine, ref, **TOL)


# 4. properties


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    groups=st.sampled_from([1, 2]),
    N=st.integers(1, 2),
    H=st.integers(1, 8),
    W=st.integers(1, 8),
    k=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
)
def test_property_matches_pytorch(
    data, groups, N, H, W, k, stride, padding, dilation
):
    conv = data.draw(st.sampled_from(IMPLEMENTATIONS))
    x, w, b = tensors(N, 2 * groups, H, W, 2 * groups, *k, groups=groups)
    kwargs = dict(
        stride=stride, padding=padding, dilation=dilation, groups=groups
    )
    try:
        F.conv2d(x, w, b, **kwargs)
    except RuntimeError:  # PyTorch refuses: so must we, with a ValueError
        with pytest.raises(ValueError, match="kernel does not fit"):
            conv(x, w, b, **kwargs)
        return
    assert_matches_pytorch(conv, x, w, b, **kwargs)


@settings(max_examples=20, deadline=None)
@given(scale=st.floats(-3, 3), seed=st.integers(0, 1000))
def test_property_linear_in_the_input(scale, seed):
    """conv(a*x1 + x2) = a*conv(x1) + conv(x2), for both implementations."""
    x1, w, _ = tensors(1, 2, 6, 5, 3, 3, 2, seed=seed)
    x2, _, _ = tensors(1, 2, 6, 5, 3, 3, 2, seed=seed + 1)
    for conv in IMPLEMENTATIONS:
        left = conv(scale * x1 + x2, w, padding=1)
        right = scale * conv(x1, w, padding=1) + conv(x2, w, padding=1)
        torch.testing.assert_close(left, right, **TOL)


# bad input: the documented errors, naming the argument and showing the shapes

X = torch.zeros(1, 3, 5, 5, dtype=torch.float64)
Wt = torch.zeros(4, 3, 3, 3, dtype=torch.float64)
BAD = [
    (
        dict(input=torch.zeros(3, 5, dtype=torch.float64)),
        ValueError,
        "input.shape=(3, 5)",
    ),
    (
        dict(input=torch.zeros(1, 1, 3, 5, 5, dtype=torch.float64)),
        ValueError,
        "input must be 4-D",
    ),
    (
        dict(weight=torch.zeros(4, 3, 3, dtype=torch.float64)),
        ValueError,
        "weight.shape=(4, 3, 3)",
    ),
    (
        dict(weight=torch.zeros(4, 2, 3, 3, dtype=torch.float64)),
        ValueError,
        "weight expects C_in=2 (groups=1) but input has C_in=3",
    ),
    (
        dict(weight=torch.zeros(4, 1, 3, 3, dtype=torch.float64), groups=2),
        ValueError,
        "groups=2 must divide both C_in=3 and C_out=4",
    ),
    (
        dict(weight=torch.zeros(6, 2, 3, 3, dtype=torch.float64), groups=3),
        ValueError,
        "weight expects C_in=6 (groups=3) but input has C_in=3",
    ),
    (dict(groups=0), ValueError, "groups must be positive"),
    (dict(groups=1.0), TypeError, "groups must be an int"),
    (
        dict(bias=torch.zeros(3, dtype=torch.float64)),
        ValueError,
        "bias.shape=(3,)",
    ),
    (
        dict(weight=torch.zeros(4, 3, 7, 7, dtype=torch.float64)),
        ValueError,
        "kernel does not fit",
    ),
    (dict(stride=0), ValueError, "stride must be positive, got stride=0"),
    (dict(dilation=(1, -1)), ValueError, "dilation must be positive"),
    (dict(padding=-1), ValueError, "padding must be non-negative"),
    (dict(padding="full"), ValueError, "got padding='full'"),
    (
        dict(padding="same", stride=2),
        ValueError,
        "padding='same' is only defined for stride=1",
    ),
    (dict(stride=(1, 1, 1)), ValueError, "stride=(1, 1, 1)"),
    (dict(input=[[1.0]]), TypeError, "input must be a torch.Tensor, got list"),
    (
        dict(input=torch.zeros(1, 3, 5, 5, dtype=torch.long)),
        TypeError,
        "input.dtype=torch.int64",
    ),
    (dict(weight=torch.zeros(4, 3, 3, 3)), TypeError, "weight: torch.float32"),
    (dict(stride=1.5), TypeError, "stride=1.5"),
]


@pytest.mark.parametrize("conv", IMPLEMENTATIONS, ids=ids)
@pytest.mark.parametrize(("override", "error", "message"), BAD)
def test_bad_input(conv, override, error, message):
    kwargs = dict(input=X, weight=Wt) | override
    with pytest.raises(error) as info:
        conv(**kwargs)
    assert message in str(info.value)


@pytest.mark.parametrize("conv", IMPLEMENTATIONS, ids=ids)
def test_size_errors_show_the_tensor_shapes(conv):
    with pytest.raises(ValueError) as info:
        conv(X, torch.zeros(4, 3, 7, 7, dtype=torch.float64))
    shapes = "(input.shape=(1, 3, 5, 5), weight.shape=(4, 3, 7, 7))"
    assert shapes in str(info.value)


@pytest.mark.parametrize("conv", IMPLEMENTATIONS, ids=ids)
def test_the_shared_docstring_names_each_function_and_its_example_runs(conv):
    import doctest

    assert conv.__doc__.splitlines()[0].startswith("2-D convolution")
    assert f">>> {conv.__name__}(x, w)" in conv.__doc__
    globs = {"torch": torch, conv.__name__: conv}
    test = doctest.DocTestParser().get_doctest(
        conv.__doc__, globs, conv.__name__, None, 0
    )
    runner = doctest.DocTestRunner()
    runner.run(test)
    assert runner.failures == 0 and runner.tries == 3
