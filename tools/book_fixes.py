"""Small Sphinx fixes for the built book (local_extensions in _config.yml).

- sphinx-thebe adds its inline configuration script once each time the
  environment reads documents, which can be twice in one build; a page with it
  twice throws "Identifier 'THEBE_JS_URL' has already been declared" in the
  browser. Each page keeps the first copy of every script.
- Exercises are numbered by chapter: Exercise 7.1, 7.2, ... in chapter 7.
"""

from __future__ import annotations

import re

# a chapter's number, from its file: book/07_closed_form_gradients -> 7
CHAPTER = re.compile(r"(?:^|/)(\d+)_[^/]*$")


def _unique_scripts(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        # the same script may come as filename None or "" (an inline script)
        attributes = sorted(getattr(script, "attributes", {}).items())
        key = (getattr(script, "filename", script) or "", repr(attributes))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def _number_exercises_by_chapter(app, env):
    """Exercise 7.1, 7.2, ... in chapter 7, in the order they appear there.

    sphinx-exercise numbers exercises through the whole book; a reader (and
    an instructor setting homework) finds "Exercise 7.2" at once. Pages that
    are not numbered chapters keep sphinx-exercise's numbers.
    """
    changed = []
    for docname, numbers in env.toc_fignumbers.items():
        chapter = CHAPTER.search(docname)
        exercises = numbers.get("exercise")
        if not chapter or not exercises:
            continue
        order = sorted(exercises, key=exercises.get)
        renumbered = {
            node_id: (int(chapter[1]), i) for i, node_id in enumerate(order, 1)
        }
        if renumbered != exercises:
            numbers["exercise"] = renumbered
            changed.append(docname)
    # pages that refer to an exercise (the instructor guide) show its number
    return sorted(env.found_docs) if changed else []


def setup(app):
    app.connect("html-page-context", _unique_scripts, priority=900)
    # after Sphinx's own numbering (TocTreeCollector, default priority)
    app.connect("env-get-updated", _number_exercises_by_chapter, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
