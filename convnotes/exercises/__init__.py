"""Automatic checks for the book's exercises, one module per chapter.

Each exercise says what to pass; :func:`check` compares it with the answer and
says what is right, the first place it is wrong, and a hint::

    >>> from convnotes.exercises import check
    >>> check("ex-size-stem", (112, 56))
    ✓ ex-size-stem: right: 224 -> 112 -> 56.
    >>> check("ex-size-stem", (113, 57))  # doctest: +NORMALIZE_WHITESPACE
    ✗ ex-size-stem: the size after the 7×7 layer is 113, not the right
      value. Hint: the 7×7 layer has padding 3 and stride 2; put them in the
      formula.

An answer that is still ``...``, or holds one in its tuples or lists (the
student edition's answer cells start that way), is not yet an answer: the
check says so, with where to start rather than the answer::

    >>> second = ...  # your answer
    >>> check("ex-size-stem", (112, second))  # doctest: +NORMALIZE_WHITESPACE
    ✗ ex-size-stem: not yet: replace each ... with your answer.
      Hint: apply H_out = floor((H_in + 2·padding - kernel) / stride) + 1
      to each layer in turn: the convolution's output is the pooling's input
      (cn.conv_output_size computes it).

An answer can be a number, a tuple, a tensor (or nested list), or a function
the learner wrote, which is then called on a few inputs and compared with
PyTorch. A label's prefix names its chapter's module: ``ex-size-stem`` is
checked in :mod:`convnotes.exercises.size`.
"""

from __future__ import annotations

from ..checking import CHECKERS, HINTS, Feedback, Wrong, unanswered

# each chapter's module registers its checkers in CHECKERS when imported
from . import (  # noqa: F401
    apps,
    beyond,
    chain,
    channels,
    closed,
    fast,
    hand,
    intro,
    loops,
    size,
    unfold,
    validate,
)

__all__ = ["CHECKERS", "HINTS", "Feedback", "check"]


def check(label, answer):
    """Check ``answer`` to the exercise ``label``, as the book names it."""
    if label not in CHECKERS:
        known = ", ".join(sorted(CHECKERS))
        raise ValueError(
            f"no exercise with label={label!r}; known labels: {known}"
        )
    if unanswered(answer):
        message = "not yet: replace each ... with your answer."
        return Feedback(label, False, f"{message} Hint: {HINTS[label]}")
    try:
        message = CHECKERS[label](answer)
    except Wrong as wrong:
        return Feedback(label, False, str(wrong))
    return Feedback(label, True, message)
