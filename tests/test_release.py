"""A release: its version, date, licence and address agree everywhere.

``pyproject.toml`` is the source: its version, and its repository address
(``[project.urls]``). ``CITATION.cff``, the newest section of ``CHANGELOG.md``,
``convnotes.__version__``, the tag each notebook's first cell installs on
Colab (and the README shows) must agree with it; so must every mention of the
repository's address. :func:`release_problems` reads the files' text, so the
tests below plant a fault in a copy of it and see it reported.
"""

import datetime
import json
import re
import subprocess
import tomllib

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

from conftest import ROOT

LICENCE = "MIT AND CC-BY-4.0"  # code: MIT; text and figures: CC BY 4.0
LICENCE_FILES = ["LICENSE", "LICENSE-CONTENT.md"]
NOTEBOOKS = sorted(
    p.relative_to(ROOT).as_posix() for p in ROOT.glob("book/*.ipynb")
)
FILES = [
    "pyproject.toml",
    "CITATION.cff",
    "CHANGELOG.md",
    "README.md",
    "CONTRIBUTING.md",
    "_config.yml",
    "convnotes/__init__.py",
    "binder/environment.yml",
    *sorted(
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / ".github").rglob("*")
        if p.is_file()
    ),
    *NOTEBOOKS,
]
HEADING = re.compile(r"^## \[([^\]]+)\](?: - (\S+))?[ \t]*$", re.M)
LINK = re.compile(r"^\[([^\]]+)\]: (\S+)[ \t]*$", re.M)
GITHUB = re.compile(r"https://github\.com/([\w.-]+)/([\w.-]+)")
INSTALL = re.compile(r"^\s*%pip install .*$", re.M)


def read_files():
    """The text of every file a release names, by path."""
    return {path: (ROOT / path).read_text(encoding="utf-8") for path in FILES}


def first_code_cell(notebook_text):
    cells = json.loads(notebook_text)["cells"]
    return next(
        "".join(c["source"]) for c in cells if c["cell_type"] == "code"
    )


def changelog_sections(text):
    """[(name, date or None)] of the changelog's ``##`` sections, in order."""
    return [(m[1], m[2]) for m in HEADING.finditer(text)]


def project(files):
    return tomllib.loads(files["pyproject.toml"])


def version_problems(files):
    """Version and date: pyproject = CITATION = newest changelog = tags."""
    problems = []
    version = project(files)["project"]["version"]
    citation = yaml.safe_load(files["CITATION.cff"])
    if str(citation.get("version")) != version:
        problems.append(
            f"CITATION.cff: version {citation.get('version')}, "
            f"expected {version} (pyproject.toml)"
        )
    package = re.search(
        r'^__version__ = "([^"]+)"$', files["convnotes/__init__.py"], re.M
    )
    if not package or package[1] != version:
        problems.append(
            f"convnotes/__init__.py: __version__ "
            f"{package and package[1]}, expected {version}"
        )
    sections = changelog_sections(files["CHANGELOG.md"])
    if not sections or sections[0] != ("Unreleased", None):
        problems.append(
            "CHANGELOG.md: the first section must be [Unreleased], "
            f"got {sections[:1]}"
        )
    released = [s for s in sections if s[0] != "Unreleased"]
    if not released:
        return problems + ["CHANGELOG.md: no released section"]
    newest, date = released[0]
    if newest != version:
        problems.append(
            f"CHANGELOG.md: newest release {newest}, expected {version}"
        )
    try:
        datetime.date.fromisoformat(date or "")
    except ValueError:
        problems.append(f"CHANGELOG.md: [{newest}] date {date!r}")
    versions = [Version(name) for name, _ in released]
    if versions != sorted(versions, reverse=True):
        problems.append(f"CHANGELOG.md: releases out of order: {versions}")
    released_on = citation.get("date-released")
    if not isinstance(released_on, str):
        problems.append(
            "CITATION.cff: date-released must be a quoted YYYY-MM-DD string, "
            f"got {released_on!r}"
        )
    if str(released_on) != date:
        problems.append(
            f"CITATION.cff: date-released {released_on}, expected {date} "
            f"(CHANGELOG.md [{newest}])"
        )
    return problems


def install_problems(files):
    """Notebooks install ``git+<url>@v<version>``, and the README shows it."""
    url = project(files)["project"]["urls"]["Repository"]
    tag = "v" + project(files)["project"]["version"]
    expected = f"%pip install --quiet git+{url}@{tag}"
    problems = []
    for path in NOTEBOOKS:
        lines = [
            line.strip()
            for line in INSTALL.findall(first_code_cell(files[path]))
        ]
        if lines != [expected]:
            problems.append(
                f"{path}: first cell installs {lines}, not {expected}"
            )
    if f"git+{url}@{tag}`" not in files["README.md"]:
        problems.append(f"README.md: does not show git+{url}@{tag}")
    return problems


