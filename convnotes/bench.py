"""Timing the package's convolutions against PyTorch's own (chapter 6).

``python -m convnotes.bench`` (or ``make bench``) prints, for a fixed set of
layer shapes, the median time of forward + backward of ``F.conv2d`` and each
hand-written implementation, and their ratio to the built-in. Runs are paired:
each repeat times the built-in and then every implementation on the same
tensors, and the ratio is the median of the per-repeat ratios, so a change
in the machine's speed that lasts longer than one repeat slows both sides of
each ratio alike.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from typing import NamedTuple

import torch
import torch.nn.functional as F

from .chain import problem3_backward, problem3_forward
from .loops import conv2d_loops
from .unfold import conv2d_unfold

__all__ = [
    "LAYERS",
    "Layer",
    "compare",
    "compare_problem3",
    "forward_backward",
    "main",
    "paired_medians",
    "time_call",
]

IMPLEMENTATIONS = {"unfold": conv2d_unfold, "loops": conv2d_loops}


class Layer(NamedTuple):
    """A convolution layer to time, and the ratios it should stay within."""

    N: int
    C_in: int
    H: int
    C_out: int
    kernel_size: int
    stride: int = 1
    padding: int = 0
    targets: dict = {}

    def __str__(self):
        k, s, p = self.kernel_size, self.stride, self.padding
        return (
            f"N={self.N} C_in={self.C_in} {self.H}x{self.H} C_out={self.C_out} "
            f"{k}x{k} s{s} p{p}"
        )

    def tensors(self, dtype=torch.float32, seed=0):
        """Input, weight and bias (all requiring grad) and an upstream gradient."""
        generator = torch.Generator().manual_seed(seed)
        shapes = [
            (self.N, self.C_in, self.H, self.H),
            (self.C_out, self.C_in, self.kernel_size, self.kernel_size),
            (self.C_out,),
        ]
        tensors = [torch.randn(s, generator=generator, dtype=dtype) for s in shapes]
        tensors = [t.requires_grad_() for t in tensors]
        out = F.conv2d(*tensors, stride=self.stride, padding=self.padding)
        return (*tensors, torch.randn(out.shape, generator=generator, dtype=dtype))


LAYERS = [
    Layer(8, 32, 64, 64, 3, padding=1, targets={"unfold": 2.0}),
    Layer(16, 64, 32, 128, 3, stride=2, padding=1, targets={"unfold": 2.0}),
    Layer(4, 3, 224, 64, 7, stride=2, padding=3, targets={"unfold": 2.0}),
    Layer(8, 16, 32, 16, 3, padding=1, targets={"loops": 50.0}),
]


def forward_backward(conv, layer, input, weight, bias, grad_output):
    """One training step's worth of convolution: forward, then all three gradients."""
    output = conv(input, weight, bias, stride=layer.stride, padding=layer.padding)
    return torch.autograd.grad(output, (input, weight, bias), grad_output)


def time_call(function):
    """Seconds one call of ``function()`` takes."""
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def paired_medians(steps, repeats):
    """Time every step once per repeat, in turn; the first step is the baseline.

    A step is a function, timed whole, or a pair ``(prepare, run)``, of which
    only ``run(prepare())`` is timed. Returns ``{name: (median seconds, median
    ratio to the baseline)}``, the ratio taken within each repeat, so that a
    drift of the machine's speed slower than one repeat cancels.
    """
    steps = {
        name: step if isinstance(step, tuple) else (lambda: None, lambda _, s=step: s())
        for name, step in steps.items()
    }
    for prepare, run in steps.values():  # warm up: first calls allocate, load kernels
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
    """Median seconds of ``F.conv2d`` and of each implementation, and median ratios.

    Returns ``{"F.conv2d": (seconds, 1.0), name: (seconds, ratio), ...}``.
    """
    implementations = implementations or IMPLEMENTATIONS
    tensors = layer.tensors()
    convs = {"F.conv2d": F.conv2d, **implementations}
    steps = {
        name: (lambda c=conv: forward_backward(c, layer, *tensors))
        for name, conv in convs.items()
    }
    return paired_medians(steps, repeats)


