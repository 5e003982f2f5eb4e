"""Unrolled gradient descent for block compressive sensing (chapter 8).

An image ``x`` is measured block by block: ``y = conv2d(x, k)``, with
``M`` kernels of the block's size at a stride of the block's size, so each
32x32 block gives ``M`` numbers. Reconstruction repeats a few *stages*, each
an explicit gradient step on ``0.5 ||conv2d(x, k) - y||^2`` and a small
learned correction::

    x <- x - step * k^T (conv2d(x, k) - y)    (k^T: transposed convolution)
    x <- x + refine(x)

The whole chain is trained end to end, the sensing kernel ``k`` included, so
the gradient step must itself be differentiable in ``k``. :class:`BlockCS`
writes it with :func:`convnotes.grad.conv2d_input` (``inner="manual"``) or
asks autograd for it with ``create_graph=True`` (``inner="autograd"``); the
two are the same function.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from . import grad

__all__ = ["BlockCS", "inner_gradient_gap", "patches", "psnr", "train"]

INNER = ("manual", "autograd")


class BlockCS(nn.Module):
    """Learned sensing kernel and ``stages`` unrolled, refined gradient steps.

    Args:
        block: the block size, also the sensing kernel's size and stride.
        measurements: ``M``, numbers measured per block (102 of 1024 is 10 %).
        stages: gradient steps.
        features: channels of each refinement's hidden layer.
        inner: ``"manual"`` or ``"autograd"``: how the step is computed.
        seed: seeds the initial parameters, so two networks can start equal.
    """

    def __init__(
        self,
        block=32,
        measurements=102,
        stages=4,
        features=16,
        inner="manual",
        seed=0,
    ):
        super().__init__()
        if inner not in INNER:
            raise ValueError(
                f"inner must be one of {INNER}, got inner={inner!r}"
            )
        for name, value in [
            ("block", block),
            ("measurements", measurements),
            ("stages", stages),
            ("features", features),
        ]:
            if not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"{name} must be a positive int, got {name}={value!r}"
                )
        self.block, self.inner = block, inner
        generator = torch.Generator().manual_seed(seed)
        shape = (measurements, 1, block, block)
        sensing = _draw(torch.randn, shape, generator)
        self.sensing = nn.Parameter(sensing / block)  # of about unit length
        self.steps = nn.Parameter(torch.ones(stages))
        self.refine = nn.ModuleList(
            _refinement(features, generator) for _ in range(stages)
        )

    def measure(self, x):
        """The measurements ``conv2d(x, k)``, ``(N, M, H/block, W/block)``."""
        b = self.block
        if x.dim() != 4 or x.shape[1] != 1 or x.shape[2] % b or x.shape[3] % b:
            raise ValueError(
                f"x must be (N, 1, H, W) with H and W multiples of {b}, "
                f"got x.shape={tuple(x.shape)}"
            )
        return F.conv2d(x, self.sensing, stride=self.block)

    def back_project(self, y, shape):
        """``k^T y``, an image of ``shape``: the first estimate."""
        return grad.conv2d_input(shape, self.sensing, y, stride=self.block)

    def data_gradient(self, x, y):
        """The gradient of ``0.5 ||conv2d(x, k) - y||^2`` with respect to x."""
        if self.inner == "manual":
            return self.back_project(self.measure(x) - y, x.shape)
        outer = torch.is_grad_enabled()  # is a graph being recorded around us?
        with torch.enable_grad():
            if not x.requires_grad:
                x = x.detach().requires_grad_()
            loss = 0.5 * (self.measure(x) - y).pow(2).sum()
            (gradient,) = torch.autograd.grad(loss, x, create_graph=outer)
        return gradient

    def forward(self, y, shape):
        """Reconstruct ``(N, 1, H, W)`` images of ``shape`` from ``y``."""
        x = self.back_project(y, shape)
        for step, refine in zip(self.steps, self.refine, strict=True):
            x = x - step * self.data_gradient(x, y)
            x = x + refine(x)
        return x


def _draw(sample, shape, generator):
    """Random numbers drawn in float64 and rounded to the default dtype.

    Float32 draws of a given seed can differ between CPUs (PyTorch vectorises
    them differently); float64 ones do not, so every machine starts the same.
    """
    drawn = sample(shape, generator=generator, dtype=torch.float64)
    return drawn.to(torch.get_default_dtype())


def _refinement(features, generator):
    """conv 3x3 (1 -> features), ReLU, conv 3x3 (features -> 1).

    The last layer starts at zero.
    """
    first = nn.Conv2d(1, features, 3, padding=1)
    last = nn.Conv2d(features, 1, 3, padding=1)
    with torch.no_grad():
        bound = 1 / math.sqrt(9)
        first.weight.copy_(
            (2 * _draw(torch.rand, first.weight.shape, generator) - 1) * bound
        )
        first.bias.zero_()
        last.weight.zero_()  # each stage starts as a plain gradient step
        last.bias.zero_()
    return nn.Sequential(first, nn.ReLU(), last)


def patches(image, size, count, generator):
    """Random square crops of a 2-D image: ``(count, 1, size, size)``."""
    if image.dim() != 2:
        raise ValueError(
            f"image must be 2-D (H, W), got image.shape={tuple(image.shape)}"
        )
    H, W = image.shape
    if not 0 < size <= min(H, W):
        raise ValueError(f"size must be in 1..{min(H, W)}, got size={size!r}")
    rows = torch.randint(0, H - size + 1, (count,), generator=generator)
    cols = torch.randint(0, W - size + 1, (count,), generator=generator)
    crops = [
        image[r : r + size, c : c + size]
        for r, c in zip(rows, cols, strict=True)
    ]
    return torch.stack(crops).unsqueeze(1)


def psnr(estimate, reference):
    """Peak signal-to-noise ratio in dB, for images with values in [0, 1]."""
    if estimate.shape != reference.shape:
        raise ValueError(
            f"estimate and reference must have the same shape, got "
            f"{tuple(estimate.shape)} and {tuple(reference.shape)}"
        )
    mse = (estimate.clamp(0, 1) - reference).pow(2).mean()
    return (10 * torch.log10(1 / mse)).item()


def _loss(model, x):
    """Mean squared error of the reconstruction of the images ``x``."""
    return F.mse_loss(model(model.measure(x), x.shape), x)


def inner_gradient_gap(model, x):
    """How far apart the parameter gradients of the two gradient steps are.

    The loss on the images ``x`` is differentiated with respect to every
    parameter twice at the model's current parameters, once with each
    ``inner`` gradient step; returns
    ``|g_manual - g_autograd| / |g_autograd|``, every parameter's gradient in
    one vector. The model's ``inner`` is left as it was.
    """
    gradients = []
    kept = model.inner
    try:
        for inner in INNER:
            model.inner = inner
            found = torch.autograd.grad(
                _loss(model, x), list(model.parameters())
            )
            gradients.append(torch.cat([g.flatten() for g in found]))
    finally:
        model.inner = kept
    manual, autograd = gradients
    return ((manual - autograd).norm() / autograd.norm()).item()


def train(
    model, image, steps=300, batch=16, size=64, lr=1e-3, seed=0, each_step=None
):
    """Adam on the mean squared error of reconstructing random ``image`` crops.

    Returns the loss of every step. The crops depend only on ``seed``, so two
    models trained with the same seed see the same data in the same order.
    ``each_step(model, x)``, if given, is called with each batch before the
    model learns from it, and what it returns is collected: then
    ``(losses, collected)`` is returned.
    """
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses, collected = [], []
    for _ in range(steps):
        x = patches(image, size, batch, generator)
        if each_step is not None:
            collected.append(each_step(model, x))
        loss = _loss(model, x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses if each_step is None else (losses, collected)