def address_problems(files):
    """The repository's address is pyproject's wherever it is written."""
    url = project(files)["project"]["urls"]["Repository"]
    match = GITHUB.fullmatch(url)
    if not match:
        return [
            f"pyproject.toml: Repository {url!r} is not a GitHub repository"
        ]
    owner, name = match[1].lower(), match[2].lower()
    problems = []
    config = yaml.safe_load(files["_config.yml"])["repository"]["url"]
    if config != url:
        problems.append(
            f"_config.yml: repository url {config}, expected {url}"
        )
    code = yaml.safe_load(files["CITATION.cff"]).get("repository-code")
    if code != url:
        problems.append(
            f"CITATION.cff: repository-code {code}, expected {url}"
        )
    for path, text in files.items():
        for found in GITHUB.finditer(text):
            a, b = found[1].lower(), found[2].lower().removesuffix(".git")
            if (a == owner or b == name) and (a, b) != (owner, name):
                problems.append(f"{path}: {found[0]}, expected {url}")
    sections = changelog_sections(files["CHANGELOG.md"])
    links = dict(LINK.findall(files["CHANGELOG.md"]))
    for section, _ in sections:
        link = links.get(section, "")
        if not link.startswith(url + "/"):
            problems.append(
                f"CHANGELOG.md: [{section}] links to {link!r}, not to {url}"
            )
    return problems


def licence_problems(files):
    """An SPDX expression with its files, and the build that reads it."""
    toml = project(files)
    metadata = toml["project"]
    problems = []
    if metadata.get("license") != LICENCE:
        problems.append(
            f"pyproject.toml: license {metadata.get('license')!r}, "
            f"expected {LICENCE!r}"
        )
    if metadata.get("license-files") != LICENCE_FILES:
        problems.append(
            f"pyproject.toml: license-files {metadata.get('license-files')}, "
            f"expected {LICENCE_FILES}"
        )
    old = [
        c for c in metadata.get("classifiers", []) if c.startswith("License")
    ]
    if old:
        problems.append(f"pyproject.toml: licence classifiers {old}")
    setuptools = [
        Requirement(r)
        for r in toml["build-system"]["requires"]
        if Requirement(r).name == "setuptools"
    ]
    if not setuptools or setuptools[0].specifier.contains("76.9"):
        problems.append(
            "pyproject.toml: [build-system] needs setuptools>=77 for an "
            f"SPDX licence, got {[str(r) for r in setuptools]}"
        )
    cited = yaml.safe_load(files["CITATION.cff"]).get("license")
    if sorted(cited or []) != sorted(LICENCE.split(" AND ")):
        problems.append(
            f"CITATION.cff: license {cited}, expected the identifiers of "
            f"{LICENCE!r}"
        )
    return problems


def release_problems(files):
    return (
        version_problems(files)
        + install_problems(files)
        + address_problems(files)
        + licence_problems(files)
    )


def tag_problem(tags, version):
    """Where the repository has tags, the release's own must be one."""
    if tags and f"v{version}" not in tags:
        return f"git has tags {sorted(tags)} but not v{version}"
    return None


