import os
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent

sys.path.insert(0, str(ROOT / "tools"))
import build_book  # noqa: E402

# Every HTTP(S) request of the build goes to a closed local port, so a build step
# that fetched anything (an intersphinx inventory, a remote image) would fail.
OFFLINE = {"http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"}
OFFLINE |= {key.upper(): value for key, value in OFFLINE.items()}


def toc_pages():
    """Every page of the book, as _toc.yml lists them (root first)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for p in toc["parts"] for c in p["chapters"]]


@pytest.fixture(scope="session")
def root():
    return ROOT


def build_offline(edition, output):
    """Build an edition the project's way with no network: (result, html folder)."""
    env = {k: v for k, v in os.environ.items() if k.lower() != "no_proxy"} | OFFLINE
    return build_book.build_edition(edition, output, capture=True, env=env)


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The instructor edition, built once per test session."""
    return build_offline("instructor", tmp_path_factory.mktemp("instructor"))


@pytest.fixture(scope="session")
def built_student(tmp_path_factory):
    """The student edition, built once per test session."""
    return build_offline("student", tmp_path_factory.mktemp("student"))
