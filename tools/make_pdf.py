"""Print the whole book as one PDF with headless Chromium: `make pdf`.

Usage: python tools/make_pdf.py [--output PDF] [--path-output DIR]
                                [--html SINGLEHTML_DIR]

The book is built once more with Sphinx's ``singlehtml`` builder, every page
of _toc.yml on one HTML page in its order, with the links between chapters
turned into links within the page. It shares ``_build/.doctrees`` with
`make book`, so after that build it only writes. That page is served from
localhost with every other host refused, its formulas typeset by the MathJax
the book ships, and printed by Chromium (the browser the tests use) on A4
with tools/pdf.css: no sidebars or buttons, solutions open, one frame of each
animation, a contents page with page numbers, and PDF bookmarks from the
headings. Chromium prints twice: the first print tells on which page each
chapter starts, the second puts those numbers in the contents.
No LaTeX and no network.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import yaml

from build_book import FLAGS, jupyter_book_command

ROOT = Path(__file__).resolve().parent.parent
CSS = Path(__file__).with_name("pdf.css")
PDF = ROOT / "_build" / "pdf" / "convnotes.pdf"
# the one page Chromium opens: the root page, served from the top folder,
# where singlehtml's relative links (_static/, _images/) point
PRINTED = "convnotes-print.html"
# On one page the theme's scroll-spy (Bootstrap) looks up the chapters' ids,
# "document-book/01_...", as CSS selectors and throws: nothing printed needs it
THEME_SCROLLSPY = re.compile(r"'#document-[^' ]+' is not a valid selector")
PAPER = {
    "format": "A4",
    "margin": {
        "top": "16mm",
        "bottom": "18mm",
        "left": "16mm",
        "right": "16mm",
    },
    "print_background": True,
    "outline": True,  # PDF bookmarks from the headings
    "tagged": True,
    "display_header_footer": True,
    "header_template": "<span></span>",
    "footer_template": (
        '<div style="width: 100%; font-size: 8pt; color: #555;'
        ' text-align: center;"><span class="pageNumber"></span></div>'
    ),
}


def chromium():
    """The Chromium to print with, as the browser tests find it, or None."""
    return (
        os.environ.get("CONVNOTES_BROWSER")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


def launch(playwright, browser=None):
    """Headless Chromium: ``browser``, or the one :func:`chromium` finds."""
    return playwright.chromium.launch(
        executable_path=browser or chromium(), args=["--no-sandbox"]
    )


def read_toc(source=ROOT):
    """The root page and parts of ``_toc.yml``: (root, [(caption, docs)])."""
    toc = yaml.safe_load((Path(source) / "_toc.yml").read_text())
    parts = toc.get("parts") or [{"chapters": toc.get("chapters", [])}]
    return toc["root"], [
        (
            part.get("caption"),
            [chapter["file"] for chapter in part["chapters"]],
        )
        for part in parts
    ]


def build_single(source=ROOT, output=ROOT, capture=False, env=None):
    """Build the book as one page; returns (result, the singlehtml folder).

    As `make book` does: warnings fail the build, nothing is fetched. With
    the same ``output`` as `make book`, the two share ``_build/.doctrees``.
    """
    command = [
        jupyter_book_command(),
        "build",
        str(source),
        "--builder",
        "singlehtml",
        *FLAGS,
        "--path-output",
        str(output),
    ]
    result = subprocess.run(
        command, capture_output=capture, text=True, check=False, env=env
    )
    return result, Path(output).resolve() / "_build" / "singlehtml"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(directory):
    """Serve ``directory`` on a free localhost port; yields its address."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


