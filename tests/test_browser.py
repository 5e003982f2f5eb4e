"""The built book in a real browser: Debian's Chromium, driven by Playwright.

Pages are served from localhost and every request to another host is refused,
so these tests also prove the book reads offline. Each page's screenshot is
saved under ``_build/test-artifacts/screenshots/``. Without a Chromium the tests
skip, saying so (``.ci/run`` installs it).
"""

import functools
import http.server
import os
import re
import shutil
import threading

import pytest

from conftest import ROOT, toc_pages

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed: run `make setup`"
)
# CONVNOTES_BROWSER names another Chromium-based browser (CI runners ship Chrome)
CHROMIUM = (
    os.environ.get("CONVNOTES_BROWSER")
    or shutil.which("chromium")
    or shutil.which("chromium-browser")
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium browser found: install Debian's `chromium` package "
    "(`apt-get install chromium`, as .ci/run does) to run the browser tests",
)
SCREENSHOTS = ROOT / "_build" / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def server(built):
    result, html_dir = built
    assert result.returncode == 0
    handler = functools.partial(
        QuietHandler, directory=str(html_dir)
    )  # serves the built book
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox"]
        )
        yield chromium
        chromium.close()


class Page:
    """A browser tab that records console errors and refuses other hosts."""

    def __init__(self, browser, server):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.server, self.errors, self.refused = server, [], []
        self.page.on(
            "console",
            lambda m: self.errors.append(m.text) if m.type == "error" else None,
        )
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.route("**/*", self.route)

    def route(self, route):
        if route.request.url.startswith(self.server):
            route.continue_()
        else:
            self.refused.append(route.request.url)
            route.abort()

    def open(self, path):
        self.page.goto(f"{self.server}/{path}", wait_until="load")
        if self.page.locator("script[src*=mathjax]").count():  # pages with math
            self.page.wait_for_function(
                "window.MathJax && MathJax.startup", timeout=10000
            )
            self.page.evaluate("MathJax.startup.promise")
        return self.page


@pytest.fixture
def tab(browser, server):
    tab = Page(browser, server)
    yield tab
    tab.context.close()


def problems(tab, path, screenshot=None):
    """What is wrong with a page as a reader sees it: [] when nothing is."""
    view = tab.open(path)
    if screenshot:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        view.screenshot(path=SCREENSHOTS / screenshot, full_page=True)
    found = [f"console error: {error}" for error in tab.errors]
    found += [f"request to another host: {url}" for url in tab.refused]
    failed = view.evaluate("document.querySelectorAll('mjx-merror').length")
    if failed:
        found.append(f"{failed} formulas failed to render")
    math = view.evaluate("document.querySelectorAll('.math').length")
    typeset = view.evaluate("document.querySelectorAll('mjx-container').length")
    if typeset < math:
        found.append(f"{math - typeset} of {math} formulas not typeset")
    broken = view.evaluate(
        "[...document.images].filter(i => !i.complete || i.naturalWidth === 0)"
        ".map(i => i.getAttribute('src'))"
    )
    found += [f"image did not load: {src}" for src in broken]
    return found


@pytest.mark.parametrize("page", toc_pages())
def test_page_loads_offline_with_math_and_figures(tab, page):
    screenshot = f"{page.replace('/', '_')}.png"
    assert problems(tab, f"{page}.html", screenshot) == []


def test_a_broken_image_and_a_failed_formula_are_found(tab, built):
    """The same checks on a copy of chapter 3 with one image and one formula broken."""
    _, html_dir = built
    page = (html_dir / "book" / "03_output_size.html").read_text()
    image = re.search(r'<img[^>]+src="([^"]+)"', page).group(1)
    formula = re.search(
        r'<span class="math notranslate nohighlight">([^<]+)</span>', page
    )
    broken = page.replace(image, "missing.png", 1).replace(
        formula.group(0),
        formula.group(0).replace(formula.group(1), r"\(x^1^2\)"),
        1,
    )
    (html_dir / "book" / "broken_copy.html").write_text(broken)
    try:
        found = problems(tab, "book/broken_copy.html")
    finally:
        (html_dir / "book" / "broken_copy.html").unlink()
    assert "image did not load: missing.png" in found, found
    assert "1 formulas failed to render" in found, found


def test_an_animation_plays(tab):
    view = tab.open("book/02_channels_stride_padding.html")
    image = view.locator("img[id^=_anim_img]").first
    slider = view.locator("input[id^=_anim_slider]").first
    before = (image.get_attribute("src"), slider.input_value())
    view.locator("button[title=Play]").first.click()
    view.wait_for_timeout(1500)
    after = (image.get_attribute("src"), slider.input_value())
    assert after[0] != before[0] and after[1] != before[1]
    assert tab.errors == []


def test_a_solution_dropdown_opens(tab):
    view = tab.open("book/01_gradients_by_hand.html")
    solution = view.locator(".solution.dropdown").first
    body = solution.locator(".admonition-title ~ *").first
    assert not body.is_visible()
    solution.locator(".admonition-title").click()
    body.wait_for(state="visible", timeout=3000)
    assert body.is_visible()


def test_search_finds_a_known_term(tab):
    view = tab.open("search.html?q=transposed")
    results = view.locator("ul.search li a")
    results.first.wait_for(timeout=10000)
    links = results.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert any("07_closed_form_gradients" in link for link in links), links


def test_next_and_previous_links_walk_the_book(tab):
    view = tab.open("book/03_output_size.html")
    view.locator("a.right-next").click()
    view.wait_for_url("**/04_nested_loops.html")
    view.locator("a.left-prev").click()
    view.wait_for_url("**/03_output_size.html")
    view.locator("a.left-prev").click()
    view.wait_for_url("**/02_channels_stride_padding.html")
