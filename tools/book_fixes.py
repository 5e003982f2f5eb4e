"""Small Sphinx fixes for the built book (local_extensions in _config.yml).

- sphinx-thebe adds its inline configuration script once each time the
  environment reads documents, which can be twice in one build; a page with it
  twice throws "Identifier 'THEBE_JS_URL' has already been declared" in the
  browser. Each page keeps the first copy of every script.
"""

from __future__ import annotations


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


def setup(app):
    app.connect("html-page-context", _unique_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
