"""The student edition's notebooks: an answer cell after each checked exercise.

Each exercise that names a check gets, right after it, a code cell tagged
``exercise-answer``: ``name = ...  # your answer`` for each name the check
reads, then the check, which says "not yet" until they are replaced. These
tests look at the cells without a kernel; tests/test_solutions.py runs every
student notebook top to bottom.
"""

import ast

import nbformat
import pytest

import build_book
import convnotes as cn
import myst_solutions
from conftest import ROOT
from convnotes.exercises import HINTS

CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))


@pytest.fixture(scope="module")
def student_book(tmp_path_factory):
    """The student edition's copy of book/, as its build starts from."""
    source = tmp_path_factory.mktemp("student") / "source"
    return build_book.student_source(source) / "book"


def is_answer(cell):
    return build_book.ANSWER_TAG in cell.metadata.get("tags", [])


def checked(cell):
    """[(label, check call)] of the checked exercises in a markdown cell."""
    if cell.cell_type != "markdown":
        return []
    return [
        (label, call)
        for label, body in myst_solutions.exercises(cell.source)
        if (call := myst_solutions.check_call(label, body))
    ]


def run(source):
    """Run an answer cell's code; the value of its last line, as IPython."""
    module = ast.parse(source)
    last = ast.Expression(module.body.pop().value)
    namespace = {"cn": cn}
    exec(compile(module, "<answer cell>", "exec"), namespace)
    return eval(compile(last, "<answer cell>", "eval"), namespace)


def test_every_checked_exercise_is_followed_by_its_answer_cell(student_book):
    count = 0
    for path in CHAPTERS:
        book = nbformat.read(path, as_version=4)
        student = nbformat.read(student_book / path.name, as_version=4)
        nbformat.validate(student)  # e.g. every cell has a unique id
        cells = iter(student.cells)
        for original in book.cells:
            cell = next(cells)
            assert not is_answer(cell), f"{path.name}: a stray answer cell"
            assert cell.cell_type == original.cell_type
            for label, call in checked(original):
                answer = next(cells)
                assert is_answer(answer), f"{path.name}: {label} has no cell"
                names = myst_solutions.parse_check(call).names
                lines = answer.source.splitlines()
                assert lines[: len(names)] == [
                    f"{name} = ...  # your answer" for name in names
                ]
                assert f'check(\n    "{label}"' in answer.source or (
                    f'check("{label}"' in answer.source
                )
                assert answer.outputs == [] and answer.execution_count is None
                assert max(map(len, lines)) <= 79, answer.source
                count += 1
        assert next(cells, None) is None, f"{path.name}: cells left over"
    assert count == len(HINTS)  # every checker's exercise, once


def answer_cells(book):
    return {
        path.name: [
            cell
            for cell in nbformat.read(path, as_version=4).cells
            if is_answer(cell)
        ]
        for path in sorted(book.glob("*.ipynb"))
    }


def test_every_answer_cell_says_not_yet_with_its_hint(student_book):
    cells = [c for found in answer_cells(student_book).values() for c in found]
    assert len(cells) == len(HINTS)
    for cell in cells:
        feedback = run(cell.source)
        label = feedback.label
        assert repr(feedback).startswith(f"✗ {label}: not yet"), feedback
        assert feedback.message.endswith(HINTS[label])


def test_running_an_answer_cell_catches_a_missing_placeholder(student_book):
    cell = answer_cells(student_book)["03_output_size.ipynb"][0]
    run(cell.source)
    planted = "\n".join(cell.source.splitlines()[1:])  # first placeholder out
    with pytest.raises(NameError, match="first"):
        run(planted)


def test_the_book_itself_has_no_answer_cells():
    assert not any(answer_cells(ROOT / "book").values())


def test_an_exercise_without_a_check_gets_no_cell(student_book):
    notebook = nbformat.read(
        student_book / "06_validation_and_cost.ipynb", as_version=4
    )
    for before, after in zip(notebook.cells, notebook.cells[1:], strict=False):
        if (
            "ex-validate-cost" in before.source
            and "{exercise}" in before.source
        ):
            assert not is_answer(after)
            break
    else:
        raise AssertionError("ex-validate-cost is not in chapter 6")


@pytest.mark.parametrize(
    ("call", "names", "source"),
    [
        (
            'cn.exercises.check("ex-a", ((r, c), (r, k), 3))',
            ["r", "c", "k"],
            'cn.exercises.check("ex-a", ((r, c), (r, k), 3))',
        ),
        (
            'check("ex-b",\n  [[a, b],\n   [c, d]])',
            ["a", "b", "c", "d"],
            'check("ex-b", [[a, b], [c, d]])',
        ),
        (
            'cn.exercises.check("ex-a-rather-long-label", '
            "(size, (smallest, largest), output_padding))",
            ["size", "smallest", "largest", "output_padding"],
            'cn.exercises.check(\n    "ex-a-rather-long-label", '
            "(size, (smallest, largest), output_padding)\n)",
        ),
    ],
)
def test_a_check_call_is_taken_apart(call, names, source):
    parsed = myst_solutions.parse_check(call)
    assert parsed.names == names
    assert parsed.source() == source


def test_a_bare_check_call_gets_its_import():
    cell = build_book.answer_cell("ex-b", 'check("ex-b", value)')
    assert "".join(cell["source"]) == (
        "value = ...  # your answer\n"
        "from convnotes.exercises import check\n"
        'check("ex-b", value)'
    )
    assert cell["id"] == "answer-ex-b"
    assert cell["metadata"] == {"tags": ["exercise-answer"]}


@pytest.mark.parametrize(
    ("call", "words"),
    [
        ('cn.exercises.check("ex-a", w.grad)', "'w.grad'"),
        ('cn.exercises.check("ex-a", f(x))', "'f\\(x\\)'"),
        ('cn.exercises.check("ex-a")', "check\\(label, answer\\)"),
        ('cn.exercises.check("ex-a", (a, b)', "must be Python"),
    ],
)
def test_a_check_call_a_placeholder_cannot_answer_is_refused(call, words):
    with pytest.raises(ValueError, match=words):
        myst_solutions.parse_check(call)
