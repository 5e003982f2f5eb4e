"""Build the HTML book: every Sphinx warning is an error, and nothing is fetched.

Usage: python tools/build_book.py [--source DIR] [--output DIR]

`make book` runs this, and so does the test suite (tests/test_book.py), so the
book a reader gets is built exactly the way it is tested.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# -W: warnings are errors; -n: nitpicky, every cross-reference must resolve;
# --keep-going: report every warning, not just the first.
FLAGS = ["-W", "-n", "--keep-going"]


def jupyter_book_command():
    """The jupyter-book script of the running Python's environment."""
    beside = Path(sys.executable).with_name("jupyter-book")
    found = beside if beside.exists() else shutil.which("jupyter-book")
    if found is None:
        raise SystemExit("jupyter-book is not installed: run `make setup` first")
    return str(found)


def build(source=ROOT, output=None, capture=False, env=None):
    """Run ``jupyter-book build``; the HTML lands in ``<output>/_build/html``."""
    command = [jupyter_book_command(), "build", str(source), *FLAGS]
    if output is not None:
        command += ["--path-output", str(output)]
    return subprocess.run(
        command, capture_output=capture, text=True, check=False, env=env
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source", default=ROOT, type=Path, help="the book's root folder"
    )
    parser.add_argument("--output", default=None, type=Path, help="where _build/ goes")
    args = parser.parse_args(argv)
    result = build(args.source, args.output)
    if result.returncode == 0:
        html = (args.output or args.source).resolve() / "_build" / "html" / "index.html"
        print(f"\nThe book is built. Open it in a browser: {html}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
