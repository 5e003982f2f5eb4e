"""The book as one PDF, printed by headless Chromium (tools/make_pdf.py).

The PDF is printed from the session's build, its parsed sources reused, then
read back as a reader's PDF viewer would: its pages, the fonts and images
each page draws, its text and its bookmarks. It is saved as
``_build/test-artifacts/convnotes.pdf``. Without a Chromium the tests skip,
as the browser tests do.
"""

import os
import re
import shutil

import pytest

from conftest import OFFLINE, ROOT, make_pdf, needs_chromium, sync_playwright

pytestmark = needs_chromium("print the book")
ARTIFACT = ROOT / "_build" / "test-artifacts" / "convnotes.pdf"
# text of the theme's chrome and of the animations' controls, all in the
# page Chromium prints (test_the_checks_look_for_text_the_page_has): none of
# it may reach the paper
CHROME = ["Skip to main content", "Back to top", "Open issue"]
CONTROLS = ["Once", "Loop", "Reflect"]


# Reading the printed PDF -------------------------------------------------


def _resources(pdf, page, kind):
    """A page's resources of one ``kind`` (Font, XObject): {name: number}."""
    found = re.search(rb"/%s\s*<<(.*?)>>" % kind, pdf.object(page), re.S)
    pairs = re.findall(
        rb"/(\S+?)\s+(\d+) 0 R", found.group(1) if found else b""
    )
    return {name: int(number) for name, number in pairs}


