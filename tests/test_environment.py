"""pyproject.toml, constraints.txt and environment.yml: one environment.

binder/environment.yml is Binder's: only what the notebooks and the package
import, at the same pins.
"""

import ast
import functools
import json
import re
import sys
import tomllib
from importlib import metadata

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import ROOT

# conda-forge names that differ from the PyPI name of the same package
CONDA_TO_PYPI = {"pytorch-cpu": "torch", "matplotlib-base": "matplotlib"}
# what environment.yml installs with pip, pinned as in constraints.txt
PIP_ONLY = {"sphinx-mathjax-offline", "playwright"}


def pyproject_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = project["dependencies"] + [
        r for extra in project["optional-dependencies"].values() for r in extra
    ]
    return {
        canonicalize_name(Requirement(r).name): Requirement(r) for r in listed
    }


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
        assert name in pins, (
            f"{name} is required by pyproject.toml but not pinned"
        )
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
        assert str(requirement.specifier) == f"=={pins[requirement.name]}", (
            line
        )
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
    workflow = yaml.safe_load(
        (ROOT / ".github/workflows/book.yml").read_text()
    )
    steps = workflow["jobs"]["test"]["steps"]
    commands = " ".join(step.get("run", "") for step in steps)
    assert "make test" in commands
    assert "make book" in commands and "make student" in commands
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "test"
    assert "refs/heads/main" in deploy["if"]
    assert any(
        "deploy-pages" in step.get("uses", "") for step in deploy["steps"]
    )


BINDER = ROOT / "binder" / "environment.yml"
# notebooks' magics (%pip, !ls): not Python, each becomes a pass
MAGIC = re.compile(r"^(\s*)[%!].*$", re.M)


def top_level_imports():
    """Top-level names the notebooks and the package import, stdlib aside."""
    sources = [p.read_text() for p in (ROOT / "convnotes").rglob("*.py")]
    for path in (ROOT / "book").glob("*.ipynb"):
        cells = json.loads(path.read_text())["cells"]
        sources += [
            MAGIC.sub(r"\1pass", "".join(c["source"]))
            for c in cells
            if c["cell_type"] == "code"
        ]
    names = set()
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"convnotes"}


@functools.cache
def installed_distributions():
    return metadata.packages_distributions()


@functools.cache
def requirements_of(name):
    """The PyPI names ``name`` requires, extras aside (installed metadata)."""
    try:
        requires = metadata.requires(name) or []
    except metadata.PackageNotFoundError:
        requires = []
    names = set()
    for line in requires:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker is None or marker.evaluate({"extra": ""}):
            names.add(canonicalize_name(requirement.name))
    return names


def distributions_of(imports):
    """{import name: the PyPI names that provide it}, as installed here."""
    installed = installed_distributions()
    return {
        name: {canonicalize_name(d) for d in installed.get(name, [name])}
        for name in imports
    }


def provided(names):
    """``names`` and all they require (by installed metadata, no extras)."""
    seen, pending = set(), [canonicalize_name(n) for n in names]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        pending += requirements_of(name)
    return seen


def binder_problems(env, imports, dependencies, pins):
    """What is wrong with Binder's ``env``: missing, extra, unpinned.

    ``imports``: top-level import names; ``dependencies``: the package's own
    requirements (pip must find them all installed); ``pins``: constraints.
    """
    problems = []
    conda, pip = {}, []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip += dep["pip"]
        else:
            name, _, version = dep.partition("=")
            conda[name] = version
    if conda.pop("python", None) != "3.11":
        problems.append("python: expected python=3.11")
    conda.pop("pip", None)
    if pip != ["-e .."]:
        problems.append(
            f"pip: {pip}, expected ['-e ..'] (pip runs in binder/: .. is "
            "the checkout)"
        )
    pypi = {
        canonicalize_name(CONDA_TO_PYPI.get(name, name)): name
        for name in conda
    }
    for name, version in conda.items():
        pin = pins.get(canonicalize_name(CONDA_TO_PYPI.get(name, name)))
        if version and version != pin:
            problems.append(f"{name}={version}: constraints.txt pins {pin}")
        # ipykernel is Binder's own Jupyter's: a pin could fight its lock
        if not version and name != "ipykernel":
            problems.append(f"{name}: not pinned (constraints.txt: {pin})")
    needed = distributions_of(imports)
    for name, dists in sorted(needed.items()):
        if not dists & provided(pypi):
            problems.append(
                f"import {name}: nothing in binder/environment.yml has it"
            )
    direct = set().union(*needed.values()) if needed else set()
    for dist, name in pypi.items():
        if dist in direct:
            continue
        rest = provided(set(pypi) - {dist})
        if all(dists & rest for dists in needed.values()):
            problems.append(f"{name}: nothing imported needs it")
    for requirement in map(Requirement, dependencies):
        if canonicalize_name(requirement.name) not in pypi:
            problems.append(
                f"{requirement.name}: the package requires it, so "
                "binder/environment.yml must list it, pinned"
            )
    return problems


