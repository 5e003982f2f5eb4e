"""The HTML book builds offline with no warning, and a warning fails it."""

import re
import shutil

import pytest

import build_book
from conftest import ROOT, toc_pages


def test_book_builds_offline_without_warnings(built):
    result, html = built
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-5000:]
    assert "WARNING" not in log and "ERROR" not in log, log[-5000:]
    assert "intersphinx" not in log.lower()


@pytest.mark.parametrize("page", toc_pages())
def test_pages_are_built(built, page):
    _, html = built
    text = (html / f"{page}.html").read_text()
    assert "<h1>" in text


@pytest.mark.parametrize("page", [p for p in toc_pages() if p[5:7].isdigit()])
def test_chapters_have_exercises_with_solutions_in_dropdowns(built, page):
    _, html = built
    text = (html / f"{page}.html").read_text()
    exercises = text.count('class="exercise admonition"')
    assert exercises >= 3
    assert text.count('class="solution dropdown admonition"') == exercises


def test_a_warning_fails_the_build(tmp_path):
    """A page with a broken cross-reference, built the project's way, fails."""
    for name in (
        "_config.yml",
        "book/references.bib",
        "book/references.md",
        "book/_static/favicon.png",
        "tools/book_fixes.py",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/page\n"
        "chapters:\n  - file: book/references\n"
    )
    (tmp_path / "book/page.md").write_text(
        "# A page\n\nSee {ref}`a-label-that-does-not-exist`.\n"
    )
    result = build_book.build(tmp_path, tmp_path / "out", capture=True)
    log = result.stdout + result.stderr
    assert result.returncode != 0, log[-3000:]
    assert "a-label-that-does-not-exist" in log


@pytest.mark.parametrize("page", [p for p in toc_pages() if p[5:7].isdigit()])
def test_exercises_are_numbered_by_chapter(built, page):
    """Chapter 7's exercises read Exercise 7.1, 7.2, ... in order."""
    _, html = built
    text = (html / f"{page}.html").read_text()
    chapter = int(page[5:7])
    shown = re.findall(
        r'class="exercise admonition"[^>]*>\s*<p class="admonition-title">'
        r"\s*<span class=\"caption-number\">Exercise ([\d.]+)",
        text,
    )
    count = text.count('class="exercise admonition"')
    assert shown == [f"{chapter}.{i}" for i in range(1, count + 1)], shown


def test_the_instructor_guide_names_exercises_by_chapter(built):
    _, html = built
    text = (html / "book" / "instructor_guide.html").read_text()
    numbers = re.findall(r"Exercise (\d+(?:\.\d+)?)", text)
    assert numbers and all("." in number for number in numbers), numbers