def _unicode(pdf, number):
    """A font's ToUnicode map: {code: text}."""
    cmap, table = pdf.stream(number), {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, text in re.findall(rb"<(\w+)>\s*<(\w+)>", block):
            table[int(code, 16)] = bytes.fromhex(text.decode()).decode(
                "utf-16-be"
            )
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for low, high, text in re.findall(
            rb"<(\w+)>\s*<(\w+)>\s*<(\w+)>", block
        ):
            first = bytes.fromhex(text.decode()).decode("utf-16-be")
            for step in range(int(high, 16) - int(low, 16) + 1):
                table[int(low, 16) + step] = first[:-1] + chr(
                    ord(first[-1]) + step
                )
    return table


def fonts(pdf, page):
    """A page's fonts: {resource name: (font name, ToUnicode, code bytes)}."""
    found = {}
    for name, number in _resources(pdf, page, b"Font").items():
        font = pdf.object(number)
        descriptor = pdf.reference(font, b"FontDescriptor")
        named = re.search(rb"/BaseFont\s*/(\S+)", font) or re.search(
            rb"/FontName\s*/(\S+)", pdf.object(descriptor or number)
        )
        unicode = pdf.reference(font, b"ToUnicode")
        found[name] = (
            named.group(1).decode() if named else "",
            _unicode(pdf, unicode) if unicode else {},
            2 if b"/Type0" in font else 1,
        )
    return found


def page_text(pdf, index):
    """The text page ``index`` (from 0) draws, a line per text object."""
    page = pdf.pages[index]
    page_fonts = fonts(pdf, page)
    content = pdf.stream(pdf.reference(pdf.object(page), b"Contents"))
    lines = []
    for block in re.findall(rb"\bBT\b(.*?)\bET\b", content, re.S):
        font, line = None, ""
        for op in re.finditer(
            rb"/(\S+)\s+[\d.]+\s+Tf|<([0-9A-Fa-f]*)>\s*Tj", block
        ):
            if op.group(1):
                font = page_fonts.get(op.group(1))
            elif font:
                _, table, width = font
                codes = bytes.fromhex(op.group(2).decode())
                line += "".join(
                    table.get(int.from_bytes(codes[i : i + width]), "\ufffd")
                    for i in range(0, len(codes), width)
                )
        lines.append(line)
    return "\n".join(lines)


def draws_math(pdf, index):
    """Whether page ``index`` draws glyphs in one of MathJax's fonts."""
    names = [name for name, _, _ in fonts(pdf, pdf.pages[index]).values()]
    return any(re.search(r"(^|\+)(MathJax_|MJX)", name) for name in names)


def images(pdf, index):
    """How many bitmap images page ``index`` draws."""
    objects = _resources(pdf, pdf.pages[index], b"XObject").values()
    return sum(b"/Subtype /Image" in pdf.object(n) for n in objects)


def links(pdf, index):
    """Page ``index``'s links: [("dest", name) or ("uri", address)]."""
    annots = re.search(
        rb"/Annots\s*\[([^\]]*)\]", pdf.object(pdf.pages[index])
    )
    found = []
    for number in re.findall(
        rb"(\d+) 0 R", annots.group(1) if annots else b""
    ):
        annot = pdf.object(int(number))
        dest = re.search(rb"/Dest\s*/(\S+)", annot)
        uri = re.search(rb"/URI\s*(\((?:\\.|[^\\)])*\)|<[^>]*>)", annot)
        if dest:
            found.append(("dest", make_pdf.pdf_name(dest.group(1))))
        elif uri:
            found.append(("uri", _string(uri.group(1))))
    return found


def link_problems(data, chapter_ids):
    """What is wrong with the links: one to the local server (dead in a
    PDF), a contents page that does not link each of ``chapter_ids``, in
    order; [] when nothing is."""
    pdf = make_pdf.Pdf(data)
    every = [link for i in range(len(pdf.pages)) for link in links(pdf, i)]
    found = [
        f"link to the local server: {address}"
        for kind, address in every
        if kind == "uri"
        and re.match(r"https?://(127\.0\.0\.1|localhost)", address)
    ]
    contents = [name for kind, name in links(pdf, 0) if kind == "dest"]
    if contents != chapter_ids:
        found.append(f"the contents page links to {contents}")
    return found


def _string(raw):
    """A PDF string's text: (literal) or <hex>, UTF-16 with a BOM or not."""
    if raw.startswith(b"<"):
        data = bytes.fromhex(raw[1:-1].decode())
    else:
        data = re.sub(
            rb"\\([0-7]{1,3}|.)",
            lambda m: (
                bytes([int(m.group(1), 8)])
                if m.group(1)[:1].isdigit()
                else {b"n": b"\n", b"r": b"\r", b"t": b"\t"}.get(
                    m.group(1), m.group(1)
                )
            ),
            raw[1:-1],
            flags=re.S,
        )
    if data.startswith(b"\xfe\xff"):
        return data[2:].decode("utf-16-be")
    return data.decode("latin-1")


def bookmarks(pdf):
    """The PDF's outline, in order: [(level from 1, title)]."""
    found = []

    def walk(number, level):
        while number is not None:
            item = pdf.object(number)
            title = re.search(rb"/Title\s*(\((?:\\.|[^\\)])*\)|<[^>]*>)", item)
            found.append((level, _string(title.group(1)) if title else ""))
            walk(pdf.reference(item, b"First"), level + 1)
            number = pdf.reference(item, b"Next")

    outlines = pdf.reference(pdf.catalog, b"Outlines")
    if outlines is not None:
        walk(pdf.reference(pdf.object(outlines), b"First"), 1)
    return found


# What a printed book must have ---------------------------------------------


def problems(data, titles, size):
    """What is missing from a PDF of a book of ``size`` pages of _toc.yml,
    whose contents page should list ``titles``, each with the page it starts
    on: [] when nothing is."""
    pdf = make_pdf.Pdf(data)
    pages, found = len(pdf.pages), []
    # at least 3 sheets for each page of the book, at most 25
    if not 3 * size <= pages <= 25 * size:
        found.append(f"{pages} pages, not in {3 * size}..{25 * size}")
    if not any(draws_math(pdf, i) for i in range(pages)):
        found.append("no page draws a MathJax font: no formula is typeset")
    if not any(images(pdf, i) for i in range(pages)):
        found.append("no page draws an image: no figure")
    # words as a reader reads them, wherever lines wrap or text runs split
    text = [" ".join(page_text(pdf, i).split()) for i in range(pages)]
    contents = text[0]
    for title in titles:
        listed = re.search(re.escape(title) + r" (\d+) ", contents)
        if listed is None:
            found.append(f"the contents page does not list {title!r}")
        elif not 1 < int(listed.group(1)) <= pages:
            found.append(f"{title!r} is listed on page {listed.group(1)}")
        elif title not in text[int(listed.group(1)) - 1]:
            found.append(f"{title!r} is not on page {listed.group(1)}")
    everything = "\n".join(text)
    found += [
        f"theme chrome printed: {s!r}" for s in CHROME if s in everything
    ]
    if " ".join(CONTROLS) in everything:
        found.append("an animation's controls are printed")
    return found


def chapters_without(data, starts, chapters, what):
    """Chapters among ``chapters`` none of whose pages draws ``what``
    (draws_math or images); ``starts`` is {chapter: its first page}."""
    pdf = make_pdf.Pdf(data)
    order = sorted(starts.values()) + [len(pdf.pages) + 1]
    missing = []
    for chapter in chapters:
        first = starts[chapter]
        last = min(page for page in order if page > first)
        if not any(what(pdf, page - 1) for page in range(first, last)):
            missing.append(chapter)
    return missing


def outline_problems(data, toc, titles):
    """What the bookmarks lack: the root page's title and every part at
    level 1, every chapter at level 2 under its part; [] when nothing."""
    marks, found = bookmarks(make_pdf.Pdf(data)), []
    if not marks:
        return ["the PDF has no bookmarks"]
    root_title, parts = toc
    if (1, root_title) not in marks:
        found.append(f"no bookmark for {root_title!r} at level 1")
    part = None
    under = {}  # a title -> every part it is a level-2 bookmark under
    for level, title in marks:
        if level == 1:
            part = title
        elif level == 2:
            under.setdefault(title, []).append(part)
    for caption, docs in parts:
        for doc in docs:
            if caption not in under.get(titles[doc], []):
                found.append(
                    f"bookmark {titles[doc]!r} under "
                    f"{under.get(titles[doc])!r}, not {caption!r}"
                )
    return found


# The book, printed -----------------------------------------------------------


@pytest.fixture(scope="module")
def single(built, tmp_path_factory):
    """The book on one page, from the session build's parsed sources."""
    result, html_dir = built
    assert result.returncode == 0
    output = tmp_path_factory.mktemp("singlehtml")
    for name in (".doctrees", "jupyter_execute"):
        shutil.copytree(html_dir.parent / name, output / "_build" / name)
    env = {k: v for k, v in os.environ.items() if k.lower() != "no_proxy"}
    result, folder = make_pdf.build_single(
        ROOT, output, capture=True, env=env | OFFLINE
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert "WARNING" not in log, log[-3000:]
    return folder


@pytest.fixture(scope="module")
def printed(single):
    """(what print_book found, the PDF's bytes)."""
    found = make_pdf.print_book(single, ARTIFACT, log=lambda *args: None)
    return found, ARTIFACT.read_bytes()


def print_html(html):
    """A PDF of ``html`` as make_pdf prints: A4, bookmarks, page numbers."""
    with sync_playwright()() as playwright:
        chrome = make_pdf.launch(playwright)
        try:
            page = chrome.new_page()
            page.set_content(html)
            return page.pdf(**make_pdf.PAPER)
        finally:
            chrome.close()


@pytest.fixture(scope="module")
def planted():
    """A PDF of two pages with no formula, no image, a contents page that
    lacks a chapter and gives two wrong pages, the theme's chrome, an
    animation's controls and a link to the local server."""
    return print_html(
        "<h1>Contents</h1><p>Introduction</p><p>2</p>"
        "<p>1. Gradients by hand</p><p>2</p>"
        "<p>3. How big is the output?</p><p>9</p>"
        "<p>Skip to main content</p><p>Once</p><p>Loop</p><p>Reflect</p>"
        "<p><a href='http://127.0.0.1:8000/book/x.html'>a chapter</a></p>"
        "<h2 style='break-before: page'>Introduction</h2>"
    )


@pytest.fixture(scope="module")
def planted_plain():
    """A PDF of one page with no heading, so no bookmark."""
    return print_html("<p>Some text and no heading.</p>")


def test_the_pdf_has_every_chapter_formulas_and_figures(printed):
    found, data = printed
    titles = [chapter["title"] for chapter in found["chapters"]]
    assert problems(data, titles, len(titles)) == []


def test_a_pdf_without_them_is_caught(planted):
    titles = [
        "Introduction",  # listed, on page 2: the one title that passes
        "1. Gradients by hand",
        "2. Channels, stride and padding",
        "3. How big is the output?",
    ]
    assert problems(planted, titles, 14) == [
        "2 pages, not in 42..350",
        "no page draws a MathJax font: no formula is typeset",
        "no page draws an image: no figure",
        "'1. Gradients by hand' is not on page 2",
        "the contents page does not list '2. Channels, stride and padding'",
        "'3. How big is the output?' is listed on page 9",
        "theme chrome printed: 'Skip to main content'",
        "an animation's controls are printed",
    ]


def test_chapters_are_in_order_of_the_toc(printed):
    found, _ = printed
    root, parts = make_pdf.read_toc()
    docs = [root] + [doc for _, part in parts for doc in part]
    assert [chapter["doc"] for chapter in found["chapters"]] == docs
    ids = [chapter["id"] for chapter in found["chapters"]]
    starts = [found["start_pages"][id_] for id_ in ids]
    assert starts == sorted(set(starts)), starts  # each on pages of its own
    assert starts[0] == 2  # after the contents page


def chapter_pages(found):
    return {c["doc"]: found["start_pages"][c["id"]] for c in found["chapters"]}


def with_(built, pattern):
    """The pages of the HTML book whose article matches ``pattern``."""
    _, html_dir = built
    root, parts = make_pdf.read_toc()
    docs = [root] + [doc for _, part in parts for doc in part]
    return [
        doc
        for doc in docs
        if re.search(pattern, (html_dir / f"{doc}.html").read_text())
    ]


def test_each_chapter_with_formulas_prints_them_typeset(printed, built):
    found, data = printed
    chapters = with_(built, r'class="math notranslate')
    assert len(chapters) >= 10, chapters
    starts = chapter_pages(found)
    assert chapters_without(data, starts, chapters, draws_math) == []


def test_each_chapter_with_figures_prints_them(printed, built):
    found, data = printed
    raster = r'<img[^>]*(src="[^"]*_images/[^"]+\.(png|jpe?g)"|id="_anim_img)'
    chapters = with_(built, raster)
    assert len(chapters) >= 5, chapters
    starts = chapter_pages(found)
    assert chapters_without(data, starts, chapters, images) == []
    # one frame of each animation, its controls hidden (problems() reads)
    assert found["animations"] >= 1
    assert found["framed"] == found["animations"]


def test_the_placement_checks_can_fail(planted):
    """On the planted pages, no chapter has formulas or images."""
    starts = {"intro": 1, "chapter": 2}
    assert chapters_without(planted, starts, ["intro"], draws_math) == [
        "intro"
    ]
    assert chapters_without(planted, starts, ["chapter"], images) == [
        "chapter"
    ]


def test_bookmarks_nest_chapters_under_their_parts(printed):
    found, data = printed
    root, parts = make_pdf.read_toc()
    titles = {c["doc"]: c["title"] for c in found["chapters"]}
    assert outline_problems(data, (found["title"], parts), titles) == []


def test_a_pdf_without_bookmarks_is_caught(planted, planted_plain):
    root, parts = make_pdf.read_toc()
    titles = {doc: doc for _, docs in parts for doc in docs}
    assert outline_problems(planted, ("Title", parts), titles) == [
        "no bookmark for 'Title' at level 1"
    ] + [
        f"bookmark {doc!r} under None, not {caption!r}"
        for caption, docs in parts
        for doc in docs
    ]
    assert outline_problems(planted_plain, ("Title", parts), titles) == [
        "the PDF has no bookmarks"
    ]


def test_links_stay_in_the_pdf_and_the_contents_links_chapters(printed):
    found, data = printed
    ids = [chapter["id"] for chapter in found["chapters"]]
    assert link_problems(data, ids) == []
    pdf = make_pdf.Pdf(data)
    every = [link for i in range(len(pdf.pages)) for link in links(pdf, i)]
    # cross-references and citations are links within the PDF, and the
    # references' addresses stay links to the web
    assert sum(kind == "dest" for kind, _ in every) >= 50
    assert any(kind == "uri" for kind, _ in every)


def test_a_link_to_the_local_server_is_caught(planted):
    assert link_problems(planted, ["document-book/01_gradients_by_hand"]) == [
        "link to the local server: http://127.0.0.1:8000/book/x.html",
        "the contents page links to []",
    ]


def test_the_checks_look_for_text_the_page_has(single):
    root, _ = make_pdf.read_toc()
    page = (single / f"{root}.html").read_text()
    for text in CHROME + CONTROLS:
        assert text in page


def test_a_broken_image_or_formula_is_not_printed(single, tmp_path):
    """print_book refuses a page with an image and a formula broken."""
    root, parts = make_pdf.read_toc()
    page = (single / f"{root}.html").read_text()
    image = re.search(r'<img[^>]+src="(_images/[^"]+)"', page).group(1)
    formula = re.search(
        r'<span class="math notranslate nohighlight">([^<]+)</span>', page
    )
    broken = page.replace(f'src="{image}"', 'src="missing.png"', 1).replace(
        formula.group(0),
        formula.group(0).replace(formula.group(1), r"\(x^1^2\)"),
        1,
    )
    (single / "book" / "broken_copy.html").write_text(broken)
    with pytest.raises(RuntimeError) as error:
        make_pdf.print_book(
            single,
            tmp_path / "broken.pdf",
            toc=("book/broken_copy", parts),
            log=lambda *args: None,
        )
    assert "image did not load: missing.png" in str(error.value)
    assert "1 formulas failed to render" in str(error.value)
    assert not (tmp_path / "broken.pdf").exists()
