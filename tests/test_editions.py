"""The student edition has no solution text anywhere; the instructor one all.

The student edition's notebooks have an answer cell after each exercise that
names a check; the instructor edition's have none.

Needles are the lines of every solution, reduced to their letters and digits
(so that markup, escaping and syntax highlighting cannot hide a match),
keeping only lines long enough to be distinctive and found nowhere else in the
book.
Every file of each built edition is searched the same way.
"""

import html
import json
import re

import nbformat
import pytest

import build_book
import myst_solutions
from conftest import PLANTS, ROOT
from convnotes.exercises import HINTS


def reduced(text):
    return re.sub(r"[\W_]+", "", text).lower()


def book_sources():
    """(solutions {label: text}, the book's text and outputs besides)."""
    solutions, rest = {}, []
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for label, body, _ in myst_solutions.solutions(cell.source):
                solutions[label] = body
            rest.append(myst_solutions.strip_solutions(cell.source))
            # the outputs too, e.g. the package source shown
            for output in cell.get("outputs", []):
                rest += [
                    str(v)
                    for k, v in output.get("data", {}).items()
                    if "text" in k
                ]
                rest.append(str(output.get("text", "")))
    return solutions, reduced(" ".join(rest))


def needles():
    """{label: [reduced lines]} of every solution."""
    solutions, rest = book_sources()
    found = {}
    for label, body in solutions.items():
        lines = [reduced(line) for line in body.splitlines()]
        found[label] = [
            line for line in lines if len(line) >= 25 and line not in rest
        ]
    return found


def haystack(html_dir):
    """Every file of a built book, as reduced text."""
    texts = []
    for path in html_dir.rglob("*"):
        binary = {".png", ".woff", ".woff2", ".ttf"}
        if not path.is_file() or path.suffix in binary:
            continue
        text = path.read_text(errors="ignore")
        # the downloadable notebooks: their cells' sources
        if path.suffix == ".ipynb":
            cells = json.loads(text)["cells"]
            text = " ".join("".join(cell["source"]) for cell in cells)
        texts.append(reduced(html.unescape(re.sub(r"<[^>]+>", " ", text))))
    return " ".join(texts)


def test_every_solution_has_distinctive_lines():
    found = needles()
    assert len(found) >= 27  # at least three exercises in every chapter
    assert all(found.values()), [
        label for label, lines in found.items() if not lines
    ]


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
        in (html_dir / "book" / "10_applications.html").read_text()
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


def answer_cells(html_dir):
    """{label: source} of the answer cells of a built edition's downloads."""
    found = {}
    for path in sorted((html_dir / "_sources").rglob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if build_book.ANSWER_TAG in cell.metadata.get("tags", []):
                label = re.search(r'check\(\s*"([\w-]+)"', cell.source)[1]
                found[label] = cell.source
    return found


def test_the_student_downloads_have_an_answer_cell_per_check(
    built_student, built
):
    _, html_dir = built_student
    cells = answer_cells(html_dir)
    assert set(cells) == set(HINTS)  # every checked exercise, and only those
    assert all("= ...  # your answer" in source for source in cells.values())
    page = (html_dir / "book" / "03_output_size.html").read_text()
    text = reduced(html.unescape(re.sub(r"<[^>]+>", " ", page)))
    assert reduced(cells["ex-size-stem"]) in text  # the page shows it too
    _, instructor_html = built
    assert not answer_cells(instructor_html)


def test_the_student_edition_leaves_out_launch_buttons(built_student):
    _, html_dir = built_student
    page = (html_dir / "book" / "08_chained_gradients.html").read_text()
    assert (
        "mybinder.org" not in page and "colab.research.google.com" not in page
    )
    assert "student edition" in page


def test_the_student_edition_has_no_planted_solution(built_student):
    """Solutions planted in the build, in every fence style: none survives."""
    result, html_dir = built_student
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    text = haystack(html_dir)
    assert len(PLANTS) == 14
    for markdown, secret, code in PLANTS:
        # the exercise's text
        question = markdown.split("\n\n")[1].split("\n")[0]
        assert reduced(question) in text, (
            f"the plant is not in the build: {question}"
        )
        assert reduced(secret) not in text, f"leaked: {secret}"
        assert reduced(code) not in text, f"leaked: {code}"


@pytest.mark.parametrize(
    "markdown, secret, code",
    PLANTS,
    ids=[code.split()[0] for *_, code in PLANTS],
)
def test_every_fence_style_is_stripped_and_found(markdown, secret, code):
    stripped = myst_solutions.strip_solutions(
        "Before.\n\n" + markdown + "\nAfter.\n"
    )
    assert secret not in stripped and code not in stripped
    assert stripped.startswith("Before.") and stripped.endswith("After.\n")
    assert "Planted exercise" in stripped  # the exercise itself stays
    ((label, body, found_code),) = myst_solutions.solutions(markdown)
    assert label.startswith("ex-planted-") and secret in body
    assert found_code.strip() == (code if "```python" in markdown else "")


def test_strip_solutions_removes_the_whole_block():
    before = "````{exercise}\n:label: x\n\nQuestion\n````\n\n"
    text = "````{solution} x\n:class: dropdown\n\nsecret\n````\n"
    assert (
        build_book.strip_solutions(before + text + "after") == before + "after"
    )


def test_a_fence_inside_a_code_block_does_not_end_the_solution():
    text = (
        "````{solution} x\n```python\n:::\n````{note}\n```\nsecret\n"
        "````\nafter\n"
    )
    assert myst_solutions.strip_solutions(text) == "after\n"


def test_an_unclosed_solution_hides_the_rest():
    assert (
        myst_solutions.strip_solutions("a\n:::{solution} x\nsecret\n") == "a\n"
    )


def test_a_solution_in_restructuredtext_is_refused():
    text = "```{eval-rst}\n.. solution:: x\n\n   secret\n```\n"
    with pytest.raises(ValueError, match="reStructuredText"):
        myst_solutions.strip_solutions(text)
