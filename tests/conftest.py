import os
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent

sys.path.insert(0, str(ROOT / "tools"))
import build_book  # noqa: E402
import make_pdf  # noqa: E402

# Every HTTP(S) request of the build goes to a closed local port, so a build
# step that fetched anything (an intersphinx inventory, a remote image) would
# fail.
OFFLINE = {
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
}
OFFLINE |= {key.upper(): value for key, value in OFFLINE.items()}


def toc_pages():
    """Every page of the book, as _toc.yml lists them (root first)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    chapters = [c["file"] for p in toc["parts"] for c in p["chapters"]]
    return [toc["root"]] + chapters


def needs_chromium(what):
    """A mark that skips a module's tests, saying why, without Chromium.

    ``CONVNOTES_BROWSER`` names another Chromium-based browser (CI has
    Chrome); otherwise ``chromium`` or ``chromium-browser`` on the PATH.
    """
    return pytest.mark.skipif(
        make_pdf.chromium() is None,
        reason="no Chromium browser found: install Debian's `chromium` "
        f"package (`apt-get install chromium`, as .ci/run does) to {what}",
    )


def sync_playwright():
    """Playwright's synchronous API, or skip: it is installed by setup."""
    return pytest.importorskip(
        "playwright.sync_api",
        reason="playwright is not installed: run `make setup`",
    ).sync_playwright


@pytest.fixture(scope="session")
def server(built):
    """The built book, served on a free localhost port: its address."""
    result, html_dir = built
    assert result.returncode == 0, result.stderr[-2000:]
    with make_pdf.serve(html_dir) as address:
        yield address


# One Playwright at a time per thread: each module that asks for a browser
# gets its own, closed when the module ends, so the next can start one.
@pytest.fixture(scope="module")
def browser():
    """Headless Chromium, for one test module."""
    with sync_playwright()() as playwright:
        chrome = make_pdf.launch(playwright)
        yield chrome
        chrome.close()


LAPTOP = {"width": 1280, "height": 900}
# a phone's width (iPhone 12 to 15)
PHONE = {"width": 390, "height": 844}


class OfflineTab:
    """A tab of the browser on the local server: it records console errors
    and refuses, and records, every request to another host. A subclass
    changes what the server sends by overriding :meth:`serve`."""

    def __init__(self, browser, server, **context):
        self.context = browser.new_context(**context)
        self.page = self.context.new_page()
        self.server, self.errors, self.refused = server, [], []
        self.page.on(
            "console",
            lambda m: (
                self.errors.append(m.text) if m.type == "error" else None
            ),
        )
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.route("**/*", self.route)

    def route(self, route):
        if route.request.url.startswith(self.server):
            self.serve(route)
        else:
            self.refused.append(route.request.url)
            route.abort()

    def serve(self, route):
        """A request to the local server: passed on as it is."""
        route.continue_()


@pytest.fixture(scope="session")
def root():
    return ROOT


def build_offline(edition, output, **options):
    """Build an edition the project's way, offline: (result, html folder)."""
    env = {k: v for k, v in os.environ.items() if k.lower() != "no_proxy"}
    env |= OFFLINE
    return build_book.build_edition(
        edition, output, capture=True, env=env, **options
    )


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The instructor edition, built once per test session."""
    return build_offline("instructor", tmp_path_factory.mktemp("instructor"))


@pytest.fixture(scope="session")
def built_student(tmp_path_factory):
    """The student edition, built once per test session, with PLANTS in it."""
    book = planted_book(tmp_path_factory.mktemp("planted") / "book")
    return build_offline(
        "student", tmp_path_factory.mktemp("student"), book=book
    )


def planted(
    style, fence, solution_name="solution", inner="```python\n{code}\n```\n"
):
    """An exercise and its solution in one fence style, with a secret in it."""
    label = f"ex-planted-{style}"
    secret = f"Planted solution text in the {style} style, never for students."
    code = f"planted_{style.replace('-', '_')}_answer = 'in the {style} style'"
    body = f"{secret}\n\n" + inner.replace("{code}", code)
    if solution_name == "solution-start":
        solution = (
            f"{fence}{{solution-start}} {label}\n:class: dropdown\n{fence}\n\n"
            f"{body}\n{fence}{{solution-end}}\n{fence}\n"
        )
    else:
        solution = (
            f"{fence}{{solution}} {label}\n:class: dropdown\n\n{body}{fence}\n"
        )
    exercise = (
        f"{fence}{{exercise}}\n:label: {label}\n\n"
        f"Planted exercise in the {style} style.\n{fence}\n"
    )
    return exercise + "\n" + solution, secret, code


# A solution in every fence style MyST and sphinx-exercise accept: the student
# edition the tests build carries these, and none of their text may survive.
PLANTS = [
    planted(f"{style}-{where}", *how)
    for where in ("notebook", "page")
    for style, *how in [
        ("three-backticks", "```", "solution", ""),
        ("four-backticks", "````"),
        ("five-backticks", "`````"),
        ("three-colons", ":::"),
        ("four-colons", "::::", "solution", ":::{note}\n{code}\n:::\n"),
        ("tildes", "~~~"),
        ("gated", "````", "solution-start"),
    ]
]


def planted_book(destination):
    """A copy of book/ with PLANTS added: half to a chapter, half to a page."""
    shutil.copytree(ROOT / "book", destination)
    chapter = destination / "10_applications.ipynb"
    notebook = nbformat.read(chapter, as_version=4)
    page = destination / "instructor_guide.md"
    text = page.read_text()
    for markdown, secret, _ in PLANTS:
        if "notebook style" in secret:
            notebook.cells.append(nbformat.v4.new_markdown_cell(markdown))
        else:
            text += "\n" + markdown
    nbformat.write(notebook, chapter)
    page.write_text(text)
    return destination
