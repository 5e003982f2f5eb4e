"""The explorer page (book/explorer.md) in a real browser, against PyTorch.

The page's script (book/_static/explorer.js) computes output sizes and
draws which pixels each output reads (forward mode) and which outputs send
gradient to each pixel (backward mode). Here every shown size is compared
with :func:`convnotes.conv_output_size` and ``F.conv2d``, and every
highlight with autograd: a kernel whose entries are distinct powers of two
tells, from the value of a gradient, which kernel entry (u, v) carried it.
Pages are served from localhost and every other host is refused. Without a
Chromium the tests skip, saying so, as tests/test_browser.py does.
"""

import itertools
import json
import math

import pytest
import torch
import torch.nn.functional as F

import convnotes as cn
from conftest import LAPTOP, PHONE, OfflineTab, needs_chromium
from convnotes.arguments import window_args
from convnotes.geometry import window_reads

pytestmark = needs_chromium("run the browser tests")
PAGE = "book/explorer.html"
FIELDS = [
    "explorer-input-size",
    "explorer-kernel-size",
    "explorer-stride",
    "explorer-padding",
    "explorer-dilation",
]
# (n, k, s, p, d): overlapping, gapped, padded and dilated windows
SETTINGS = [
    (5, 3, 2, 0, 1),
    (7, 3, 2, 1, 1),
    (8, 2, 3, 0, 1),
    (6, 2, 3, 1, 2),
    (9, 4, 1, 2, 2),
    (8, 3, 3, 2, 2),
]


@pytest.fixture(scope="module")
def html_dir(built):
    result, html = built
    assert result.returncode == 0, result.stderr[-2000:]
    return html


class Tab(OfflineTab):
    """The explorer in a tab that records console errors, refuses other
    hosts and can serve explorer.js with a fault planted in it."""

    def __init__(self, browser, server, html_dir, viewport, touch=False):
        self.html_dir, self.fault = html_dir, None
        super().__init__(browser, server, viewport=viewport, has_touch=touch)

    def serve(self, route):
        url = route.request.url
        if self.fault and url.split("?")[0].endswith("/explorer.js"):
            script = (self.html_dir / "_static" / "explorer.js").read_text()
            old, new = self.fault
            assert old in script, f"the fault's text {old!r} is not there"
            route.fulfill(
                body=script.replace(old, new, 1),
                content_type="application/javascript",
            )
        else:
            route.continue_()

    def open(self, fault=None):
        self.fault = fault
        self.page.goto(f"{self.server}/{PAGE}", wait_until="load")
        self.page.wait_for_selector("#explorer svg")
        return self.page


@pytest.fixture
def tab(browser, server, html_dir):
    tab = Tab(browser, server, html_dir, LAPTOP)
    yield tab
    tab.context.close()


@pytest.fixture
def phone(browser, server, html_dir):
    tab = Tab(browser, server, html_dir, PHONE, touch=True)
    yield tab
    tab.context.close()


# For each setting: put the five numbers in, then signal an input as typing
# the last one does (the page reads all five); return the size line.
SET_ALL = """(settings) => settings.map(values => {
  const fields = FIELDS.map(id => document.getElementById(id));
  values.forEach((value, i) => { fields[i].value = String(value); });
  fields[4].dispatchEvent(new Event('input', {bubbles: true}));
  return document.getElementById('explorer-output-size').textContent;
})""".replace("FIELDS", json.dumps(FIELDS))

HIGHLIGHTED = """() => [...document.querySelectorAll('#explorer g.cell.hit')]
  .map(g => [g.dataset.kind, +g.dataset.row, +g.dataset.col,
             g.querySelector('text').textContent])"""

CELLS = """(kind) => [...document.querySelectorAll('#explorer g.' + kind)]
  .map(g => [+g.dataset.row, +g.dataset.col, g.classList.contains('unread'),
             g.querySelector('text').textContent])"""