def compare_problem3(repeats=7, size=128, part="backward"):
    """The forum question's third problem: gradients by hand against autograd.

    ``x`` is 8×32×size×size, ``w1`` 32×32×3×3, ``w2`` 1×32×3×3 and the
    measurement kernel 512×1×32×32 at stride 32 (float32). With
    ``part="backward"`` only the gradients of ``x``, ``w1`` and ``w2`` are timed:
    autograd's backward through a recorded forward pass, against
    :func:`convnotes.chain.problem3_backward` from the forward pass's results
    (each side's forward pass runs, untimed, before it). With ``part="step"``
    forward and backward are timed together.
    Returns ``{"autograd": (seconds, 1.0), "by hand": (seconds, ratio)}``.
    """
    if part not in ("backward", "step"):
        raise ValueError(f"part must be 'backward' or 'step', got part={part!r}")
    generator = torch.Generator().manual_seed(0)

    def make(*shape):
        return torch.randn(*shape, generator=generator)

    x, w1, w2 = make(8, 32, size, size), make(32, 32, 3, 3), make(1, 32, 3, 3)
    k, y = make(512, 1, 32, 32), make(8, 512, size // 32, size // 32)
    params = [t.requires_grad_() for t in (x, w1, w2)]

    def autograd_forward():
        z = F.conv2d(F.relu(F.conv2d(x, w1, padding=1)), w2, padding=1)
        return 0.5 * (F.conv2d(z, k, stride=32) - y).pow(2).sum()

    def autograd_backward(loss):
        return torch.autograd.grad(loss, params)

    def hand_forward():
        with torch.no_grad():
            return problem3_forward(x, w1, w2, k, y)

    def hand_backward(forward):
        _, a1, r = forward
        with torch.no_grad():
            return problem3_backward(x, w1, w2, k, a1, r)

    if part == "step":
        steps = {
            "autograd": lambda: autograd_backward(autograd_forward()),
            "by hand": lambda: hand_backward(hand_forward()),
        }
    else:
        steps = {
            "autograd": (autograd_forward, autograd_backward),
            "by hand": (hand_forward, hand_backward),
        }
    return paired_medians(steps, repeats)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="paired runs per layer")
    parser.add_argument(
        "--check", action="store_true", help="exit with status 1 if a target is missed"
    )
    args = parser.parse_args(argv)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32,")
    print(
        f"forward + backward, median of {args.repeats} paired runs; "
        "ratio = time / F.conv2d"
    )
    header = f"{'layer':<38}{'F.conv2d':>10}" + "".join(
        f"{name:>22}" for name in IMPLEMENTATIONS
    )
    print(header)
    missed = []
    for layer in LAYERS:
        result = compare(layer, repeats=args.repeats)
        row = f"{layer!s:<38}{result['F.conv2d'][0] * 1e3:>7.1f} ms"
        for name in IMPLEMENTATIONS:
            seconds, ratio = result[name]
            target = layer.targets.get(name)
            mark = ""
            if target is not None:
                ok = ratio <= target
                mark = f" {'<=' if ok else '>'}{target:g}"
                if not ok:
                    missed.append(f"{name} on {layer}: {ratio:.2f}x > {target:g}x")
            row += f"{seconds * 1e3:>9.1f} ms {ratio:5.2f}x{mark:<6}"
        print(row)
    print(
        "\nforum problem 3 (conv, ReLU, conv, stride-32 measurement; x 8x32x128x128):"
    )
    for part, label in [
        ("backward", "gradients only"),
        ("step", "forward + gradients"),
    ]:
        forum = compare_problem3(repeats=args.repeats, part=part)
        auto_seconds, (hand_seconds, ratio) = forum["autograd"][0], forum["by hand"]
        target = " (target <= 1)" if part == "backward" else ""
        print(
            f"{label:20s} autograd {auto_seconds * 1e3:6.1f} ms, "
            f"by hand (convnotes.chain) {hand_seconds * 1e3:6.1f} ms, "
            f"ratio {ratio:.2f}x{target}"
        )
        if part == "backward" and ratio > 1.0:
            missed.append(f"problem 3 gradients by hand: {ratio:.2f}x > 1x")
    for line in missed:
        print("target missed:", line)
    if not missed:
        print("all targets met")
    return 1 if (missed and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
