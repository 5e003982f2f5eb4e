"""The status page records every notebook's last run, and the limits hold."""

import json

import execute_notebooks
from conftest import ROOT
from test_environment import constraint_pins

STATUS = json.loads((ROOT / "book" / "status.json").read_text())
# seconds a notebook may take on a 2-core CPU (chapter 8 trains a network)
LIMITS = {"08_chained_gradients.ipynb": 60, "10_applications.ipynb": 30}


def test_every_notebook_has_a_recorded_time_within_its_limit():
    notebooks = {path.name for path in (ROOT / "book").glob("*.ipynb")}
    assert set(STATUS["seconds"]) == notebooks
    for name, seconds in STATUS["seconds"].items():
        assert 0 < seconds < LIMITS.get(name, 60), (name, seconds)


def test_the_outputs_were_produced_with_the_pinned_versions():
    pins = constraint_pins()
    for package in ("torch", "numpy", "matplotlib", "jupyter-book", "nbval"):
        # a CPU build's local version label ("+cpu") is not part of the pin
        assert STATUS["with"][package].split("+")[0] == pins[package], package
    assert STATUS["with"]["python"].startswith("3.11.")


def test_the_status_page_is_written_from_the_record(tmp_path, monkeypatch):
    monkeypatch.setattr(execute_notebooks, "STATUS_MD", tmp_path / "status.md")
    execute_notebooks.write_status(STATUS)
    expected = (tmp_path / "status.md").read_text()
    assert (ROOT / "book" / "status.md").read_text() == expected
