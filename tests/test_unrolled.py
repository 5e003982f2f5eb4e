"""convnotes.unrolled: the deep-unfolding network of chapter 8."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.autograd import gradcheck, gradgradcheck
from torch.func import functional_call

from convnotes import unrolled


def small(inner="manual", **kwargs):
    options = dict(block=4, measurements=3, stages=2, features=2, inner=inner)
    return unrolled.BlockCS(**{**options, **kwargs}).double()


def test_measure_and_back_project_by_hand():
    # one kernel of ones on 2x2 blocks: each measurement is a block's sum, and
    # the back-projection spreads each measurement over its block
    model = unrolled.BlockCS(block=2, measurements=1, stages=1, features=1)
    with torch.no_grad():
        model.sensing.fill_(1.0)
        x = torch.arange(16.0).view(1, 1, 4, 4)
        y = model.measure(x)
        measured = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
        spread = model.back_project(measured, x.shape)
    assert y.view(2, 2).tolist() == [[10.0, 18.0], [42.0, 50.0]]
    assert spread[0, 0].tolist() == [
        [1, 1, 2, 2],
        [1, 1, 2, 2],
        [3, 3, 4, 4],
        [3, 3, 4, 4],
    ]


def test_manual_and_autograd_inner_gradients_are_the_same_network():
    """Same output, same gradient for every parameter (float64)."""
    x = torch.rand(2, 1, 8, 12, dtype=torch.float64)
    results = []
    for inner in unrolled.INNER:
        model = small(inner)
        with torch.no_grad():  # inference: no graph around the inner gradient
            inference = model(model.measure(x), x.shape)
        loss = F.mse_loss(model(model.measure(x), x.shape), x)
        grads = torch.autograd.grad(loss, list(model.parameters()))
        results.append((inference, loss, grads))
    (out_m, loss_m, grads_m), (out_a, loss_a, grads_a) = results
    torch.testing.assert_close(out_m, out_a, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(loss_m, loss_a, rtol=1e-12, atol=0)
    assert any(g.abs().sum() > 0 for g in grads_m)
    for gm, ga in zip(grads_m, grads_a, strict=True):
        torch.testing.assert_close(gm, ga, rtol=1e-10, atol=1e-12)


def test_data_gradient_is_the_gradient_of_the_data_term():
    model = small()
    x = torch.rand(1, 1, 8, 8, dtype=torch.float64, requires_grad=True)
    y = torch.rand(1, 3, 2, 2, dtype=torch.float64)
    loss = 0.5 * (model.measure(x) - y).pow(2).sum()
    (expected,) = torch.autograd.grad(loss, x)
    torch.testing.assert_close(model.data_gradient(x, y), expected)


@pytest.mark.parametrize("inner", unrolled.INNER)
def test_reconstruction_is_twice_differentiable_in_the_sensing_kernel(inner):
    model = small(inner, stages=1)
    x = torch.rand(1, 1, 8, 4, dtype=torch.float64)

    def reconstruct(sensing):
        params = {"sensing": sensing}
        y = F.conv2d(x, sensing, stride=4)
        return functional_call(model, params, (y, x.shape))

    sensing = model.sensing.detach().clone().requires_grad_()
    assert gradcheck(reconstruct, (sensing,))
    assert gradgradcheck(reconstruct, (sensing,))


def test_training_lowers_the_loss_and_is_reproducible():
    image = torch.rand(40, 40, dtype=torch.float64)
    losses = [
        unrolled.train(small(), image, steps=15, batch=2, size=8, lr=1e-2)
        for _ in range(2)
    ]
    assert losses[0] == losses[1]
    assert sum(losses[0][-3:]) < sum(losses[0][:3])


def test_inner_gradient_gap_is_rounding_and_leaves_the_model_as_it_was():
    model = small(inner="autograd")
    x = torch.rand(2, 1, 8, 8, dtype=torch.float64)
    assert unrolled.inner_gradient_gap(model, x) < 1e-12
    assert model.inner == "autograd"


def test_inner_gradient_gap_sees_a_wrong_gradient_step():
    class Wrong(unrolled.BlockCS):
        def data_gradient(self, x, y):
            scale = 1.1 if self.inner == "manual" else 1.0
            return scale * super().data_gradient(x, y)

    model = Wrong(block=4, measurements=3, stages=2, features=2).double()
    x = torch.rand(2, 1, 8, 8, dtype=torch.float64)
    assert unrolled.inner_gradient_gap(model, x) > 1e-3


def test_train_calls_each_step_before_learning_from_each_batch():
    image = torch.rand(40, 40, dtype=torch.float64)
    seen = []

    def each_step(model, x):
        seen.append(x.clone())
        return unrolled.inner_gradient_gap(model, x)

    losses, gaps = unrolled.train(
        small(), image, steps=3, batch=2, size=8, each_step=each_step
    )
    assert len(losses) == len(gaps) == 3
    assert max(gaps) < 1e-12
    # the first call saw the first batch at the initial parameters
    assert gaps[0] == unrolled.inner_gradient_gap(small(), seen[0])
    assert losses == unrolled.train(small(), image, steps=3, batch=2, size=8)


def test_initial_parameters_are_drawn_in_float64_then_rounded():
    # float32 draws of one seed differ between CPU kernels, float64 ones do not
    options = dict(block=4, measurements=3, stages=1, features=2)
    model = unrolled.BlockCS(**options, seed=5)
    generator = torch.Generator().manual_seed(5)
    drawn = torch.randn(3, 1, 4, 4, generator=generator, dtype=torch.float64)
    assert torch.equal(model.sensing.detach(), drawn.float() / 4)
    assert model.sensing.dtype == torch.float32


def test_psnr_by_hand():
    reference = torch.full((1, 1, 4, 4), 0.5)
    psnr = unrolled.psnr(reference + 0.1, reference)
    assert psnr == pytest.approx(20.0, abs=1e-4)
    # values outside [0, 1] are clipped first, as a displayed image would be
    white = torch.ones(1, 1, 4, 4)
    assert unrolled.psnr(2 * white, white) > 100


@settings(max_examples=30, deadline=None)
@given(
    H=st.integers(1, 20),
    W=st.integers(1, 20),
    size=st.integers(1, 20),
    count=st.integers(1, 5),
    seed=st.integers(0, 100),
)
def test_property_patches_are_crops(H, W, size, count, seed):
    image = torch.arange(float(H * W)).view(H, W)
    generator = torch.Generator().manual_seed(seed)
    if size > min(H, W):
        with pytest.raises(ValueError, match="size must be in"):
            unrolled.patches(image, size, count, generator)
        return
    crops = unrolled.patches(image, size, count, generator)
    assert crops.shape == (count, 1, size, size)
    for crop in crops[:, 0]:
        row, col = divmod(int(crop[0, 0]), W)
        window = image[row : row + size, col : col + size]
        torch.testing.assert_close(crop, window)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: unrolled.BlockCS(inner="numeric"), "inner must be one of"),
        (lambda: unrolled.BlockCS(stages=0), "stages must be a positive int"),
        (lambda: unrolled.BlockCS(block=2.5), "block must be a positive int"),
        (
            lambda: unrolled.BlockCS(block=4).measure(torch.zeros(1, 1, 8, 6)),
            "multiples of 4, got x.shape=(1, 1, 8, 6)",
        ),
        (
            lambda: unrolled.BlockCS(block=4).measure(torch.zeros(1, 2, 8, 8)),
            "x must be (N, 1, H, W)",
        ),
        (
            lambda: unrolled.patches(torch.zeros(2, 3, 3), 2, 1, None),
            "image must be 2-D (H, W), got image.shape=(2, 3, 3)",
        ),
        (
            lambda: unrolled.psnr(torch.zeros(1, 4), torch.zeros(4)),
            "same shape, got (1, 4) and (4,)",
        ),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)
