"""The student edition carries no solution text anywhere; the instructor one has all.

Needles are the lines of every solution, reduced to their letters and digits (so
that markup, escaping and syntax highlighting cannot hide a match), keeping
only lines long enough to be distinctive and found nowhere else in the book.
Every file of each built edition is searched the same way.
"""

import html
import json
import re

import nbformat
import pytest

import build_book
from conftest import ROOT

SOLUTION = re.compile(r"^````\{solution\} (\S+)\n(.*?)^````", re.S | re.M)


def reduced(text):
    return re.sub(r"[\W_]+", "", text).lower()


def book_sources():
    """(solutions {label: text}, the book's text and outputs outside solutions)."""
    solutions, rest = {}, []
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for label, body in SOLUTION.findall(cell.source):
                solutions[label] = body
            rest.append(SOLUTION.sub("", cell.source))  # the test's own stripping
            for output in cell.get("outputs", []):  # e.g. the package source shown
                rest += [
                    str(v) for k, v in output.get("data", {}).items() if "text" in k
                ]
                rest.append(str(output.get("text", "")))
    return solutions, reduced(" ".join(rest))


def needles():
    """{label: [reduced lines]} of every solution."""
    solutions, rest = book_sources()
    found = {}
    for label, body in solutions.items():
        lines = [reduced(line) for line in body.splitlines()]
        found[label] = [line for line in lines if len(line) >= 25 and line not in rest]
    return found


def haystack(html_dir):
    """Every file of a built book, as reduced text."""
    texts = []
    for path in html_dir.rglob("*"):
        if not path.is_file() or path.suffix in {".png", ".woff", ".woff2", ".ttf"}:
            continue
        text = path.read_text(errors="ignore")
        if path.suffix == ".ipynb":  # the downloadable notebooks: their cell sources
            cells = json.loads(text)["cells"]
            text = " ".join("".join(cell["source"]) for cell in cells)
        texts.append(reduced(html.unescape(re.sub(r"<[^>]+>", " ", text))))
    return " ".join(texts)


def test_every_solution_has_distinctive_lines():
    found = needles()
    assert len(found) >= 27  # three exercises per chapter, chapters 1 to 9
    assert all(found.values()), [label for label, lines in found.items() if not lines]


def test_the_instructor_edition_has_every_solution(built):
    result, html_dir = built
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    text = haystack(html_dir)
    for label, lines in needles().items():
        assert any(line in text for line in lines), f"{label}: not in the book"


def test_the_student_edition_has_no_solution_text(built_student):
    result, html_dir = built_student
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert "WARNING" not in log, log[-3000:]
    text = haystack(html_dir)
    assert (
        "exercise admonition"
        in (html_dir / "book" / "09_applications.html").read_text()
    )
    found = needles()
    assert sum(map(len, found.values())) > 100
    leaks = {
        label: [line for line in lines if line in text]
        for label, lines in found.items()
    }
    assert not any(leaks.values()), {k: v for k, v in leaks.items() if v}
    notebooks = list((html_dir / "_sources").rglob("*.ipynb"))
    assert len(notebooks) >= 10  # the downloads are there, and were searched


def test_the_student_edition_leaves_out_launch_buttons(built_student):
    _, html_dir = built_student
    page = (html_dir / "book" / "08_chained_gradients.html").read_text()
    assert "mybinder.org" not in page and "colab.research.google.com" not in page
    assert "student edition" in page


@pytest.mark.parametrize(
    "text", ["````{solution} x\n:class: dropdown\n\nsecret\n````\n"]
)
def test_strip_solutions_removes_the_whole_block(text):
    before = "````{exercise}\n:label: x\n\nQuestion\n````\n\n"
    assert build_book.strip_solutions(before + text + "after") == before + "after"
