"""Every student notebook runs and says "not yet"; every solution passes.

For each chapter, the student edition's notebook (solutions out, an answer
cell after each exercise that names a check) runs top to bottom in a fresh
kernel, and each answer cell, its ``...`` placeholders as they come, says
"not yet" with its exercise's hint. Then, in the same kernel, for each
exercise the code of its solution (its Python blocks, from the book) runs in
a copy of the chapter's namespace, then the check call the exercise text
shows, which must say right: a solution must define every name its check
reads, and a checker that rejects a correct answer fails here too.
"""

import json

import nbformat
import pytest
from nbclient import NotebookClient

import build_book
from conftest import ROOT
from convnotes.exercises import HINTS
from myst_solutions import check_call, exercises, solutions

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


def checked_exercises(notebook):
    """[(label, solution code, check call)] of the exercises that name one."""
    texts = [c.source for c in notebook.cells if c.cell_type == "markdown"]
    found = {label: body for text in texts for label, body in exercises(text)}
    code = {
        label: code for text in texts for label, _, code in solutions(text)
    }
    return [
        (label, code.get(label, ""), call)
        for label, body in found.items()
        if (call := check_call(label, body))
    ]


@pytest.fixture(scope="module")
def student_book(tmp_path_factory):
    """The student edition's copy of book/, notebooks as students get them."""
    source = tmp_path_factory.mktemp("student") / "source"
    return build_book.student_source(source) / "book"


def test_the_book_has_checked_exercises_in_every_chapter():
    counts = {
        path.stem: len(checked_exercises(nbformat.read(path, as_version=4)))
        for path in CHAPTERS
    }
    assert all(count >= 1 for count in counts.values()), counts
    assert sum(counts.values()) >= 27, counts


def printed(cell):
    """What a cell printed or displayed, as text."""
    return "".join(
        output.get("text", "") + output.get("data", {}).get("text/plain", "")
        for output in cell.outputs
    )


def answers(notebook):
    """{label: what its answer cell showed} for every answer cell."""
    found = {}
    for cell in notebook.cells:
        if build_book.ANSWER_TAG in cell.metadata.get("tags", []):
            label = next(
                label for label in HINTS if f'"{label}"' in cell.source
            )
            found[label] = printed(cell)
    return found


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_the_student_notebook_runs_and_every_solution_passes(
    path, student_book
):
    cases = checked_exercises(nbformat.read(path, as_version=4))
    without_code = [label for label, code, _ in cases if not code.strip()]
    assert not without_code, f"solutions with no code to check: {without_code}"
    notebook = nbformat.read(student_book / path.name, as_version=4)
    runner = nbformat.v4.new_code_cell(
        f"MARK = {MARK!r}\n_SOLUTIONS = {cases!r}\n" + RUNNER
    )
    notebook.cells.append(runner)
    NotebookClient(  # raises if a cell of the student notebook fails
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(student_book)}},
    ).execute()

    shown = answers(notebook)
    assert set(shown) == {label for label, _, _ in cases}
    for label, text in shown.items():
        assert text.startswith(f"✗ {label}: not yet"), text
        assert f"Hint: {HINTS[label]}" in text, text

    line = next(
        line
        for line in printed(notebook.cells[-1]).splitlines()
        if line.startswith(MARK)
    )
    results = json.loads(line[len(MARK) :])
    assert set(results) == {label for label, _, _ in cases}
    wrong = {
        label: feedback
        for label, feedback in results.items()
        if not feedback.startswith(f"✓ {label}: ")
    }
    assert not wrong, wrong
