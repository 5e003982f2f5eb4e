"""Find the exercises' solutions in MyST markdown, whatever fence they are written with.

MyST accepts a directive in a fence of three or more backticks, tildes or colons,
and sphinx-exercise also accepts a solution between a ``{solution-start}`` and a
``{solution-end}`` directive. A fence closes on a line of the same character, at
least as long, with nothing after it; inside a plain code block nothing else opens.
The student edition strips every solution span this module finds, the test suite
runs the code in each, and both see the same spans.

    >>> text = ":::{solution} ex-a\\nsecret\\n:::\\nafter\\n"
    >>> strip_solutions(text)
    'after\\n'
    >>> [(label, body) for label, body, _ in solutions(text)]
    [('ex-a', 'secret\\n')]
"""

from __future__ import annotations

import re

FENCE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,}|:{3,})[ \t]*(?P<info>.*?)[ \t]*$")
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
    """Every fenced block: (first line, last line, fence, info, body lines), in order.

    Line numbers index ``text.splitlines(keepends=True)``; an unclosed block runs
    to the end of the text.
    """
    lines = text.splitlines(keepends=True)
    found, stack = [], []  # stack of [first, fence, info, is_code]
    for number, line in enumerate(lines):
        if stack and _closes(line, stack[-1][1]):
            first, fence, info, _ = stack.pop()
            found.append((first, number, fence, info, lines[first + 1 : number]))
            continue
        if stack and stack[-1][3]:
            continue  # inside a code block nothing opens
        match = FENCE.match(line)
        if match and not (match["fence"][0] == ":" and not match["info"]):
            info = match["info"]
            stack.append([number, match["fence"], info, not info.startswith("{")])
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
    """(first line, last line, label, body lines) of every solution in ``text``."""
    lines = text.splitlines(keepends=True)
    spans, start = [], None
    for first, last, _, info, body in blocks(text):
        name, argument = _directive(info)
        if name == "solution":
            spans.append((first, last, _label(argument), body))
        elif name == "solution-start":
            start = (first, last, _label(argument))
        elif name == "solution-end" and start is not None:
            spans.append((start[0], last, start[2], lines[start[1] + 1 : first]))
            start = None
    if start is not None:  # a start with no end hides the rest of the page
        spans.append((start[0], len(lines) - 1, start[2], lines[start[1] + 1 :]))
    return spans


RST_SOLUTION = re.compile(r"^[ \t]*\.\.[ \t]+solution(-start|-end)?::", re.M)


def strip_solutions(text):
    """``text`` without its solutions, whatever fence they are written with.

    A solution written in reStructuredText inside ``{eval-rst}`` is refused
    (ValueError) rather than left in.
    """
    for _, _, _, info, body in blocks(text):
        if _directive(info)[0] == "eval-rst" and RST_SOLUTION.search("".join(body)):
            raise ValueError(
                "a solution written in reStructuredText inside {eval-rst} cannot be "
                "stripped from the student edition: write it as a MyST {solution}"
            )
    lines = text.splitlines(keepends=True)
    drop = set()
    for first, last, _, _ in solution_spans(text):
        drop.update(range(first, last + 1))
    return "".join(line for number, line in enumerate(lines) if number not in drop)


def solutions(text):
    """(label, body text, code) of every solution; code joins its Python blocks."""
    found = []
    for _, _, label, body_lines in solution_spans(text):
        body = _body(body_lines)
        code = [
            "".join(inner) for _, _, _, info, inner in blocks(body) if CODE.match(info)
        ]
        found.append((label, body, "\n".join(code)))
    return found


def exercises(text):
    """(label, body text) of every ``{exercise}`` directive, whatever its fence."""
    found = []
    for _, _, _, info, body in blocks(text):
        if _directive(info)[0] == "exercise":
            options = "".join(body)
            match = re.search(r"^[ \t]*:label:[ \t]*(\S+)", options, re.M)
            found.append((match[1] if match else "", _body(body)))
    return found