def torch_size(n, k, s, p, d):
    """F.conv2d's output size, or None where it raises or has no output."""
    try:
        y = F.conv2d(
            torch.zeros(1, 1, n, n),
            torch.zeros(1, 1, k, k),
            stride=s,
            padding=p,
            dilation=d,
        )
    except RuntimeError:
        return None
    return y.shape[-1] if y.shape[-1] >= 1 else None


def size_problems(view, settings):
    """Where the size line disagrees with PyTorch: [] when nowhere."""
    found = []
    for values, text in zip(
        settings, view.evaluate(SET_ALL, settings), strict=True
    ):
        n, k, s, p, d = values
        expected = torch_size(*values)
        try:
            ours = cn.conv_output_size(n, k, stride=s, padding=p, dilation=d)
        except ValueError:
            ours = None
        if ours != expected:
            found.append(f"{values}: convnotes {ours}, torch {expected}")
        if expected is None:
            span, padded = d * (k - 1) + 1, n + 2 * p
            why = (
                f"No valid output: the kernel spans d(k − 1) + 1 = {span} "
                f"pixels but the padded input n + 2p = {padded} is narrower"
            )
            if why not in text:
                found.append(f"{values}: no reason given in {text!r}")
        elif not text.endswith(
            f"= {expected}. The output is {expected} × {expected}."
        ):
            found.append(f"{values}: {text!r}, torch says {expected}")
    return found


def fill(view, values, mode="forward"):
    for field, value in zip(FIELDS, values, strict=True):
        view.fill(f"#{field}", str(value))
    view.check(f"#explorer-mode-{mode}")


def point(view, kind, row, col, tap=False):
    cell = view.locator(
        f'#explorer g.{kind}[data-row="{row}"][data-col="{col}"]'
    )
    if tap:
        cell.tap()
    else:
        view.mouse.move(0, 0)  # the pointer comes from elsewhere
        cell.hover()


def powers_of_two(k):
    """A k × k kernel whose entry (u, v) is 2**(u*k + v)."""
    return (2.0 ** torch.arange(k * k, dtype=torch.float64)).reshape(
        1, 1, k, k
    )


def tap(value, k):
    """The kernel entry (u, v) of powers_of_two(k) equal to ``value``."""
    return "{},{}".format(*divmod(int(math.log2(value)), k))


def forward_reads(n, k, s, p, d):
    """{(i, j): [(kind, row, col, "u,v")]}: what each output reads, from
    the gradient of one output with respect to the padded input."""
    padded = torch.zeros(1, 1, n + 2 * p, n + 2 * p, dtype=torch.float64)
    padded.requires_grad_()
    y = F.conv2d(padded, powers_of_two(k), stride=s, dilation=d)
    m = y.shape[-1]
    reads = {}
    for i, j in itertools.product(range(m), repeat=2):
        (grad,) = torch.autograd.grad(y[0, 0, i, j], padded, retain_graph=True)
        cells = []
        for R, C in grad[0, 0].nonzero().tolist():
            r, c = R - p, C - p
            inside = 0 <= r < n and 0 <= c < n
            kind = "input" if inside else "padding"
            cells.append([kind, r, c, tap(grad[0, 0, R, C].item(), k)])
        reads[i, j] = sorted(cells)
        # convnotes.geometry says the same
        args = window_args((n, n), k, stride=s, padding=p, dilation=d)
        where = window_reads(args, (k, k), (i, j))
        assert sorted([R - p, C - p] for _, _, R, C in where) == sorted(
            [r, c] for _, r, c, _ in cells
        )
    return reads


def forward_problems(view, values, tap_it=False):
    fill(view, values, "forward")
    found = []
    for (i, j), expected in forward_reads(*values).items():
        point(view, "output", i, j, tap_it)
        shown = sorted(view.evaluate(HIGHLIGHTED))
        if shown != expected:
            found.append(f"{values} output ({i}, {j}): {shown} != {expected}")
    return found


