"""Checking a learner's answer: compare, and say where it is wrong.

The building blocks of :mod:`convnotes.exercises`: a checker, registered under
its exercise's label with :func:`checker`, compares an answer with
:func:`number`, :func:`tensor`, :func:`function`, each of which raises
:class:`Wrong` with the message a learner should read. Every checker comes
with a hint, where to start, shown while the answer is :func:`unanswered`
(still holds a ``...``).
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from unittest import mock

import torch
from torch.autograd.variable import Variable

__all__ = [
    "CHECKERS",
    "HINTS",
    "Feedback",
    "Wrong",
    "autograd_refused",
    "checker",
    "function",
    "number",
    "parts",
    "random",
    "replaced",
    "returned",
    "ruled_out",
    "tensor",
    "unanswered",
]

CHECKERS = {}  # exercise label -> checker
HINTS = {}  # exercise label -> where to start, never the answer


def checker(label, *, hint):
    """Register the decorated function as the checker of exercise ``label``.

    ``hint`` says where to start (the formula, the function of the chapter to
    look at) without giving the answer away: it is shown while the answer is
    still a ``...``.
    """
    if not isinstance(hint, str) or not hint.strip():
        raise ValueError(
            f"the checker of label={label!r} needs a hint, got hint={hint!r}"
        )

    def register(check):
        if label in CHECKERS:
            raise ValueError(f"two checkers for the exercise label={label!r}")
        CHECKERS[label] = check
        HINTS[label] = hint
        return check

    return register


def unanswered(answer):
    """Whether ``answer`` is ``...`` or holds one in its tuples and lists.

    >>> unanswered((112, [3, ...]))
    True
    >>> unanswered((112, [3, 4]))
    False
    """
    pending, seen = [answer], set()
    while pending:
        item = pending.pop()
        if item is Ellipsis:
            return True
        if isinstance(item, tuple | list) and id(item) not in seen:
            seen.add(id(item))  # a list that holds itself is looked at once
            pending.extend(item)
    return False


def random(*shape, seed):
    """Float64 standard normal draws, the same for the same ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=generator, dtype=torch.float64)


@dataclass(frozen=True)
class Feedback:
    """The outcome of a check: true when the answer is right.

    Shown as ``✓ label: message`` or ``✗ label: message``.
    """

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


def number(answer, expected, name, hint="", tol=1e-9):
    """A number equal to ``expected`` (to ``tol`` relative), else ``Wrong``.

    The message does not give the expected value away: the hint leads to it.
    A large whole number is shown with its digits (``4,553,472``).
    """
    try:
        value = float(answer)
    except (TypeError, ValueError):
        raise Wrong(f"{name} should be a number, got {answer!r}.") from None
    if abs(value - expected) > tol * max(1.0, abs(expected)):
        shown = f"{value:,.0f}" if _large_whole(value) else f"{value:g}"
        raise Wrong(f"{name} is {shown}, {NOT_RIGHT}.{_hint(hint)}")


def _large_whole(value):
    """Whether ``value`` is a whole number that ``:g`` would round."""
    return value.is_integer() and abs(value) >= 1e6


def parts(answer, count, what):
    """``answer`` as a tuple of ``count`` parts."""
    if not isinstance(answer, tuple | list) or len(answer) != count:
        raise Wrong(f"pass a tuple of {count}: {what}; got {answer!r}.")
    return tuple(answer)


def tensor(answer, expected, name, hint="", tol=1e-6, reveal=False):
    """A tensor (or nested list) close to ``expected``, else ``Wrong``.

    The message names the first entry that is wrong, and with ``reveal`` what
    it should be (for a function's output, where that helps to find the bug;
    not for a prediction, where it would give the answer away).
    """
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
            f"{name} has shape {tuple(value.shape)}, "
            f"expected {tuple(expected.shape)}.{_hint(hint)}"
        )
    close = torch.isclose(value, expected, rtol=tol, atol=tol)
    if not bool(close.all()):
        index = tuple(int(i) for i in (~close).nonzero()[0])
        where = f"{name}[{', '.join(map(str, index))}]" if index else name
        should = (
            f"expected {expected[index].item():g}" if reveal else NOT_RIGHT
        )
        raise Wrong(
            f"{where} is {value[index].item():g}, {should}.{_hint(hint)}"
        )


