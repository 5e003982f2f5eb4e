"""The built book in a real browser: Debian's Chromium, driven by Playwright.

Pages are served from localhost and every request to another host is refused,
so these tests also prove the book reads offline. Each page is checked at a
laptop's width (1280 px) and a phone's (390 px), and its screenshots are saved
under ``_build/test-artifacts/screenshots/`` (``phone_*.png`` at 390 px).
Without a Chromium the tests skip, saying so (``.ci/run`` installs it).
"""

import re

import pytest

from conftest import (
    LAPTOP,
    PHONE,
    ROOT,
    OfflineTab,
    needs_chromium,
    toc_pages,
)

pytestmark = needs_chromium("run the browser tests")
SCREENSHOTS = ROOT / "_build" / "test-artifacts" / "screenshots"


class Page(OfflineTab):
    """A tab that records console errors and refuses other hosts."""

    def __init__(self, browser, server, viewport=LAPTOP, scale=1):
        super().__init__(
            browser, server, viewport=viewport, device_scale_factor=scale
        )

    def open(self, path):
        self.page.goto(f"{self.server}/{path}", wait_until="load")
        if self.page.locator(
            "script[src*=mathjax]"
        ).count():  # pages with math
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


@pytest.fixture
def phone(browser, server):
    tab = Page(browser, server, viewport=PHONE, scale=3)  # its pixel density
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
    typeset = view.evaluate(
        "document.querySelectorAll('mjx-container').length"
    )
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
    """The checks on a copy of chapter 3 with an image and a formula broken."""
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
    links = results.evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    assert any("07_closed_form_gradients" in link for link in links), links


def test_next_and_previous_links_walk_the_book(tab):
    view = tab.open("book/03_output_size.html")
    view.locator("a.right-next").click()
    view.wait_for_url("**/04_nested_loops.html")
    view.locator("a.left-prev").click()
    view.wait_for_url("**/03_output_size.html")
    view.locator("a.left-prev").click()
    view.wait_for_url("**/02_channels_stride_padding.html")


# Every block in the text that scrolls sideways: [(what, its text)].
SCROLLING = """() => [...document.querySelectorAll('.bd-article *')]
  .filter(el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX)
                && el.scrollWidth > el.clientWidth + 1)
  .map(el => [el.tagName.toLowerCase() + ' ' + el.scrollWidth + ' px in '
              + el.clientWidth, el.textContent.trim().slice(0, 70)])"""

# Elements in the text that stick out past the window's right edge and cannot
# be scrolled to (no scrolling block holds them), the outermost of each
# nest: [(what, its text)].
STICKING_OUT = """() => [...document.querySelectorAll('.bd-article *')]
  .filter(el => {
    const out = e => e.getBoundingClientRect().right > innerWidth + 1;
    if (el.closest('mjx-assistive-mml')) return false;  // for screen readers
    if (!out(el) || out(el.parentElement)) return false;
    for (let up = el.parentElement; up; up = up.parentElement)
      if (['auto', 'scroll'].includes(getComputedStyle(up).overflowX))
        return false;
    return true;
  })
  .map(el => [el.tagName.toLowerCase(), el.textContent.trim().slice(0, 70)])"""

# Images in the text with fewer than two pixels per CSS pixel shown:
# [(src, pixels, shown width)]. SVG is sharp at any size.
BLURRY = """() => [...document.querySelectorAll('.bd-article img')]
  .filter(img => !/\\.svg$|^data:image\\/svg/.test(img.getAttribute('src'))
                 && img.clientWidth > 0
                 && img.naturalWidth < 2 * img.clientWidth - 1)
  .map(img => [img.getAttribute('src').slice(0, 60), img.naturalWidth,
               img.clientWidth])"""


def chapters():
    return [page for page in toc_pages() if page.startswith("book/")]


def open_everything(tab, path):
    """``path`` with every dropdown (solutions, hidden cells) open."""
    view = tab.open(path)
    view.evaluate(
        "document.querySelectorAll('.toggle-hidden')"
        ".forEach(el => el.classList.remove('toggle-hidden'))"
    )
    view.evaluate(
        "document.querySelectorAll('details').forEach(el => el.open = true)"
    )
    return view


