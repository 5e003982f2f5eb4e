"""ruff: package, tests, tools and notebooks are lint-clean and formatted."""

import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.mark.parametrize(
    "command", [["check"], ["format", "--check"]], ids=" ".join
)
def test_ruff(command):
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command, "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
