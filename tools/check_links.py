"""Every internal link and anchor of a built HTML book leads somewhere.

Usage: python tools/check_links.py [HTML_DIR]   (default: _build/html)

Reads every page (the ``.html`` files outside ``_static/``, which holds the
theme's templates), follows each relative ``href`` and ``src`` (links to
other sites are not followed: the book is read offline), and reports a link
whose file does not exist, or whose ``#anchor`` names no element of its page.
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        self.links += [attrs[key] for key in ("href", "src") if attrs.get(key)]


def parse(path):
    page = _Page()
    page.feed(path.read_text(errors="replace"))
    return page


def broken_links(html_dir):
    """``[(page, link, reason)]`` for each internal link that leads nowhere."""
    html_dir = Path(html_dir).resolve()
    pages = {
        path: parse(path)
        for path in html_dir.rglob("*.html")
        if "_static" not in path.relative_to(html_dir).parts  # theme templates
    }
    problems = []
    for path, page in pages.items():
        for link in page.links:
            parts = urlsplit(link)
            elsewhere = parts.scheme or parts.netloc
            if elsewhere or link.startswith(("//", "data:")):
                continue  # another site, mailto:, javascript:, data:
            target = path.parent / unquote(parts.path) if parts.path else path
            target = target.resolve()
            if target.is_dir():
                target = target / "index.html"
            where = str(path.relative_to(html_dir))
            if not target.exists():
                problems.append((where, link, "no such file"))
            elif parts.fragment and target.suffix == ".html":
                linked = pages[target] if target in pages else parse(target)
                if unquote(parts.fragment) not in linked.ids:
                    problems.append((where, link, "no such anchor"))
    return problems


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    html_dir = Path(argv[0]) if argv else ROOT / "_build" / "html"
    problems = broken_links(html_dir)
    for page, link, reason in problems:
        print(f"{page}: {link}: {reason}")
    print(f"{len(problems)} broken internal links in {html_dir}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
