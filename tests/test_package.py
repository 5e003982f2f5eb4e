"""The package's shape: small modules, imports in the order of the chapters,
and the chapters before "Making it fast" showing teaching code only."""

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "convnotes"
MODULES = sorted(p for p in PACKAGE.rglob("*.py"))

# The chapter whose idea each module holds; a module may import only modules
# of its own chapter or an earlier one (0: arguments and helpers every chapter
# uses).
CHAPTER = {
    "arguments": 0,
    "checking": 0,
    "data": 0,
    "display": 0,
    "geometry": 1,
    "hand": 1,
    "plotting": 2,
    "shapes": 3,
    "loops": 4,
    "unfold": 5,
    "timing": 6,
    "grad": 7,
    "gradient_plots": 7,
    "grid_picture": 7,
    "chain": 8,
    "dataflow": 8,
    "unrolled": 8,
    "fast": 9,
    "bench": 9,
    "algorithms": 11,
    "layers": 11,
}
# the exercises' checkers, one module per chapter, named by the labels' prefix
EXERCISES = {
    "intro": 0,
    "hand": 1,
    "channels": 2,
    "size": 3,
    "loops": 4,
    "unfold": 5,
    "validate": 6,
    "closed": 7,
    "chain": 8,
    "fast": 9,
    "apps": 10,
    "beyond": 11,
}


def dotted(path):
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def chapter_of(name):
    parts = name.split(".")[1:]  # without "convnotes"
    if parts[0] == "exercises":
        return EXERCISES.get(parts[1]) if len(parts) > 1 else None
    return CHAPTER[parts[0]]


def imported(path):
    """The convnotes modules that ``path`` imports.

    ``from . import x`` counts as importing x.
    """
    package = dotted(path).rsplit(".", 1)[0]
    if path.name == "__init__.py":
        package = dotted(path)[: -len(".__init__")]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                if node.module:
                    base.append(node.module)
                module = ".".join(base)
            else:
                module = node.module or ""
            if not module.startswith("convnotes"):
                continue
            for alias in node.names:
                candidate = f"{module}.{alias.name}"
                where = ROOT / Path(*candidate.split("."))
                is_module = where.with_suffix(".py").exists()
                is_package = (where / "__init__.py").exists()
                names.add(candidate if is_module or is_package else module)
        elif isinstance(node, ast.Import):
            names |= {
                a.name for a in node.names if a.name.startswith("convnotes")
            }
    return names


@pytest.mark.parametrize("path", MODULES, ids=dotted)
def test_no_module_is_over_300_lines(path):
    assert len(path.read_text().splitlines()) <= 300


@pytest.mark.parametrize("path", MODULES, ids=dotted)
def test_no_module_imports_a_later_chapters_module(path):
    name = dotted(path)
    if name.endswith("__init__") and name.count(".") == 1:
        return  # the package itself gathers everything
    own = chapter_of(name.removesuffix(".__init__"))
    if own is None:
        return  # convnotes.exercises: gathers the chapters' checkers
    for other in imported(path):
        if other in ("convnotes", "convnotes.exercises"):
            continue
        assert chapter_of(other) <= own, (
            f"{name} (chapter {own}) imports {other}"
        )


def test_the_import_check_sees_imports():
    """The check above would see an import of a later chapter's module."""
    assert "convnotes.grad" in imported(PACKAGE / "chain.py")
    assert "convnotes.grad" in imported(PACKAGE / "fast" / "grad.py")
    assert chapter_of("convnotes.grad") > chapter_of("convnotes.loops")


SOURCE_BLOCK = re.compile(r"^```python\n(.*?)\n```$", re.S)
# what belongs to chapter 9 only: blocks of columns, reused buffers, layouts
ENGINEERING = re.compile(
    r"BLOCK_BYTES|_buffers|\bblocks\(|channels_last|memory_format|per_tap|_run\("
    r"|_wrapped_terms|_pixel_major|baddbmm"
)


def shown_source(notebook):
    """The package source a notebook shows: its show_source calls' outputs."""
    shown = []
    for cell in json.loads(notebook.read_text())["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or "show_source" not in source:
            continue
        for output in cell.get("outputs", []):
            text = "".join(output.get("data", {}).get("text/markdown", ""))
            match = SOURCE_BLOCK.match(text)
            if match:
                shown.append(match.group(1))
    return shown


BEFORE = sorted(
    p for p in (ROOT / "book").glob("0*.ipynb") if p.name < "09_making_it_fast"
)


def test_chapters_0_to_8_show_at_most_260_lines_of_teaching_code():
    lines = {
        p.name: sum(len(s.splitlines()) for s in shown_source(p))
        for p in BEFORE
    }
    assert [p.name[:2] for p in BEFORE] == [f"0{i}" for i in range(9)]
    assert sum(lines.values()) <= 260, lines
    for path in BEFORE:
        for source in shown_source(path):
            assert not ENGINEERING.search(source), (path.name, source[:200])


def test_making_it_fast_shows_convnotes_fast():
    shown = "\n".join(shown_source(ROOT / "book" / "09_making_it_fast.ipynb"))
    for name in ("def blocks(", "def _buffers(", "def weight_grad_per_tap("):
        assert name in shown


def test_the_source_check_finds_engineering():
    assert ENGINEERING.search(
        "    if torch.is_grad_enabled() or not REUSE_BUFFERS:\n"
        "        cols = _buffers(input, plan)"
    )


CHAPTERS = sorted((ROOT / "book").glob("[01]*.ipynb"))


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.name)
def test_each_chapters_title_carries_its_number(notebook):
    """A chapter renumbered in _toc.yml is renumbered in its title."""
    first = json.loads(notebook.read_text())["cells"][0]
    title = "".join(first["source"]).splitlines()[0]
    number = int(notebook.name[:2])
    if number:
        assert title.startswith(f"# {number}. "), title