def git_tags():
    """The repository's tags; none where git or the history is missing."""
    try:
        result = subprocess.run(
            ["git", "tag", "--list"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except OSError:
        return []
    return result.stdout.split() if result.returncode == 0 else []


def test_the_release_agrees_everywhere():
    assert release_problems(read_files()) == []


def test_the_licence_files_are_the_two_licences():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    content = (ROOT / "LICENSE-CONTENT.md").read_text()
    assert "Creative Commons Attribution 4.0 International" in content


def test_the_release_is_tagged_where_the_repository_has_tags():
    version = project(read_files())["project"]["version"]
    assert tag_problem(git_tags(), version) is None


@pytest.mark.parametrize(
    "tags, reported",
    [([], False), (["v0.0.1"], True), (["v0.0.1", "v{version}"], False)],
)
def test_a_missing_tag_is_reported_only_where_there_are_tags(tags, reported):
    version = project(read_files())["project"]["version"]
    tags = [tag.format(version=version) for tag in tags]
    assert (tag_problem(tags, version) is not None) == reported


def values():
    """The values that planted faults change, from the files as they are."""
    files = read_files()
    metadata = project(files)["project"]
    url = metadata["urls"]["Repository"]
    return {
        "version": metadata["version"],
        "date": yaml.safe_load(files["CITATION.cff"])["date-released"],
        "url": url,
        "owner": GITHUB.fullmatch(url)[1],
    }


FAULTS = [  # (file, text in it, planted instead, words of the problem)
    (
        "pyproject.toml",
        'version = "{version}"',
        'version = "9.9.9"',
        "expected 9.9.9",
    ),
    (
        "CITATION.cff",
        "version: {version}",
        "version: 9.9.9",
        "CITATION.cff: version 9.9.9",
    ),
    (
        "convnotes/__init__.py",
        '__version__ = "{version}"',
        '__version__ = "9.9.9"',
        "__version__ 9.9.9",
    ),
    (
        "CHANGELOG.md",
        "## [{version}] - {date}",
        "## [9.9.9] - {date}",
        "newest release 9.9.9",
    ),
    (
        "CHANGELOG.md",
        "## [{version}] - {date}",
        "## [{version}] - 2000-01-01",
        "expected 2000-01-01",
    ),
    (
        "CHANGELOG.md",
        "## [{version}] - {date}",
        "## [{version}] - soon",
        "date 'soon'",
    ),
    ("CHANGELOG.md", "## [Unreleased]\n", "", "must be [Unreleased]"),
    (
        "CHANGELOG.md",
        "## [{version}] - {date}",
        "## [0.0.1] - 2000-01-01\n\n## [{version}] - {date}",
        "out of order",
    ),
    (
        "CITATION.cff",
        'date-released: "{date}"',
        'date-released: "2000-01-01"',
        "date-released 2000-01-01",
    ),
    (
        "CITATION.cff",
        'date-released: "{date}"',
        "date-released: {date}",
        "quoted",
    ),
    (
        "book/05_unfold_matmul_fold.ipynb",
        "@v{version}",
        "@v9.9.9",
        "05_unfold_matmul_fold.ipynb: first cell installs",
    ),
    (
        "book/00_introduction.ipynb",
        "@v{version}",
        "",
        "00_introduction.ipynb: first cell installs",
    ),
    (
        "book/10_applications.ipynb",
        "git+{url}",
        "git+https://github.com/elsewhere/convnotes",
        "10_applications.ipynb",
    ),
    ("README.md", "@v{version}`", "@v9.9.9`", "README.md: does not show"),
    (
        "_config.yml",
        "url: {url}",
        "url: https://github.com/elsewhere/x",
        "_config.yml: repository url",
    ),
    (
        "CITATION.cff",
        'repository-code: "{url}"',
        'repository-code: "https://github.com/elsewhere/x"',
        "repository-code",
    ),
    (
        ".github/workflows/book.yml",
        "name: book\n",
        "name: book\n# https://github.com/{owner}/old-name\n",
        "old-name",
    ),
    (
        "CHANGELOG.md",
        "[Unreleased]: {url}/",
        "[Unreleased]: https://example.org/",
        "[Unreleased] links to",
    ),
    (
        "pyproject.toml",
        'Repository = "{url}"',
        'Repository = "https://github.com/elsewhere/convnotes"',
        "expected https://github.com/elsewhere/convnotes",
    ),
    (
        "pyproject.toml",
        'license = "MIT AND CC-BY-4.0"',
        'license = "MIT"',
        "license 'MIT'",
    ),
    (
        "pyproject.toml",
        '"LICENSE", "LICENSE-CONTENT.md"',
        '"LICENSE"',
        "license-files",
    ),
    (
        "pyproject.toml",
        "classifiers = [\n",
        'classifiers = [\n    "License :: OSI Approved :: MIT License",\n',
        "licence classifiers",
    ),
    (
        "pyproject.toml",
        '"setuptools>=77"',
        '"setuptools>=68"',
        "setuptools>=77",
    ),
    ("CITATION.cff", "  - CC-BY-4.0\n", "", "CITATION.cff: license"),
]


@pytest.mark.parametrize(
    "path, old, new, words", FAULTS, ids=lambda v: str(v)[:30]
)
def test_a_planted_fault_is_reported(path, old, new, words):
    files, known = read_files(), values()
    old, new = old.format(**known), new.format(**known)
    assert files[path].count(old) == 1, f"{path}: no single {old!r}"
    files[path] = files[path].replace(old, new)
    problems = release_problems(files)
    assert any(words in problem for problem in problems), problems


def configured_packages(pyproject, where):
    """The packages setuptools installs, as ``pyproject`` configures them."""
    import setuptools

    packages = pyproject["tool"]["setuptools"].get("packages", [])
    if isinstance(packages, list):
        return set(packages)
    find = packages["find"]
    return set(
        setuptools.find_packages(
            where=where,
            include=find.get("include", ["*"]),
            exclude=find.get("exclude", ()),
        )
    )


def package_folders(where):
    return {
        ".".join(init.parent.relative_to(where).parts)
        for init in (where / "convnotes").rglob("__init__.py")
    }


@pytest.mark.parametrize(
    "setting, complete",
    [('include = ["convnotes*"]', True), ('include = ["convnotes"]', False)],
)
def test_what_pip_installs_is_the_whole_package(setting, complete):
    """Colab's install line builds the package from pyproject.toml: every
    subpackage (arguments, exercises, fast, ...) must be in it, or
    ``import convnotes`` fails there while the editable install here works.
    The check is shown to fail on a setting that leaves them out."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["tool"]["setuptools"]["packages"] == {
        "find": {"include": ["convnotes*"]}
    }
    planted = tomllib.loads(f"[tool.setuptools.packages.find]\n{setting}\n")
    found = package_folders(ROOT) <= configured_packages(planted, ROOT)
    assert found == complete
    assert package_folders(ROOT) <= configured_packages(pyproject, ROOT)
