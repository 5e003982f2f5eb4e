"""Timing the package's convolutions against PyTorch's own (chapter 6).

The median time of forward + backward of ``F.conv2d`` and of each
hand-written implementation, and their ratio to the built-in. Runs are
paired: each repeat times the built-in and then every implementation on the
same tensors, and the ratio is the median of the per-repeat ratios, so a
change in the machine's speed that lasts longer than one repeat slows both
sides of each ratio alike. ``python -m convnotes.bench`` uses these to print
the whole benchmark.
"""

from __future__ import annotations

import functools
import statistics
import time
from typing import NamedTuple

import torch
import torch.nn.functional as F

from .loops import conv2d_loops
from .unfold import conv2d_unfold

__all__ = [
    "LAYERS",
    "Layer",
    "compare",
    "forward_backward",
    "paired_medians",
    "time_call",
]


class Layer(NamedTuple):
    """A convolution layer to time."""

    N: int
    C_in: int
    H: int
    C_out: int
    kernel_size: int
    stride: int = 1
    padding: int = 0

    def __str__(self):
        k, s, p = self.kernel_size, self.stride, self.padding
        return (
            f"N={self.N} C_in={self.C_in} {self.H}x{self.H} "
            f"C_out={self.C_out} {k}x{k} s{s} p{p}"
        )

    def tensors(self, dtype=torch.float32, seed=0):
        """Input, weight, bias (requiring grad) and an upstream gradient."""
        generator = torch.Generator().manual_seed(seed)

        def randn(shape):
            return torch.randn(shape, generator=generator, dtype=dtype)

        shapes = [
            (self.N, self.C_in, self.H, self.H),
            (self.C_out, self.C_in, self.kernel_size, self.kernel_size),
            (self.C_out,),
        ]
        tensors = [randn(s).requires_grad_() for s in shapes]
        out = F.conv2d(*tensors, stride=self.stride, padding=self.padding)
        return (*tensors, randn(out.shape))


LAYERS = [
    Layer(8, 32, 64, 64, 3, padding=1),
    Layer(16, 64, 32, 128, 3, stride=2, padding=1),
    Layer(4, 3, 224, 64, 7, stride=2, padding=3),
]


def forward_backward(conv, layer, input, weight, bias, grad_output):
    """A convolution's training step: forward, then all three gradients."""
    output = conv(
        input, weight, bias, stride=layer.stride, padding=layer.padding
    )
    return torch.autograd.grad(output, (input, weight, bias), grad_output)


def time_call(function):
    """Seconds one call of ``function()`` takes."""
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def paired_medians(steps, repeats):
    """Time each step once per repeat, in turn; the first step is the baseline.

    A step is a function, timed whole, or a pair ``(prepare, run)``, of which
    only ``run(prepare())`` is timed. Returns ``{name: (median seconds, median
    ratio to the baseline)}``, the ratio taken within each repeat, so that a
    drift of the machine's speed slower than one repeat cancels.
    """
    steps = dict(steps)  # a function is timed whole, with nothing to prepare
    for name, step in steps.items():
        if not isinstance(step, tuple):
            steps[name] = (lambda: None, lambda _, s=step: s())
    for prepare, run in steps.values():  # warm up: allocate, load kernels
        run(prepare())
    seconds = {name: [] for name in steps}
    for _ in range(repeats):
        for name, (prepare, run) in steps.items():
            prepared = prepare()
            seconds[name].append(time_call(functools.partial(run, prepared)))
    base = next(iter(seconds.values()))
    return {
        name: (
            statistics.median(times),
            statistics.median(t / b for t, b in zip(times, base, strict=True)),
        )
        for name, times in seconds.items()
    }


def compare(layer, implementations=None, repeats=7):
    """Median seconds and ratios of ``F.conv2d`` and each implementation.

    ``implementations`` maps names to functions called like ``F.conv2d``; by
    default the nested loops and unfold of chapters 4 and 5. Returns
    ``{"F.conv2d": (seconds, 1.0), name: (seconds, ratio), ...}``.
    """
    if implementations is None:
        implementations = {"unfold": conv2d_unfold, "loops": conv2d_loops}
    tensors = layer.tensors()
    convs = {"F.conv2d": F.conv2d, **implementations}
    steps = {
        name: (lambda c=conv: forward_backward(c, layer, *tensors))
        for name, conv in convs.items()
    }
    return paired_medians(steps, repeats)