# Run in the page once it is typeset: opens what a reader would click open,
# adds the contents page and the parts' headings, turns links between pages
# of the book into links within the page, and says what it found.
PREPARE = """({root, parts}) => {
  const article = document.querySelector("article.bd-article");
  const rootSection = article && article.querySelector("section");
  if (!rootSection || !rootSection.querySelector("h1")) {
    return {title: "", missing: [root], chapters: [], unlinked: 0};
  }
  document.querySelectorAll(".toggle-hidden")
    .forEach((element) => element.classList.remove("toggle-hidden"));
  document.querySelectorAll("details").forEach((d) => { d.open = true; });

  const titleOf = (section) => {
    const heading = section.querySelector("h1, h2").cloneNode(true);
    heading.querySelectorAll(".headerlink").forEach((a) => a.remove());
    return heading.textContent.trim();
  };
  const missing = [];
  const chapters = [];
  const contents = document.createElement("nav");
  contents.className = "pdf-contents";
  contents.innerHTML = "<h2 id='pdf-contents'>Contents</h2>";
  const entry = (list, id, title) => {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = "#" + id;
    link.dataset.target = id;
    link.innerHTML = "<span class='pdf-title'></span>" +
      "<span class='pdf-page'></span>";
    link.firstChild.textContent = title;
    item.append(link);
    list.append(item);
  };
  const top = document.createElement("ul");
  contents.append(top);

  // the root page's text starts a page of its own, after the contents
  const intro = document.createElement("h2");
  intro.id = "pdf-introduction";
  intro.className = "pdf-introduction";
  intro.textContent = "Introduction";
  rootSection.querySelector("h1").after(intro);
  entry(top, intro.id, "Introduction");
  chapters.push({doc: root, title: "Introduction", id: intro.id});

  parts.forEach(([caption, docs], number) => {
    let list = top;
    if (caption) {
      const item = document.createElement("li");
      item.className = "pdf-part";
      item.textContent = caption;
      list = document.createElement("ul");
      item.append(list);
      top.append(item);
    }
    docs.forEach((doc, index) => {
      const marker = document.getElementById("document-" + doc);
      const section = marker && marker.nextElementSibling;
      if (!section || section.tagName !== "SECTION") {
        missing.push(doc);
        return;
      }
      section.classList.add("pdf-chapter");
      // links to the chapter land on its first page, not the page before
      section.prepend(marker);
      if (caption && index === 0) {
        // a bookmark for the part, the chapters' one level up
        const heading = document.createElement("p");
        heading.className = "pdf-part-heading";
        heading.id = "pdf-part-" + number;
        heading.setAttribute("role", "heading");
        heading.setAttribute("aria-level", "1");
        heading.textContent = caption;
        section.prepend(heading);
      }
      entry(list, "document-" + doc, titleOf(section));
      chapters.push({doc, title: titleOf(section), id: "document-" + doc});
    });
  });
  rootSection.querySelector("h1").after(contents);

  // links between pages of the book: within this page, or none
  let unlinked = 0;
  for (const link of document.querySelectorAll("a[href]")) {
    const url = new URL(link.href, location.href);
    if (url.origin !== location.origin) continue;
    const id = decodeURIComponent(url.hash.slice(1));
    const page = url.pathname.replace(/^\\//, "").replace(/\\.html$/, "");
    const target = (id && document.getElementById(id)) ? id
      : document.getElementById("document-" + page) ? "document-" + page
      : (page === root || id === "document-" + root) ? "pdf-introduction"
      : null;
    if (target) {
      link.setAttribute("href", "#" + target);
    } else {
      link.removeAttribute("href");
      unlinked += 1;
    }
  }
  return {title: titleOf(rootSection), missing, chapters, unlinked};
}"""

PROBLEMS = """() => {
  const count = (selector) => document.querySelectorAll(selector).length;
  const images = [...document.images].filter((image) => image.offsetParent);
  return {
    formulas: count(".math"),
    typeset: count("mjx-container"),
    failed: count("mjx-merror"),
    images: images.length,
    broken: images.filter((i) => !i.complete || i.naturalWidth === 0)
      .map((i) => (i.getAttribute("src") || "").slice(0, 80)),
    animations: count("img[id^=_anim_img]"),
    framed: [...document.querySelectorAll("img[id^=_anim_img]")]
      .filter((i) => i.complete && i.naturalWidth > 0).length,
  };
}"""

NUMBER = """(pages) => {
  for (const link of document.querySelectorAll(".pdf-contents a")) {
    const page = pages[link.dataset.target];
    link.querySelector(".pdf-page").textContent = page ? String(page) : "";
  }
}"""


