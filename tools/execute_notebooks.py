"""Run the book's notebooks top to bottom in fresh kernels; record how it went.

Usage: python tools/execute_notebooks.py [NOTEBOOK ...]  (default: all of them)

Each notebook is executed in a new kernel, started in ``book/``, and stored
with its outputs. Its wall-clock time, with the versions of the packages that
produced the outputs, goes to ``book/status.json``, from which
``book/status.md`` (the book's status page) is written. `make execute` runs
this.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from importlib.metadata import version
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
STATUS_JSON = BOOK / "status.json"
STATUS_MD = BOOK / "status.md"
PACKAGES = [
    "torch",
    "numpy",
    "matplotlib",
    "jupyter-book",
    "nbval",
    "convnotes",
]


def execute(path):
    """Execute one notebook in place; returns the seconds it took."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    nbformat.write(notebook, path)
    return seconds


def environment():
    return {
        "python": platform.python_version(),
        **{name: version(name) for name in PACKAGES},
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
    }


def write_status(status):
    rows = "\n".join(
        f"| [{name}]({name}) | {seconds:.1f} s |"
        for name, seconds in sorted(status["seconds"].items())
    )
    versions = "\n".join(
        f"| {name} | {value} |"
        for name, value in sorted(status["with"].items())
    )
    STATUS_MD.write_text(
        f"""# Status

Every notebook of this book is stored with the outputs it produced when it was
last run top to bottom in a fresh kernel (`make execute`), and the test suite
re-runs each one and compares its outputs (nbval). This page records that last
run. It is written by `tools/execute_notebooks.py`; do not edit it by hand.

## Time to run each notebook

Wall-clock time in a fresh kernel, kernel start included. Notebooks that time
code print their own timings, which are not compared when the notebooks are
tested.

| notebook | time |
| --- | --- |
{rows}

## The versions that produced the outputs

| package | version |
| --- | --- |
{versions}
"""
    )


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    paths = [Path(p).resolve() for p in argv] or sorted(BOOK.glob("*.ipynb"))
    status = {"seconds": {}, "with": {}}
    if STATUS_JSON.exists():
        status = json.loads(STATUS_JSON.read_text())
    for path in paths:
        seconds = execute(path)
        status["seconds"][path.name] = round(seconds, 1)
        print(f"{path.name}: {seconds:.1f} s")
    known = {path.name for path in BOOK.glob("*.ipynb")}
    status["seconds"] = {
        k: v for k, v in status["seconds"].items() if k in known
    }
    status["with"] = environment()
    STATUS_JSON.write_text(json.dumps(status, indent=1, sort_keys=True) + "\n")
    write_status(status)


if __name__ == "__main__":
    main()