@pytest.mark.parametrize("page", chapters())
def test_no_code_or_output_block_scrolls_on_a_laptop(tab, page):
    view = open_everything(tab, f"{page}.html")
    assert view.evaluate(SCROLLING) == []


@pytest.mark.parametrize("page", toc_pages())
def test_no_page_is_wider_than_a_phone(phone, page):
    view = phone.open(f"{page}.html")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    view.screenshot(
        path=SCREENSHOTS / f"phone_{page.replace('/', '_')}.png",
        full_page=True,
    )
    width = view.evaluate(
        "[document.scrollingElement.scrollWidth, innerWidth]"
    )
    assert width[0] <= width[1], f"the page is {width[0]} px wide"
    view = open_everything(phone, f"{page}.html")
    assert view.evaluate(STICKING_OUT) == []
    assert phone.errors == []


@pytest.mark.parametrize("page", chapters())
def test_every_figure_is_sharp(tab, page):
    view = tab.open(f"{page}.html")
    view.wait_for_function(
        "[...document.images].every(i => i.complete)", timeout=10000
    )
    assert view.evaluate(BLURRY) == []


def test_the_layout_checks_find_a_wide_block_and_a_blurry_figure(
    tab, phone, built
):
    """The checks above, on a copy of chapter 3 with one line of code made
    too long, an image stretched to twice its pixels and a box wider than a
    phone that nothing lets the reader scroll to."""
    _, html_dir = built
    page = (html_dir / "book" / "03_output_size.html").read_text()
    image = re.search(r'<img[^>]+src="(\.\./_images/[^"]+)"', page)
    code = re.search(r'<div class="highlight"><pre>', page)
    broken = (
        page[: code.end()]
        + "x = "
        + "1 + " * 40
        + "1\n"
        + page[code.end() : image.start()]
        + '<div style="width: 600px; overflow: hidden">wide box</div>'
        f'<img src="{image.group(1)}" style="width: 2000px">'
        + page[image.end() :]
    )
    (html_dir / "book" / "wide_copy.html").write_text(broken)
    try:
        view = tab.open("book/wide_copy.html")
        view.wait_for_function(
            "[...document.images].every(i => i.complete)", timeout=10000
        )
        scrolling, blurry = view.evaluate(SCROLLING), view.evaluate(BLURRY)
        sticking_out = phone.open("book/wide_copy.html").evaluate(STICKING_OUT)
    finally:
        (html_dir / "book" / "wide_copy.html").unlink()
    assert any("x = 1 + 1" in text for _, text in scrolling), scrolling
    assert [src for src, *_ in blurry] == [image.group(1)[:60]], blurry
    assert ["div", "wide box"] in sticking_out, sticking_out


def test_a_phone_opens_the_contents_and_follows_a_link(phone):
    view = phone.open("book/03_output_size.html")
    contents = view.locator(".bd-sidebar-primary")
    link = contents.locator("a.reference.internal", has_text="Nested loops")
    assert not link.is_visible()  # the contents start closed on a phone
    view.locator(".primary-toggle:visible").first.click()
    link.wait_for(state="visible", timeout=3000)
    view.screenshot(path=SCREENSHOTS / "phone_contents_open.png")
    link.click()
    view.wait_for_url("**/04_nested_loops.html")
    assert phone.errors == []


def test_an_animation_fits_a_phone_and_its_buttons_work(phone):
    view = phone.open("book/02_channels_stride_padding.html")
    image = view.locator("img[id^=_anim_img]").first
    image.scroll_into_view_if_needed()
    box = image.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1, box
    buttons = (
        view.locator("div.anim-buttons button")
        .first.locator("xpath=..")
        .locator("button")
    )
    assert buttons.count() >= 5
    for i in range(buttons.count()):
        button = buttons.nth(i)
        button.scroll_into_view_if_needed()
        box = button.bounding_box()
        assert (
            0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"] + 1
        ), (
            button.get_attribute("title"),
            box,
        )
    before = image.get_attribute("src")
    view.locator("button[title=Play]").first.click()  # clickable: not covered
    view.wait_for_timeout(1500)
    assert image.get_attribute("src") != before
    assert phone.errors == []