def gradient_terms(n, k, s, p, d):
    """J[i, j, r, c]: d y[i, j] / d x[r, c] with the powers-of-two kernel."""

    def conv(x):
        w = powers_of_two(k)
        return F.conv2d(x, w, stride=s, padding=p, dilation=d)[0, 0]

    x = torch.zeros(1, 1, n, n, dtype=torch.float64)
    return torch.autograd.functional.jacobian(conv, x)[:, :, 0, 0]


def backward_problems(view, values, pixels=None, tap_it=False):
    fill(view, values, "backward")
    n, k = values[:2]
    J = gradient_terms(*values)
    found = []
    # at rest: the unread pixels are hatched, each pixel shows its terms
    terms = (J != 0).sum(dim=(0, 1))
    expected = [
        [r, c, terms[r, c].item() == 0, str(terms[r, c].item())]
        for r, c in itertools.product(range(n), repeat=2)
    ]
    shown = sorted(view.evaluate(CELLS, "input"))
    if shown != expected:
        found.append(f"{values}: pixels at rest {shown} != {expected}")
    unread = (terms == 0).sum().item()
    note = view.text_content("#explorer-note")
    says = (
        f"{unread} pixel{'s are' if unread > 1 else ' is'} read by no window"
        if unread
        else "Every pixel is read by at least one window"
    )
    if says not in note:
        found.append(f"{values}: {unread} unread, the note says {note!r}")
    for r, c in pixels or itertools.product(range(n), repeat=2):
        point(view, "input", r, c, tap_it)
        nonzero = J[:, :, r, c].nonzero().tolist()
        expected = sorted(
            ["output", i, j, tap(J[i, j, r, c].item(), k)] for i, j in nonzero
        )
        shown = sorted(view.evaluate(HIGHLIGHTED))
        if shown != expected:
            found.append(f"{values} pixel ({r}, {c}): {shown} != {expected}")
    return found


GRID = [
    list(values)
    for values in itertools.product(
        range(1, 10), range(1, 5), range(1, 4), range(3), range(1, 3)
    )
]


def test_every_output_size_on_a_grid_matches_pytorch(tab):
    view = tab.open()
    assert len(GRID) == 648
    assert size_problems(view, GRID) == []
    assert sum(torch_size(*values) is None for values in GRID) > 50
    assert tab.errors == [] and tab.refused == []


@pytest.mark.parametrize(
    "values, why",
    [
        ([5, 3, 0, 0, 1], "the stride s must be at least 1, not 0"),
        ([5, 3, 1, -1, 1], "the padding p must be at least 0, not -1"),
        ([5, 3, 1, 0, 0], "the dilation d must be at least 1, not 0"),
        ([0, 3, 1, 0, 1], "the input size n must be at least 1, not 0"),
        ([5, 0, 1, 0, 1], "the kernel size k must be at least 1, not 0"),
        ([5, 3, "", 0, 1], 'the stride s must be a whole number, not ""'),
        ([5, 2.5, 1, 0, 1], "the kernel size k must be a whole number"),
        ([2, 4, 1, 0, 1], "the kernel spans d(k − 1) + 1 = 4 pixels"),
    ],
)
def test_a_setting_with_no_output_says_why(tab, values, why):
    view = tab.open()
    fill(view, values)
    text = view.text_content("#explorer-output-size")
    assert text.count("No valid output") == 1 and why in text, text
    assert view.locator("#explorer svg").count() == 0
    assert tab.errors == []


@pytest.mark.parametrize("values", SETTINGS)
def test_forward_mode_highlights_what_an_output_reads(tab, values):
    assert forward_problems(tab.open(), values) == []
    assert tab.errors == [] and tab.refused == []


@pytest.mark.parametrize("values", SETTINGS)
def test_backward_mode_highlights_where_a_gradient_comes_from(tab, values):
    assert backward_problems(tab.open(), values) == []
    assert tab.errors == [] and tab.refused == []