def binder_case():
    env = yaml.safe_load(BINDER.read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return env, top_level_imports(), project["dependencies"], constraint_pins()


def test_the_imports_are_found():
    """The import scan sees the notebooks' and the package's imports."""
    assert {"torch", "numpy", "matplotlib", "PIL", "IPython"} <= (
        top_level_imports()
    )


def test_binder_installs_what_is_imported_and_nothing_else():
    env, imports, dependencies, pins = binder_case()
    assert "conda-forge" in env["channels"]
    assert binder_problems(env, imports, dependencies, pins) == []


def _remove(name):
    def plant(env):
        env["dependencies"] = [
            d
            for d in env["dependencies"]
            if not (isinstance(d, str) and d.split("=")[0] == name)
        ]

    return plant


def _repin(name, version):
    def plant(env):
        deps = env["dependencies"]
        where = next(
            i
            for i, d in enumerate(deps)
            if isinstance(d, str) and d.split("=")[0] == name
        )
        deps[where] = f"{name}={version}"

    return plant


def _add(dep):
    return lambda env: env["dependencies"].insert(2, dep)


def _pip(lines):
    return lambda env: env["dependencies"][-1].update(pip=lines)


@pytest.mark.parametrize(
    "plant, extra_import, extra_dependency, words",
    [
        (_add("pytest=9.2.0"), None, None, "pytest: nothing imported needs"),
        (
            _add("jupyter-book=1.0.4.post1"),
            None,
            None,
            "jupyter-book: nothing",
        ),
        (_remove("matplotlib-base"), None, None, "import matplotlib"),
        (_remove("matplotlib-base"), None, None, "import PIL"),
        (_remove("ipykernel"), None, None, "import IPython"),
        (_remove("numpy"), None, None, "numpy: the package requires"),
        (None, "scipy", None, "import scipy"),
        (None, None, "scipy>=1", "scipy: the package requires"),
        (_add("pyyaml=6.0.3"), None, None, "pyyaml: nothing imported needs"),
        (_repin("numpy", "1.0"), None, None, "numpy=1.0: constraints.txt"),
        (_repin("python", "3.12"), None, None, "python=3.11"),
        (_pip(["-e ."]), None, None, "pip runs in binder/"),
        (_remove("pytorch-cpu"), None, None, "import torch"),
        (_add("scipy"), None, None, "scipy: not pinned"),
        (_remove("python"), None, None, "python=3.11"),
    ],
)
def test_a_planted_binder_fault_is_reported(
    plant, extra_import, extra_dependency, words
):
    env, imports, dependencies, pins = binder_case()
    if plant:
        plant(env)
    if extra_import:
        imports = imports | {extra_import}
    if extra_dependency:
        dependencies = [*dependencies, extra_dependency]
    problems = binder_problems(env, imports, dependencies, pins)
    assert any(words in problem for problem in problems), problems


def test_binder_pins_equal_the_development_environment():
    """binder/ is the development environment.yml, cut down."""
    _, development, _ = conda_environment()
    for dep in yaml.safe_load(BINDER.read_text())["dependencies"]:
        if isinstance(dep, str) and "=" in dep:
            name, _, version = dep.partition("=")
            assert development.get(name) == version, dep
