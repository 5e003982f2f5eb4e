"""Find the exercises and their solutions in MyST markdown, in any fence.

MyST accepts a directive in a fence of three or more backticks, tildes or
colons, and sphinx-exercise also accepts a solution between a
``{solution-start}`` and a ``{solution-end}`` directive. A fence closes on a
line of the same character, at least as long, with nothing after it; inside a
plain code block nothing else opens. The student edition strips every solution
span this module finds, the test suite runs the code in each, and both see the
same spans. An exercise's text shows its check call (:func:`check_call`); the
student edition gives it a cell with a placeholder for each name the call
reads (:func:`parse_check`).

    >>> text = ":::{solution} ex-a\\nsecret\\n:::\\nafter\\n"
    >>> strip_solutions(text)
    'after\\n'
    >>> [(label, body) for label, body, _ in solutions(text)]
    [('ex-a', 'secret\\n')]
"""

from __future__ import annotations

import ast
import re
from typing import NamedTuple

FENCE = re.compile(
    r"^[ \t]*(?P<fence>`{3,}|~{3,}|:{3,})[ \t]*(?P<info>.*?)[ \t]*$"
)
DIRECTIVE = re.compile(r"^\{(?P<name>[\w:-]+)\}[ \t]*(?P<argument>.*)$")
CODE = re.compile(r"^(python|py|ipython3?|\{code-cell\}.*)$")


def _closes(line, fence):
    """Whether ``line`` closes a block opened by ``fence``."""
    match = FENCE.match(line)
    return bool(
        match
        and not match["info"]
        and match["fence"][0] == fence[0]
        and len(match["fence"]) >= len(fence)
    )


def blocks(text):
    """The fenced blocks in order: (first line, last line, fence, info, body).

    Line numbers index ``text.splitlines(keepends=True)``; the body is a list
    of lines; an unclosed block runs to the end of the text.
    """
    lines = text.splitlines(keepends=True)
    found, stack = [], []  # stack of [first, fence, info, is_code]
    for number, line in enumerate(lines):
        if stack and _closes(line, stack[-1][1]):
            first, fence, info, _ = stack.pop()
            found.append(
                (first, number, fence, info, lines[first + 1 : number])
            )
            continue
        if stack and stack[-1][3]:
            continue  # inside a code block nothing opens
        match = FENCE.match(line)
        if match and not (match["fence"][0] == ":" and not match["info"]):
            info = match["info"]
            stack.append(
                [number, match["fence"], info, not info.startswith("{")]
            )
    for first, fence, info, _ in reversed(stack):
        found.append((first, len(lines) - 1, fence, info, lines[first + 1 :]))
    return sorted(found)


def _directive(info):
    match = DIRECTIVE.match(info)
    return (match["name"], match["argument"]) if match else (None, "")


def _label(argument):
    """A solution's label: its directive argument (sphinx-exercise's form)."""
    return argument.split()[0] if argument.strip() else ""


def _body(body_lines):
    """The body without the directive's leading ``:option:`` lines."""
    lines = list(body_lines)
    while lines and re.match(r"^[ \t]*:[\w-]+:", lines[0]):
        lines.pop(0)
    return "".join(lines).lstrip("\n")


def solution_spans(text):
    """(first line, last line, label, body lines) of each solution."""
    lines = text.splitlines(keepends=True)
    spans, start = [], None
    for first, last, _, info, body in blocks(text):
        name, argument = _directive(info)
        if name == "solution":
            spans.append((first, last, _label(argument), body))
        elif name == "solution-start":
            start = (first, last, _label(argument))
        elif name == "solution-end" and start is not None:
            spans.append(
                (start[0], last, start[2], lines[start[1] + 1 : first])
            )
            start = None
    if start is not None:  # a start with no end hides the rest of the page
        spans.append(
            (start[0], len(lines) - 1, start[2], lines[start[1] + 1 :])
        )
    return spans


RST_SOLUTION = re.compile(r"^[ \t]*\.\.[ \t]+solution(-start|-end)?::", re.M)


