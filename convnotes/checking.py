"""Checking a learner's answer: compare, and say where it is wrong.

The building blocks of :mod:`convnotes.exercises`: a checker, registered under
its exercise's label with :func:`checker`, compares an answer with
:func:`number`, :func:`tensor`, :func:`function`, each of which raises
:class:`Wrong` with the message a learner should read.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = [
    "CHECKERS",
    "Feedback",
    "Wrong",
    "checker",
    "function",
    "number",
    "parts",
    "random",
    "tensor",
]

CHECKERS = {}  # exercise label -> checker


def checker(label):
    """Register the decorated function as the checker of exercise ``label``."""

    def register(check):
        if label in CHECKERS:
            raise ValueError(f"two checkers for the exercise label={label!r}")
        CHECKERS[label] = check
        return check

    return register


def random(*shape, seed):
    """A float64 tensor of standard normal draws, the same for a given ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=generator, dtype=torch.float64)


@dataclass(frozen=True)
class Feedback:
    """The outcome of a check; true when the answer is right. Shown as its message."""

    label: str
    passed: bool
    message: str

    def __bool__(self):
        return self.passed

    def __repr__(self):
        return f"{'✓' if self.passed else '✗'} {self.label}: {self.message}"

    __str__ = __repr__


class Wrong(Exception):
    """Raised inside a checker with the message a learner should read."""


def number(answer, expected, name, hint=""):
    """A number equal to ``expected`` (to 1e-9 relative), else :class:`Wrong`."""
    try:
        value = float(answer)
    except (TypeError, ValueError):
        raise Wrong(f"{name} should be a number, got {answer!r}.") from None
    if abs(value - expected) > 1e-9 * max(1.0, abs(expected)):
        raise Wrong(f"{name} is {value:g}, expected {expected:g}.{_hint(hint)}")


def parts(answer, count, what):
    """``answer`` as a tuple of ``count`` parts."""
    if not isinstance(answer, tuple | list) or len(answer) != count:
        raise Wrong(f"pass a tuple of {count}: {what}; got {answer!r}.")
    return tuple(answer)


def tensor(answer, expected, name, hint="", tol=1e-6):
    """A tensor (or nested list) close to ``expected``; the first wrong entry if not."""
    try:
        value = torch.as_tensor(answer, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise Wrong(
            f"{name} should be a tensor or a nested list of numbers, "
            f"got {type(answer).__name__}."
        ) from None
    expected = torch.as_tensor(expected, dtype=torch.float64)
    if value.shape != expected.shape:
        raise Wrong(
            f"{name} has shape {tuple(value.shape)}, expected {tuple(expected.shape)}."
            f"{_hint(hint)}"
        )
    close = torch.isclose(value, expected, rtol=tol, atol=tol)
    if not bool(close.all()):
        index = tuple(int(i) for i in (~close).nonzero()[0])
        where = f"{name}[{', '.join(map(str, index))}]" if index else name
        raise Wrong(
            f"{where} is {value[index].item():g}, expected "
            f"{expected[index].item():g}.{_hint(hint)}"
        )


def function(answer, reference, cases, name, hint=""):
    """Call the learner's function on each case and compare with ``reference``."""
    if not callable(answer):
        raise Wrong(f"pass the function itself, got {type(answer).__name__}.")
    for args in cases:
        shapes = ", ".join(
            str(tuple(a.shape)) if isinstance(a, torch.Tensor) else repr(a)
            for a in args
        )
        try:
            got = answer(*args)
        except Exception as error:  # the learner's code: report anything it raises
            raise Wrong(
                f"{name}({shapes}) raised {type(error).__name__}: {error}"
            ) from None
        expected = reference(*args)
        expected = expected if isinstance(expected, tuple) else (expected,)
        got = got if isinstance(got, tuple | list) else (got,)
        if len(got) != len(expected):
            raise Wrong(
                f"{name}({shapes}) returned {len(got)} values, expected "
                f"{len(expected)}."
            )
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            label = f"output {i}" if len(expected) > 1 else "the result"
            try:
                tensor(g, e, label)
            except Wrong as wrong:
                raise Wrong(f"for {name}({shapes}): {wrong}{_hint(hint)}") from None
    return f"right on {len(cases)} test inputs."


def _hint(hint):
    return f" Hint: {hint}" if hint else ""