def print_book(html_dir, output=PDF, toc=None, browser=None, log=print):
    """Print the singlehtml book in ``html_dir`` to ``output``.

    Returns what the page holds: ``title``, ``chapters`` (each a dict of
    ``doc``, ``title`` and ``id``, in the order of ``toc``, the root page
    first), ``start_pages`` ({id: the page it starts on}), ``pages``,
    ``formulas``, ``images``, ``animations`` and ``framed`` (animations
    showing a frame). Raises RuntimeError, printing nothing, if the page has
    anything a reader would see broken: a formula not typeset, an image that
    did not load, a chapter missing, a script error, a request to another
    host; or if the page numbers put in the contents moved a chapter.
    """
    from playwright.sync_api import sync_playwright

    html_dir, output = Path(html_dir), Path(output)
    root, parts = toc or read_toc()
    page_file = html_dir / f"{root}.html"
    if not page_file.is_file():
        raise FileNotFoundError(
            f"html_dir has no {root}.html (html_dir={html_dir}): build the "
            "book with the singlehtml builder first (build_single)"
        )
    browser = browser or chromium()
    if browser is None:
        raise RuntimeError(
            "no Chromium browser found: install Debian's `chromium` package "
            "or name one in CONVNOTES_BROWSER"
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    errors, refused = [], []
    with serve(html_dir) as server, sync_playwright() as playwright:
        chrome = launch(playwright, browser)
        try:
            context = chrome.new_context(color_scheme="light")
            page = context.new_page()
            page.on(
                "console",
                lambda m: errors.append(m.text) if m.type == "error" else None,
            )
            page.on(
                "pageerror",
                lambda error: (
                    None
                    if THEME_SCROLLSPY.search(str(error))
                    else errors.append(str(error))
                ),
            )

            def route(route):
                url = route.request.url
                if url == f"{server}/{PRINTED}":
                    route.fulfill(path=page_file)
                elif url.startswith(server + "/"):
                    route.continue_()
                else:
                    refused.append(url)
                    route.abort()

            page.route("**/*", route)
            start = time.perf_counter()
            page.goto(f"{server}/{PRINTED}", wait_until="load")
            if page.locator("script[src*=mathjax]").count():
                page.wait_for_function(
                    "window.MathJax && MathJax.startup", timeout=30000
                )
                page.evaluate("MathJax.startup.promise")
            page.add_style_tag(path=str(CSS))
            found = page.evaluate(PREPARE, {"root": root, "parts": parts})
            page.evaluate("document.fonts.ready.then(() => true)")
            found |= page.evaluate(PROBLEMS)
            log(f"loaded and typeset in {time.perf_counter() - start:.1f} s")
            problems = [f"console error: {error}" for error in errors]
            problems += [f"request to another host: {url}" for url in refused]
            problems += [
                f"page not found in the book: {doc}"
                for doc in found.get("missing", [])
            ]
            if found.get("failed"):
                problems.append(f"{found['failed']} formulas failed to render")
            if found["typeset"] < found["formulas"]:
                problems.append(
                    f"{found['formulas'] - found['typeset']} of "
                    f"{found['formulas']} formulas not typeset"
                )
            problems += [f"image did not load: {s}" for s in found["broken"]]
            if problems:
                raise RuntimeError(
                    f"not printing {page_file}:\n  " + "\n  ".join(problems)
                )
            start = time.perf_counter()
            data = page.pdf(**PAPER)
            first = chapter_pages(data, [c["id"] for c in found["chapters"]])
            if len(first) < len(found["chapters"]):
                log(
                    "warning: the PDF does not say where every chapter "
                    f"starts ({len(first)} of {len(found['chapters'])})"
                )
            page.evaluate(NUMBER, first)
            data = page.pdf(path=output, **PAPER)
            log(f"printed twice in {time.perf_counter() - start:.1f} s")
        finally:
            chrome.close()
    found["start_pages"] = chapter_pages(
        data, [c["id"] for c in found["chapters"]]
    )
    if found["start_pages"] != first:
        raise RuntimeError(
            "the contents' page numbers moved the chapters: "
            f"{first} before, {found['start_pages']} after"
        )
    found["pages"] = len(Pdf(data).pages)
    return found


# the end of a stream object's dictionary: ">>", then "stream" and an EOL
STREAM = re.compile(rb">>\s*stream\r?\n")


class Pdf:
    """Just enough of a PDF that Chromium wrote to find its pages and links.

    Chromium's writer (Skia) writes one cross-reference table and plain
    objects, no object streams; that is all this reads.
    """

    def __init__(self, data):
        self.data = data
        starts = re.findall(rb"startxref\s+(\d+)", data)
        if not starts:
            raise ValueError("not a PDF with a cross-reference table")
        table, _, trailer = data[int(starts[-1]) :].partition(b"trailer")
        self.offsets, number = {}, 0
        for line in table.splitlines()[1:]:
            fields = line.split()
            if len(fields) == 2:  # a subsection: its first number, its size
                number = int(fields[0])
            elif len(fields) == 3:
                if fields[2] == b"n":
                    self.offsets[number] = int(fields[0])
                number += 1
        self.catalog = self.object(self.reference(trailer, b"Root"))
        self.pages = self._pages()

    def object(self, number):
        """The text of object ``number``, up to its stream if it has one."""
        start = self.offsets[number]
        end = self.data.index(b"endobj", start)
        stream = STREAM.search(self.data, start, end)
        return self.data[start : stream.start() + 2 if stream else end]

    def stream(self, number):
        """The bytes of object ``number``'s stream, inflated if compressed."""
        head = self.object(number)
        length = int(re.search(rb"/Length\s+(\d+)", head).group(1))
        start = STREAM.search(self.data, self.offsets[number]).end()
        raw = self.data[start : start + length]
        return zlib.decompress(raw) if b"/FlateDecode" in head else raw

    @staticmethod
    def reference(text, key):
        """The object number that ``/key`` refers to in ``text``, or None."""
        found = re.search(rb"/%s\s+(\d+) 0 R" % key, text)
        return int(found.group(1)) if found else None

    def _pages(self):
        pages, todo = [], [self.reference(self.catalog, b"Pages")]
        while todo:
            number = todo.pop(0)
            kids = re.search(rb"/Kids\s*\[([^\]]*)\]", self.object(number))
            if kids is None:
                pages.append(number)
            else:
                refs = re.findall(rb"(\d+) 0 R", kids.group(1))
                todo[:0] = [int(ref) for ref in refs]
        return pages

    def destinations(self):
        """The named destinations: {name: page number, from 1}."""
        names = self.reference(self.catalog, b"Dests")
        if names is None:
            return {}
        index = {number: i + 1 for i, number in enumerate(self.pages)}
        found = re.findall(
            rb"/((?:[^\s/\[\]()<>{}%#]|#[0-9A-Fa-f]{2})*)\s*\[\s*(\d+) 0 R",
            self.object(names),
        )
        return {
            pdf_name(name): index[int(page)]
            for name, page in found
            if int(page) in index
        }


def pdf_name(name):
    """A PDF name's text: #2F is "/"."""
    return re.sub(
        rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), name
    ).decode("utf-8")


def chapter_pages(data, ids):
    """The page on which each of ``ids`` starts: {id: page number}."""
    found = Pdf(data).destinations()
    return {id_: found[id_] for id_ in ids if id_ in found}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output", type=Path, default=PDF, help=f"the PDF (default {PDF})"
    )
    parser.add_argument(
        "--path-output",
        type=Path,
        default=ROOT,
        help="where the one-page build's _build/ goes (default: the "
        "repository's, beside `make book`'s)",
    )
    parser.add_argument(
        "--html",
        type=Path,
        default=None,
        help="print this singlehtml folder as it is, without building",
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    html_dir = args.html
    if html_dir is None:
        result, html_dir = build_single(output=args.path_output)
        if result.returncode != 0:
            return result.returncode
        took = time.perf_counter() - start
        print(f"built the book as one page in {took:.0f} s")
    try:
        found = print_book(html_dir, args.output)
    except (RuntimeError, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        return 1
    size = args.output.stat().st_size / 1e6
    print(
        f"{args.output}: {found['pages']} pages, {size:.1f} MB, "
        f"{len(found['chapters'])} chapters, {found['typeset']} formulas, "
        f"{found['images']} images ({found['animations']} animations), "
        f"in {time.perf_counter() - start:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