def strip_solutions(text):
    """``text`` without its solutions, whatever fence they are written with.

    A solution written in reStructuredText inside ``{eval-rst}`` is refused
    (ValueError) rather than left in.
    """
    for _, _, _, info, body in blocks(text):
        if _directive(info)[0] == "eval-rst" and RST_SOLUTION.search(
            "".join(body)
        ):
            raise ValueError(
                "a solution written in reStructuredText inside {eval-rst} "
                "cannot be stripped from the student edition: write it as a "
                "MyST {solution}"
            )
    lines = text.splitlines(keepends=True)
    drop = set()
    for first, last, _, _ in solution_spans(text):
        drop.update(range(first, last + 1))
    return "".join(
        line for number, line in enumerate(lines) if number not in drop
    )


def solutions(text):
    """(label, body, code) of each solution; code joins its Python blocks."""
    found = []
    for _, _, label, body_lines in solution_spans(text):
        body = _body(body_lines)
        code = [
            "".join(inner)
            for _, _, _, info, inner in blocks(body)
            if CODE.match(info)
        ]
        found.append((label, body, "\n".join(code)))
    return found


def exercises(text):
    """(label, body) of every ``{exercise}`` directive, whatever its fence."""
    found = []
    for _, _, _, info, body in blocks(text):
        if _directive(info)[0] == "exercise":
            options = "".join(body)
            match = re.search(r"^[ \t]*:label:[ \t]*(\S+)", options, re.M)
            found.append((match[1] if match else "", _body(body)))
    return found


def check_call(label, text):
    """The check call an exercise's text shows: ``cn.exercises.check(...)``."""
    label = re.escape(label)
    calls = re.findall(rf'`((?:cn\.exercises\.)?check\("{label}"[^`]*)`', text)
    return calls[0] if calls else None


class CheckCall(NamedTuple):
    """A check call taken apart: ``function("label", answer)``."""

    function: str  # e.g. "cn.exercises.check"
    label: str
    answer: str  # the answer's source, e.g. "(first, second)"
    names: list  # the names the answer reads, in the order they appear

    def source(self, width=79):
        """The call as one line, or wrapped as ruff would if it is too long."""
        line = f'{self.function}("{self.label}", {self.answer})'
        if len(line) <= width:
            return line
        return f'{self.function}(\n    "{self.label}", {self.answer}\n)'


def parse_check(call):
    """Take a check call apart; the answer is made of names, tuples and lists.

    Those are what a placeholder ``name = ...`` for each name can make run:

        >>> parse_check('cn.exercises.check("ex-a", ((r, c), (r, k), 3))')
        ... # doctest: +NORMALIZE_WHITESPACE
        CheckCall(function='cn.exercises.check', label='ex-a',
                  answer='((r, c), (r, k), 3)', names=['r', 'c', 'k'])
    """
    try:
        tree = ast.parse(call.strip(), mode="eval").body
    except SyntaxError as error:
        raise ValueError(
            f"a check call must be Python, got call={call!r}: {error}"
        ) from None
    if not (
        isinstance(tree, ast.Call)
        and len(tree.args) == 2
        and not tree.keywords
        and isinstance(tree.args[0], ast.Constant)
        and isinstance(tree.args[0].value, str)
    ):
        raise ValueError(
            f"a check call is check(label, answer), got call={call!r}"
        )
    names = []
    for node in ast.walk(tree.args[1]):
        if isinstance(node, ast.Name):
            names.append(node)
        elif not isinstance(
            node, ast.Tuple | ast.List | ast.Constant | ast.expr_context
        ):
            raise ValueError(
                "an answer in a check call is made of names, numbers, tuples "
                f"and lists, got {ast.unparse(node)!r} in call={call!r}"
            )
    names.sort(key=lambda node: (node.lineno, node.col_offset))
    return CheckCall(
        function=ast.unparse(tree.func),
        label=tree.args[0].value,
        answer=ast.unparse(tree.args[1]),
        names=list(dict.fromkeys(node.id for node in names)),
    )
