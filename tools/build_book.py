"""Build the HTML book: every Sphinx warning is an error, nothing is fetched.

Usage: python tools/build_book.py [--edition instructor|student] [--output DIR]

Two editions come from the same sources. The instructor edition (the default,
`make book`) is the book as written, solutions in dropdowns. The student
edition (`make student`) is built from a copy of the sources with every
solution removed, so no solution text reaches its pages, its downloadable
notebooks or its `_sources/`; its launch buttons, which would open the
repository's notebooks with their solutions, are left out. In its notebooks,
each exercise that names a check is followed by an answer cell (tagged
`exercise-answer`): a placeholder `name = ...` for each name the check reads,
then the check itself, which says "not yet" until the placeholders are
replaced.

The test suite builds both the same way (tests/test_book.py,
tests/test_editions.py), so the books readers get are built as they are
tested, and runs every student notebook (tests/test_solutions.py).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from myst_solutions import check_call, exercises, parse_check, strip_solutions

ROOT = Path(__file__).resolve().parent.parent
ANSWER_TAG = "exercise-answer"  # the student edition's answer cells
# -W: warnings are errors; -n: nitpicky, every cross-reference must resolve;
# --keep-going: report every warning, not just the first.
FLAGS = ["-W", "-n", "--keep-going"]


def jupyter_book_command():
    """The jupyter-book script of the running Python's environment."""
    beside = Path(sys.executable).with_name("jupyter-book")
    found = beside if beside.exists() else shutil.which("jupyter-book")
    if found is None:
        raise SystemExit(
            "jupyter-book is not installed: run `make setup` first"
        )
    return str(found)


def build(source=ROOT, output=None, capture=False, env=None):
    """Run ``jupyter-book build``: the HTML goes to ``output/_build/html``."""
    command = [jupyter_book_command(), "build", str(source), *FLAGS]
    if output is not None:
        command += ["--path-output", str(output)]
    return subprocess.run(
        command, capture_output=capture, text=True, check=False, env=env
    )


def answer_cell(label, call, with_id=True):
    """The code cell a student fills in to answer exercise ``label``.

    One line ``name = ...  # your answer`` for each name ``call`` reads, then
    ``call`` itself, which says "not yet" while any ``...`` is left.
    """
    parsed = parse_check(call)
    lines = [f"{name} = ...  # your answer" for name in parsed.names]
    if parsed.function == "check":
        lines.append("from convnotes.exercises import check")
    lines.append(parsed.source())
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {"tags": [ANSWER_TAG]},
        "outputs": [],
        "source": "\n".join(lines).splitlines(keepends=True),
    }
    if with_id:  # nbformat 4.5: every cell has an id
        cell = {"id": f"answer-{label}"[:64], **cell}
    return cell


def student_cells(notebook):
    """A student's cells of ``notebook``: solutions out, answer cells in."""
    version = (notebook["nbformat"], notebook.get("nbformat_minor", 0))
    with_id = version >= (4, 5)
    cells = []
    for cell in notebook["cells"]:
        cells.append(cell)
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"])
        cell["source"] = strip_solutions(text).splitlines(keepends=True)
        for label, body in exercises(text):
            call = check_call(label, body)
            if call is not None:
                cells.append(answer_cell(label, call, with_id))
    return cells


def student_source(destination, book=ROOT / "book"):
    """Copy ``book`` to ``destination`` for students.

    Solutions and launch buttons are left out, and each exercise that names a
    check gets an answer cell in its notebook.
    """
    if destination.exists():
        shutil.rmtree(destination)
    shutil.copytree(
        book,
        destination / "book",
        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
    )
    shutil.copy(ROOT / "_toc.yml", destination / "_toc.yml")
    for path in (destination / "book").glob("*.ipynb"):
        notebook = json.loads(path.read_text())
        notebook["cells"] = student_cells(notebook)
        text = json.dumps(notebook, indent=1, ensure_ascii=False)
        path.write_text(text + "\n")
    for path in (destination / "book").glob("*.md"):
        path.write_text(strip_solutions(path.read_text()))
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["title"] += " (student edition)"
    # the book's own Sphinx extensions stay where they are
    extensions = config["sphinx"].get("local_extensions", {})
    for name, folder in extensions.items():
        extensions[name] = str((ROOT / folder).resolve())
    config.pop("launch_buttons", None)
    config["html"]["use_repository_button"] = False
    config["html"]["use_issues_button"] = False
    config_text = yaml.safe_dump(config, sort_keys=False)
    (destination / "_config.yml").write_text(config_text)
    return destination


def build_edition(
    edition, output=None, capture=False, env=None, book=ROOT / "book"
):
    """Build ``edition`` ("instructor" or "student"): (result, html folder).

    The student edition can be built from another copy of ``book/`` (the tests
    build it from one with solutions planted in every fence style).
    """
    if edition == "instructor":
        source = ROOT
    elif edition == "student":
        output = output or ROOT / "_build" / "student"
        source = student_source(output / "source", book)
    else:
        raise ValueError(
            f"edition must be 'instructor' or 'student', got {edition!r}"
        )
    result = build(source, output, capture=capture, env=env)
    return result, (output or source).resolve() / "_build" / "html"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--edition",
        choices=["instructor", "student"],
        default="instructor",
        help="with solutions (instructor) or without (student)",
    )
    parser.add_argument(
        "--output", default=None, type=Path, help="where _build/ goes"
    )
    args = parser.parse_args(argv)
    result, html = build_edition(args.edition, args.output)
    if result.returncode == 0:
        print(
            f"\nThe {args.edition} edition is built. "
            f"Open it in a browser: {html / 'index.html'}"
        )
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