def test_unread_pixels_are_there_to_find():
    """What book/explorer.md says to try: kernel 2, stride 3 leaves rows and
    columns 2 and 5 of 8 unread; kernel 3, stride 2 gives a pixel 1, 2 or 4
    terms; kernel 3, dilation 2, stride 2 reads no even padded row."""
    terms = (gradient_terms(8, 2, 3, 0, 1) != 0).sum(dim=(0, 1))
    unread = terms == 0
    assert unread.all(dim=1).nonzero().flatten().tolist() == [2, 5]
    assert unread.all(dim=0).nonzero().flatten().tolist() == [2, 5]
    assert (terms == 0).sum().item() == 64 - 36
    terms = (gradient_terms(5, 3, 2, 0, 1) != 0).sum(dim=(0, 1))
    assert terms.unique().tolist() == [1, 2, 4]
    # dilation 2, stride 2, padding 1: only odd padded rows are read
    unread = (gradient_terms(7, 3, 2, 1, 2) != 0).sum(dim=(0, 1)) == 0
    assert unread.all(dim=1).nonzero().flatten().tolist() == [0, 2, 4, 6]


# Faults planted in explorer.js, each one the checks above must find.
FAULTS = [
    ("Math.floor(g.top / g.s) + 1", "Math.round(g.top / g.s) + 1"),
    ("g.s * r + g.d * u - g.p", "g.s * r + u - g.p"),
    ('mark("output", i, j, `${u},${v}`)', 'mark("output", i, j, `${v},${u}`)'),
    ('timesRead(g, r, c) ? "" : "unread"', '""'),
]


def test_the_checks_find_planted_faults(tab):
    view = tab.open(FAULTS[0])
    assert size_problems(view, GRID)
    view = tab.open(FAULTS[1])
    assert forward_problems(view, (6, 2, 3, 1, 2))
    view = tab.open(FAULTS[2])
    assert backward_problems(view, (7, 3, 2, 1, 1), [(2, 3)])
    view = tab.open(FAULTS[3])
    assert backward_problems(view, (8, 2, 3, 0, 1), [(0, 0)])
    # the same settings pass on the page as it is
    view = tab.open()
    assert forward_problems(view, (6, 2, 3, 1, 2)) == []
    assert backward_problems(view, (7, 3, 2, 1, 1), [(2, 3)]) == []


def page_width(view):
    return view.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")


def test_a_phone_taps_cells_and_nothing_scrolls_sideways(phone):
    view = phone.open()
    values = (9, 3, 2, 2, 2)  # the largest drawing on the grid's scale
    assert forward_problems(view, values, tap_it=True) == []
    pixels = [(0, 0), (4, 4), (8, 3)]
    assert backward_problems(view, values, pixels, tap_it=True) == []
    width, window = page_width(view)
    assert width <= window, f"the page is {width} px wide"
    box = view.locator("#explorer svg").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= window + 1, box
    assert phone.errors == [] and phone.refused == []


def test_a_laptop_shows_the_drawing_whole(tab):
    view = tab.open()
    fill(view, (9, 4, 1, 2, 1))
    width, window = page_width(view)
    assert width <= window
    drawing = view.locator("#explorer svg").bounding_box()
    text = view.locator("#explorer").bounding_box()
    assert drawing["width"] <= text["width"] + 1, (drawing, text)
    # input and output side by side, each cell at least 20 px
    cells = view.locator("#explorer g.cell rect")
    first = cells.first.bounding_box()
    assert first["width"] >= 20, first
    output = view.locator("#explorer g.output rect").first.bounding_box()
    assert abs(output["y"] - first["y"]) < 1, (output, first)
    # a small output beside a large input: the drawing stays on the screen
    fill(view, (8, 2, 3, 1, 1))
    drawing = view.locator("#explorer svg").bounding_box()
    assert drawing["height"] <= 401, drawing
