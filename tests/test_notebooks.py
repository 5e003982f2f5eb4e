"""Stored notebooks: complete, fresh, importing convnotes, checked strictly."""

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib

import nbformat
import pytest

import myst_solutions
from conftest import ROOT, toc_pages

NOTEBOOKS = sorted(p for p in (ROOT / "book").glob("*.ipynb"))
IMPORTS_CONVNOTES = re.compile(
    r"^\s*(import convnotes\b|from convnotes\b)", re.MULTILINE
)


def code_cells(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    return [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_was_run_top_to_bottom_in_a_fresh_kernel(path):
    # nbval skips cells that were never executed: such a cell is unchecked
    counts = [cell.execution_count for cell in code_cells(path)]
    assert None not in counts, (
        f"{path.name}: unexecuted code cells (execution_count null)"
    )
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: run out of order: {counts}"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_imports_convnotes(path):
    first = code_cells(path)[0]
    assert IMPORTS_CONVNOTES.search(first.source), (
        f"{path.name}: first code cell:\n{first.source}"
    )


COLAB_GUARD = """try:
    import convnotes as cn
except ImportError:  # e.g. on Colab: install the course's package first
    %pip install --quiet git+{url}@v{version}
    import convnotes as cn"""


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_installs_convnotes_only_where_it_is_missing(path):
    """On Colab the release is installed first; here the import succeeds."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    url, version = project["urls"]["Repository"], project["version"]
    first = code_cells(path)[0]
    guard = COLAB_GUARD.format(url=url, version=version)
    assert guard in first.source, first.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_stored_errors(path):
    for cell in code_cells(path):
        if "raises-exception" in cell.metadata.get("tags", []):
            continue
        kinds = [output.output_type for output in cell.outputs]
        assert "error" not in kinds, (
            f"{path.name}: error output in\n{cell.source}"
        )


def markdown_comment_lines(path):
    """Lines of markdown cells that MyST would drop as comments (``% ...``).

    Code blocks, as ``myst_solutions.blocks`` finds them, are skipped; a
    directive's fence (``{exercise}``, ``{solution}``, ...) holds markdown,
    which is read.
    """
    nb = nbformat.read(path, as_version=4)
    found = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        code = set()
        for first, last, _, info, _ in myst_solutions.blocks(cell.source):
            if not info.startswith("{"):
                code.update(range(first, last + 1))
        lines = cell.source.splitlines()
        found += [
            line
            for number, line in enumerate(lines)
            if number not in code and line.startswith("%")
        ]
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_markdown_line_is_dropped_as_a_comment(path):
    # a wrapped "(10 %)" that starts a line with "%" vanishes from the page
    assert markdown_comment_lines(path) == [], path.name


def test_the_comment_check_sees_a_wrapped_percent(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("one block of 1024 pixels (10\n%) each"),
        nbformat.v4.new_markdown_cell("```python\n% not markdown\n```"),
        # inside a directive the text is markdown; its code blocks are not
        nbformat.v4.new_markdown_cell(
            "````{solution} ex-a\n```python\n% code\n```\n5 (10\n%) here\n````"
        ),
        # a colon fence, as MyST also writes directives
        nbformat.v4.new_markdown_cell(":::{note}\n7 (10\n%) too\n:::"),
    ]
    path = tmp_path / "planted.ipynb"
    nbformat.write(nb, path)
    assert markdown_comment_lines(path) == ["%) each", "%) here", "%) too"]


TIMES = re.compile(
    r"perf_counter|time\.time\(|timeit|timing\.compare|bench\.|compare_problem3"
    r"|paired_medians|torch\.profiler"
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_cells_that_time_are_not_compared(path):
    """A timing varies by machine: its cell is tagged, and nbval skips it."""
    for cell in code_cells(path):
        shows = cell.source.startswith("show_source(")
        if TIMES.search(cell.source) and not shows:
            tags = cell.metadata.get("tags", [])
            assert "nbval-ignore-output" in tags, (
                f"{path.name}:\n{cell.source}"
            )


def test_every_notebook_is_in_the_table_of_contents():
    files = set(toc_pages())
    notebooks = {f"book/{p.stem}" for p in NOTEBOOKS}
    assert notebooks <= files, f"not in _toc.yml: {sorted(notebooks - files)}"
    missing = {
        f
        for f in files
        if not any(
            (ROOT / f).with_suffix(s).exists() for s in (".ipynb", ".md")
        )
    }
    assert not missing, f"in _toc.yml but not in book/: {sorted(missing)}"


def test_nbval_is_strict(tmp_path):
    """A notebook whose stored output differs from a fresh run fails the suite.

    Runs pytest, with this project's own configuration, on two copies of the
    introduction: one as stored (must pass) and one with a stored output
    changed.
    """
    source = ROOT / "book" / "00_introduction.ipynb"
    good = tmp_path / "good.ipynb"
    bad = tmp_path / "bad.ipynb"
    good.write_text(source.read_text())
    nb = json.loads(source.read_text())
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    outputs = [o for c in cells for o in c["outputs"]]
    stream = next(o for o in outputs if o["output_type"] == "stream")
    stream["text"] = ["an output the code does not produce\n"]
    bad.write_text(json.dumps(nb))

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rf",
            "-c",
            str(ROOT / "pyproject.toml"),
        ]
        + ["--rootdir", str(ROOT), str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 1, report
    lines = report.splitlines()
    failed = [line for line in lines if line.startswith("FAILED")]
    assert failed and all("bad.ipynb" in line for line in failed), report
    assert re.search(r"\b1 failed, \d+ passed\b", report), report


def test_pytest_does_not_collect_notebooks_in_the_build_folder():
    """The build copies notebooks into _build/; those must not be run again."""
    stray = ROOT / "_build" / f"collect-check-{os.getpid()}"
    stray.mkdir(parents=True)
    try:
        shutil.copy(NOTEBOOKS[0], stray / "copied.ipynb")
        result = subprocess.run(
            # "." overrides testpaths, so this checks norecursedirs too
            [sys.executable, "-m", "pytest", "--collect-only", "-q", "."],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        shutil.rmtree(stray)
    assert result.returncode == 0, result.stdout + result.stderr
    collected = result.stdout.splitlines()
    chapter3 = "book/03_output_size.ipynb::"
    assert any(line.startswith(chapter3) for line in collected)
    assert not [line for line in collected if line.startswith("_build")]
