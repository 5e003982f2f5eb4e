"""pyproject.toml, constraints.txt and environment.yml describe one environment."""

import re
import sys
import tomllib

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import ROOT

# conda-forge names that differ from the PyPI name of the same package
CONDA_TO_PYPI = {"pytorch-cpu": "torch", "matplotlib-base": "matplotlib"}
# packages environment.yml installs with pip, pinned there as in constraints.txt
PIP_ONLY = {"sphinx-mathjax-offline", "playwright"}


def pyproject_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = project["dependencies"] + [
        r for extra in project["optional-dependencies"].values() for r in extra
    ]
    return {canonicalize_name(Requirement(r).name): Requirement(r) for r in listed}


def constraint_pins():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
            assert match, f"constraints.txt: not an exact pin: {line!r}"
            pins[canonicalize_name(match[1])] = match[2]
    return pins


def conda_environment():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    packages, pip = {}, []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip += dep["pip"]
            continue
        name, _, version = dep.partition("=")
        packages[name] = version
    return env, packages, pip


def test_every_requirement_is_pinned_exactly():
    pins = constraint_pins()
    for name, requirement in pyproject_requirements().items():
        assert name in pins, f"{name} is required by pyproject.toml but not pinned"
        assert requirement.specifier.contains(pins[name]), (
            name,
            str(requirement),
            pins[name],
        )


def test_torch_is_pinned_to_the_cpu_release():
    assert constraint_pins()["torch"] == "2.13.0"


def test_environment_yml_names_the_same_packages_as_pyproject():
    env, packages, pip = conda_environment()
    assert "conda-forge" in env["channels"]
    assert (
        packages.pop("python")
        == f"{sys.version_info.major}.{sys.version_info.minor}"
        == "3.11"
    )
    assert packages.pop("pip") == ""
    conda_names = {
        canonicalize_name(CONDA_TO_PYPI.get(name, name)) for name in packages
    }
    pip_names = {canonicalize_name(Requirement(r).name) for r in pip[1:]}
    assert pip_names == PIP_ONLY
    assert conda_names | pip_names == set(pyproject_requirements())
    assert pip[0] == "-e ."


def test_environment_yml_versions_equal_the_pins():
    pins = constraint_pins()
    _, packages, pip = conda_environment()
    for line in pip[1:]:
        requirement = Requirement(line)
        assert str(requirement.specifier) == f"=={pins[requirement.name]}", line
    for name, version in packages.items():
        if name in ("python", "pip"):
            continue
        pypi = canonicalize_name(CONDA_TO_PYPI.get(name, name))
        assert version == pins[pypi], (
            f"environment.yml {name}={version}, constraints {pins[pypi]}"
        )


def test_citation_matches_the_project():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert citation["cff-version"] == "1.2.0"
    assert str(citation["version"]) == project["version"]
    assert citation["title"] == config["title"]
    assert set(citation["license"]) == {"MIT", "CC-BY-4.0"}
    assert citation["repository-code"] == config["repository"]["url"]


def test_the_workflow_tests_then_publishes_both_editions():
    workflow = yaml.safe_load((ROOT / ".github/workflows/book.yml").read_text())
    steps = workflow["jobs"]["test"]["steps"]
    commands = " ".join(step.get("run", "") for step in steps)
    assert "make test" in commands
    assert "make book" in commands and "make student" in commands
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "test"
    assert "refs/heads/main" in deploy["if"]
    assert any("deploy-pages" in step.get("uses", "") for step in deploy["steps"])
