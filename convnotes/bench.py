"""The package's speed against PyTorch's: ``python -m convnotes.bench``.

Prints, in one run, median ratios of paired runs (:mod:`convnotes.timing`),
each implementation paired with its reference alone:

- forward + backward of :func:`convnotes.fast.conv2d_unfold` on three layers,
  against ``F.conv2d`` (target: at most 1.5×), with the teaching versions'
  ratios beside it (no target);
- the forum question's third problem at its own sizes, a whole step (forward
  and the gradients of ``x``, ``w1`` and ``w2``) against autograd: written
  plainly with :mod:`convnotes.grad` (no target), written plainly with
  :mod:`convnotes.fast` (target: at most 1.0×), and the tuned
  :func:`convnotes.fast.problem3` (target: at most 0.8×), given one
  :class:`convnotes.fast.Workspace` for all its steps, as a training loop
  would keep one.

The targets are set for 2 threads: ``--threads`` (default 2; ``make bench
THREADS=n``) sets PyTorch's thread count with :func:`torch.set_num_threads`
before anything is timed, and the first line prints the count PyTorch then
reports. With ``--check`` the exit status is 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys

import torch
import torch.nn.functional as F

from . import chain, fast
from .loops import conv2d_loops
from .timing import LAYERS, forward_backward, paired_medians
from .unfold import conv2d_unfold

__all__ = [
    "CONVOLUTIONS",
    "TARGETS",
    "compare_layer",
    "compare_problem3",
    "main",
    "problem3_functions",
]

CONVOLUTIONS = {  # name -> function called like F.conv2d
    "fast.conv2d_unfold": fast.conv2d_unfold,
    "conv2d_unfold": conv2d_unfold,
    "conv2d_loops": conv2d_loops,
}
TARGETS = {  # the largest ratio each may take
    "fast.conv2d_unfold": 1.5,
    "plain, convnotes.fast": 1.0,
    "tuned, fast.problem3": 0.8,
}


def problem3_functions():
    """The three ways of problem 3 the benchmark times, new at every call.

    ``{name: function(x, w1, w2, k, y) -> (loss, grad_x, grad_w1,
    grad_w2)}``. The tuned one is given a workspace of its own, kept for all
    its calls, as the steps of a training loop would keep one.
    """
    return {
        "plain, convnotes.grad": chain.problem3,
        "plain, convnotes.fast": functools.partial(
            chain.problem3, gradients=fast
        ),
        "tuned, fast.problem3": functools.partial(
            fast.problem3, workspace=fast.Workspace()
        ),
    }


def problem3_tensors(seed=0):
    """``x, w1, w2, k, y`` of the forum question's third problem, float32."""
    generator = torch.Generator().manual_seed(seed)
    shapes = [(8, 32, 128, 128), (32, 32, 3, 3), (1, 32, 3, 3)]
    shapes += [(512, 1, 32, 32), (8, 512, 4, 4)]
    return [torch.randn(s, generator=generator) for s in shapes]


def compare_problem3(functions=None, repeats=7):
    """Median seconds of a whole step of problem 3, by autograd and by hand.

    Each function is paired with autograd alone (autograd, function, autograd,
    function, ...), so that no third workload runs between the two sides of a
    ratio. Returns
    ``{"autograd": (seconds, 1.0), name: (seconds, ratio), ...}``, autograd's
    seconds the median of its medians, one per pairing; autograd
    differentiates the plain forward pass, the functions are called on
    tensors that need no gradients.
    """
    tensors = problem3_tensors()
    params = [t.clone().requires_grad_() for t in tensors[:3]]
    k, y = tensors[3:]

    def autograd_step():
        x, w1, w2 = params
        z = F.conv2d(F.relu(F.conv2d(x, w1, padding=1)), w2, padding=1)
        loss = 0.5 * (F.conv2d(z, k, stride=32) - y).pow(2).sum()
        return loss, *torch.autograd.grad(loss, params)

    steps = {
        name: lambda f=function: f(*tensors)
        for name, function in (functions or problem3_functions()).items()
    }
    return _paired_one_by_one("autograd", autograd_step, steps, repeats)


