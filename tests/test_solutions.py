"""Every exercise that names a check has a solution that passes it.

For each chapter: its code cells run top to bottom in a fresh kernel, then, for
each exercise, the code of its solution (its Python blocks) runs in a copy of the
chapter's namespace, then the check call the exercise text shows, which must
say right. A checker that rejects a correct answer fails here too.
"""

import json
import re

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import ROOT
from myst_solutions import exercises, solutions

CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))
MARK = "solutions checked: "

RUNNER = """\
import json as _json
_base = dict(globals())
_results = {}
for _label, _code, _call in _SOLUTIONS:
    _namespace = dict(_base)
    try:
        exec(get_ipython().transform_cell(_code), _namespace)
        _results[_label] = repr(eval(_call, _namespace))
    except Exception as _error:
        _results[_label] = f"raised {type(_error).__name__}: {_error}"
print(MARK + _json.dumps(_results, ensure_ascii=False))
"""


def check_call(label, text):
    """The check call an exercise's text shows, e.g. ``cn.exercises.check(...)``."""
    calls = re.findall(rf'`((?:cn\.exercises\.)?check\("{label}"[^`]*)`', text)
    return calls[0] if calls else None


def checked_exercises(notebook):
    """[(label, solution code, check call)] for every exercise that names a check."""
    texts = [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]
    found = {label: body for text in texts for label, body in exercises(text)}
    code = {label: code for text in texts for label, _, code in solutions(text)}
    return [
        (label, code.get(label, ""), call)
        for label, body in found.items()
        if (call := check_call(label, body))
    ]


def test_the_book_has_checked_exercises_in_every_chapter():
    counts = {
        path.stem: len(checked_exercises(nbformat.read(path, as_version=4)))
        for path in CHAPTERS
    }
    assert all(count >= 1 for count in counts.values()), counts
    assert sum(counts.values()) >= 27, counts


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_every_solution_passes_its_check(path):
    notebook = nbformat.read(path, as_version=4)
    cases = checked_exercises(notebook)
    without_code = [label for label, code, _ in cases if not code.strip()]
    assert not without_code, f"solutions with no code to check: {without_code}"
    runner = nbformat.v4.new_code_cell(
        f"MARK = {MARK!r}\n_SOLUTIONS = {cases!r}\n" + RUNNER
    )
    notebook.cells = [c for c in notebook.cells if c.cell_type == "code"] + [runner]
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    printed = "".join(output.get("text", "") for output in notebook.cells[-1].outputs)
    line = next(line for line in printed.splitlines() if line.startswith(MARK))
    results = json.loads(line[len(MARK) :])
    assert set(results) == {label for label, _, _ in cases}
    wrong = {
        label: feedback
        for label, feedback in results.items()
        if not feedback.startswith(f"✓ {label}: ")
    }
    assert not wrong, wrong