def returned(answer, args, call, count):
    """``answer(*args)`` as a tuple of ``count`` values.

    Raises :class:`Wrong`, naming ``call``, if the answer raises or returns
    another number of values.
    """
    try:
        got = answer(*args)
    except Exception as error:  # anything the learner's code raises
        raise Wrong(f"{call} raised {type(error).__name__}: {error}") from None
    got = tuple(got) if isinstance(got, tuple | list) else (got,)
    if len(got) != count:
        raise Wrong(f"{call} returned {len(got)} values, expected {count}.")
    return got


def function(answer, reference, cases, name, hint=""):
    """Call the learner's function on each case; compare with ``reference``."""
    if not callable(answer):
        raise Wrong(f"pass the function itself, got {type(answer).__name__}.")
    for args in cases:
        shapes = ", ".join(
            str(tuple(a.shape)) if isinstance(a, torch.Tensor) else repr(a)
            for a in args
        )
        expected = reference(*args)
        expected = expected if isinstance(expected, tuple) else (expected,)
        call = f"{name}({shapes})"
        got = returned(answer, args, call, len(expected))
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            label = f"output {i}" if len(expected) > 1 else "the result"
            try:
                tensor(g, e, label, reveal=True)
            except Wrong as wrong:
                raise Wrong(f"for {call}: {wrong}{_hint(hint)}") from None
    return f"right on {len(cases)} test input{'s' * (len(cases) != 1)}."


NOT_RIGHT = "not the right value"  # what a wrong prediction is told


# modules that hold some of the same functions under the same name
# (``F.conv2d is torch.conv2d``): replacing one replaces the others too
_ALIASES = (torch, torch.nn.functional)


def _holders(owner, name):
    """``owner``, and each of ``torch`` and ``torch.nn.functional`` that
    holds the same function as ``owner.<name>`` under the same name."""
    original = getattr(owner, name)
    return [owner] + [
        m
        for m in _ALIASES
        if m is not owner and getattr(m, name, None) is original
    ]


@contextmanager
def replaced(owner, name, replacement):
    """While the block runs, ``owner.<name>`` is ``replacement``, and so is
    the same function where ``torch`` or ``torch.nn.functional`` holds it
    under the same name. They are put back afterwards, whatever happens."""
    with ExitStack() as stack:
        for module in _holders(owner, name):
            stack.enter_context(mock.patch.object(module, name, replacement))
        yield


@contextmanager
def ruled_out(owner, names, why):
    """While the block runs, each function ``owner.<name>`` raises a
    ``RuntimeError`` that names it and says ``why``: what an exercise asks
    the answer to do without. Where ``torch`` or ``torch.nn.functional``
    holds the same function under the same name, that one is refused too,
    under its own name. They are put back afterwards, whatever happens."""

    def refusal(module, name):
        def refuse(*args, **kwargs):
            raise RuntimeError(f"{module.__name__}.{name}: {why}")

        return refuse

    with ExitStack() as stack:
        for name in names:
            for module in _holders(owner, name):
                patch = mock.patch.object(module, name, refusal(module, name))
                stack.enter_context(patch)
        yield


class _Refused:
    """Stands in for autograd's engine: every backward pass is refused."""

    def __init__(self, why):
        self.why = why

    def run_backward(self, *args, **kwargs):
        raise RuntimeError(
            f"autograd is off while the check runs your function: {self.why}"
        )


@contextmanager
def autograd_refused(why):
    """While the block runs, every backward pass (``grad``, ``backward``,
    ``torch.func``) raises a ``RuntimeError`` that says ``why``.

    It replaces the engine they all call, so ``torch.enable_grad()`` does
    not undo it, as it would undo ``torch.no_grad()``.
    """
    engine = Variable._execution_engine
    Variable._execution_engine = _Refused(why)
    try:
        yield
    finally:
        Variable._execution_engine = engine


def _hint(hint):
    return f" Hint: {hint}" if hint else ""