def compare_layer(layer, convolutions=None, repeats=7):
    """Median seconds of forward + backward of ``F.conv2d`` and of each one.

    Each convolution is paired with ``F.conv2d`` alone. Returns
    ``{"F.conv2d": (seconds, 1.0), name: (seconds, ratio), ...}``.
    """
    tensors = layer.tensors()
    steps = {
        name: lambda c=conv: forward_backward(c, layer, *tensors)
        for name, conv in (convolutions or CONVOLUTIONS).items()
    }
    builtin = lambda: forward_backward(F.conv2d, layer, *tensors)  # noqa: E731
    return _paired_one_by_one("F.conv2d", builtin, steps, repeats)


def _paired_one_by_one(base_name, base, steps, repeats):
    """Paired medians of ``base`` and each step alone, one pair at a time."""
    result, base_seconds = {}, []
    for name, step in steps.items():
        pair = paired_medians({base_name: base, name: step}, repeats)
        base_seconds.append(pair[base_name][0])
        result[name] = pair[name]
    return {base_name: (statistics.median(base_seconds), 1.0), **result}


def _ratio_with_target(name, ratio, missed, what):
    """``ratio`` and, if ``name`` has one, its target, met or missed (a miss
    is added to ``missed``, with ``what`` was timed).

    The ratio has 2 decimals, or as many more as it takes to differ from its
    target, so that a ratio just over (or under) it does not read as equal.
    """
    target = TARGETS.get(name)
    digits = 2
    while (
        target is not None
        and ratio != target
        and digits < 6
        and f"{ratio:.{digits}f}" == f"{target:.{digits}f}"
    ):
        digits += 1
    text = f"{ratio:6.{digits}f}x"
    if target is None:
        return text
    if ratio <= target:
        return f"{text} <= {target:g}"
    missed.append(f"{name} on {what}: {text.strip()} > {target:g}x")
    return f"{text} > {target:g} MISSED"


THREADS = 2  # the thread count the targets are set for


def thread_count(text):
    """``--threads``: a whole number of at least 1."""
    try:
        threads = int(text)
    except ValueError:
        threads = 0
    if threads < 1:
        raise argparse.ArgumentTypeError(
            f"expected a whole number >= 1, got threads={text!r}"
        )
    return threads


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats", type=int, default=9, help="paired runs per case"
    )
    parser.add_argument(
        "--threads",
        type=thread_count,
        default=THREADS,
        help=f"PyTorch's CPU threads while timing (default {THREADS}, "
        "the count the targets are set for)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit with status 1 if a target is missed",
    )
    args = parser.parse_args(argv)
    before = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        return _benchmark(args)
    finally:  # the caller's thread count, when called from Python
        torch.set_num_threads(before)


def _benchmark(args):
    threads = torch.get_num_threads()  # what PyTorch uses, as it reports it
    print(
        f"torch {torch.__version__}, {threads} thread{'s' * (threads != 1)}, "
        f"float32, median of {args.repeats} paired runs"
    )
    missed = []
    print("\nforward + backward; ratio = time / F.conv2d (target, if any)")
    for layer in LAYERS:
        result = compare_layer(layer, repeats=args.repeats)
        print(f"{layer}: F.conv2d {result['F.conv2d'][0] * 1e3:.1f} ms")
        for name in CONVOLUTIONS:
            seconds, ratio = result[name]
            shown = _ratio_with_target(name, ratio, missed, layer)
            print(f"  {name:<20}{seconds * 1e3:8.1f} ms {shown}")
    print(
        "\nforum problem 3 (x 8x32x128x128, w1 32x32x3x3, w2 1x32x3x3, "
        "k 512x1x32x32 at stride 32):\nforward + gradients of x, w1, w2; "
        "ratio = time / autograd"
    )
    result = compare_problem3(repeats=args.repeats)
    for name, (seconds, ratio) in result.items():
        shown = _ratio_with_target(name, ratio, missed, "problem 3")
        print(f"  {name:<24}{seconds * 1e3:8.1f} ms {shown}")
    for line in missed:
        print("target missed:", line)
    if not missed:
        print("all targets met")
    return 1 if (missed and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
