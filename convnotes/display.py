"""Showing the package's own source, figures and pages that fetch nothing.

A chapter that teaches an implementation shows the code the package really
runs, read from the installed module, so the book and the package cannot
drift. Figures keep one rule, :data:`MIN_TEXT_PX`: in a notebook they are
PNGs at twice their pixels (:func:`sharp_figures`) and animations carry
frames at twice their pixels too, so both are sharp on any screen.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import re
import textwrap
from html import escape

__all__ = [
    "COLUMN_PX",
    "MIN_FONT_PT",
    "MIN_TEXT_PX",
    "animation_html",
    "animation_player",
    "figure_png",
    "offline_controls",
    "sharp_figures",
    "show_source",
    "smallest_text_px",
    "source",
]

# The rule every figure keeps: its smallest text, as the book shows it, is
# MIN_TEXT_PX CSS px or more. A point is 1/72 inch and a figure shows `dpi`
# px per inch, so text of `pt` points is pt * dpi / 72 px; a figure wider than
# the column (COLUMN_PX, the book's at a 1280 px window) is scaled down to it,
# and its text with it. At matplotlib's 100 dpi, MIN_FONT_PT is 11.1 px.
COLUMN_PX = 688
MIN_TEXT_PX = 11
MIN_FONT_PT = 8


def source(obj, docstring=True):
    """The source code of a function or class, with or without its docstring.

    Example:
        >>> from convnotes.shapes import same_padding
        >>> print(source(same_padding, docstring=False).splitlines()[0])
        def same_padding(kernel_size, dilation=1):
    """
    if not (inspect.isfunction(obj) or inspect.isclass(obj)):
        raise TypeError(
            f"obj must be a function or a class, got {type(obj).__name__}"
        )
    text = textwrap.dedent(inspect.getsource(obj))
    if docstring:
        return text
    node = ast.parse(text).body[0]
    first = node.body[0] if node.body else None
    is_doc = (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    )
    if not is_doc:
        return text
    lines = text.splitlines(keepends=True)
    # ast line numbers are 1-based and end_lineno is inclusive; a blank line
    # that only set the docstring apart goes with it
    rest = lines[first.end_lineno :]
    if rest and not rest[0].strip():
        rest = rest[1:]
    return "".join(lines[: first.lineno - 1] + rest)


def show_source(obj, docstring=False):
    """Display ``source(obj)`` as a highlighted Python block in a notebook."""
    from IPython.display import Markdown

    return Markdown(
        f"```python\n{source(obj, docstring=docstring).rstrip()}\n```"
    )


# the play controls' Font Awesome icons, as characters every font has
ICONS = {
    "fa fa-minus": "−",
    "fa fa-fast-backward": "⇤",
    "fa fa-step-backward": "◁",
    "fa fa-play fa-flip-horizontal": "◀",
    "fa fa-pause": "❚❚",
    "fa fa-play": "▶",
    "fa fa-step-forward": "▷",
    "fa fa-fast-forward": "⇥",
    "fa fa-plus": "+",
}


def offline_controls(html):
    """matplotlib's animation HTML without the Font Awesome it gets from a CDN.

    The page then fetches nothing, and the buttons show plain characters
    (their titles still say what each does).
    """
    html = re.sub(
        r'<link rel="stylesheet"\s+href="https://[^"]*font-awesome[^"]*">',
        "",
        html,
    )
    for icon, text in ICONS.items():
        html = html.replace(f'<i class="{icon}"></i>', text)
    return html


def smallest_text_px(fig, width_px=None):
    """The smallest text ``fig`` draws, in CSS px as the book shows it.

    ``width_px`` is the width the figure is shown at, in px at 1x: by default
    the figure's own (a notebook crops it to what it draws, often narrower).
    None when the figure draws no text.

    Example:
        >>> import matplotlib.pyplot as plt
        >>> fig = plt.figure(figsize=(4, 1), dpi=100)
        >>> _ = fig.text(0.5, 0.5, "a label", fontsize=9)
        >>> smallest_text_px(fig)  # 9 pt at 100 dpi
        12.5
        >>> smallest_text_px(fig, width_px=2 * COLUMN_PX)  # shown at half
        6.25
        >>> plt.close(fig)
    """
    width, height = fig.bbox.size
    renderer = _text_recorder()(int(width), int(height), fig.dpi)
    fig.draw(renderer)
    if not renderer.sizes:
        return None
    shown = width if width_px is None else width_px
    scale = min(1.0, COLUMN_PX / shown)
    return min(renderer.sizes) * fig.dpi / 72 * scale


def _text_recorder():
    """A matplotlib renderer that records each text's size, drawing no text."""
    from matplotlib.backends.backend_agg import RendererAgg

    class TextSizes(RendererAgg):
        def __init__(self, width, height, dpi):
            super().__init__(width, height, dpi)
            self.sizes = []  # points

        def draw_text(self, gc, x, y, s, prop, angle, *args, **kwargs):
            if s.strip():
                self.sizes.append(prop.get_size_in_points())

        draw_tex = draw_text

    return TextSizes


def figure_png(fig):
    """A figure as a notebook shows it: (base64 PNG, metadata), or None.

    The PNG has twice the pixels of the ``width`` in the metadata, which the
    notebook and the book show it at (IPython's "retina" format, with no
    ``height``); ``smallest_text_px`` is :func:`smallest_text_px` at that
    width. None for a figure that draws nothing, as IPython does.
    """
    from IPython.core.pylabtools import retina_figure

    shown = retina_figure(fig, base64=True)
    if shown is None:
        return None
    data, metadata = shown
    # the width alone: a page narrower than the figure scales it down, and a
    # fixed height would then stretch it
    del metadata["height"]
    smallest = smallest_text_px(fig, metadata["width"])
    metadata["smallest_text_px"] = smallest and round(smallest, 2)
    return data, metadata


def sharp_figures():
    """In a Jupyter kernel, show each figure with :func:`figure_png`.

    ``import convnotes`` calls it, so every figure a chapter draws is a PNG
    at 2x, sharp on a high-density screen, with its smallest text recorded
    in the output's metadata (the tests hold the stored notebooks to
    :data:`MIN_TEXT_PX`), also after ``%matplotlib inline``. Outside a
    kernel it does nothing and returns False.
    """
    import sys

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython else None
    if getattr(shell, "kernel", None) is None:
        return False
    from matplotlib.figure import Figure

    # importing the inline backend completes matplotlib's set-up of it, which
    # would otherwise choose the formats again later and drop this one
    from matplotlib_inline.backend_inline import InlineBackend

    InlineBackend.instance().figure_formats = {"retina"}
    formatter = shell.display_formatter.formatters["image/png"]
    formatter.for_type(Figure, figure_png)
    return True


# Scoped to one animation's block: the picture shrinks to a narrow column and
# the controls wrap instead of running off its edge (matplotlib's own style
# gives the slider a fixed 374 px and keeps the buttons on one line).
ANIMATION_STYLE = """<style>
.convnotes-animation { max-width: 100%; }
.convnotes-animation .animation { max-width: 100%; }
.convnotes-animation img { max-width: 100%; height: auto; }
.convnotes-animation input[type=range].anim-slider {
    width: 100%; max-width: 374px; box-sizing: border-box;
}
.convnotes-animation .anim-buttons {
    display: flex; flex-wrap: wrap; justify-content: center; gap: 3px;
}
.convnotes-animation .anim-buttons button { width: 36px; height: 32px; }
.convnotes-animation .anim-state {
    display: flex; flex-wrap: wrap; justify-content: center;
    align-items: center; gap: 0 4px;
}
</style>
"""


def animation_html(anim, fig, default_mode="loop", alt="an animation"):
    """A matplotlib animation of ``fig`` as HTML: sharp, fits, fetches nothing.

    Its frames are PNGs at twice the figure's dpi, shown at the figure's
    width in px, or the column's when that is narrower; the controls wrap
    onto more lines on a narrow screen and show plain characters
    (:func:`offline_controls`). The elements' ids derive from the content,
    so the same animation gives the same HTML every run.
    """
    import matplotlib as mpl

    width, height = (round(size) for size in fig.bbox.size)  # px at 1x
    frames = {"savefig.dpi": 2 * fig.dpi, "savefig.bbox": "standard"}
    with mpl.rc_context(frames):
        html = anim.to_jshtml(default_mode=default_mode)
    # matplotlib names the animation's elements with a random id; one derived
    # from the content keeps a stored notebook unchanged when it is run again
    random_id = re.search(r"_anim_img([0-9a-f]+)", html).group(1)
    stable_id = hashlib.sha1(html.replace(random_id, "").encode()).hexdigest()
    html = offline_controls(html.replace(random_id, stable_id))
    image = f'<img id="_anim_img{stable_id}">'
    if image not in html:
        raise RuntimeError(f"no {image} in matplotlib's animation HTML")
    sized = (
        f'<img id="_anim_img{stable_id}" width="{width}" height="{height}"'
        f' alt="{escape(alt)}" style="max-width: 100%; height: auto">'
    )
    html = html.replace(image, sized)
    return f'<div class="convnotes-animation">\n{ANIMATION_STYLE}{html}</div>'


def animation_player(anim, alt):
    """A picture's animation (``anim.picture.fig``) as a notebook's HTML
    output, described by ``alt``: :func:`animation_html`, then the figure
    is closed so that the notebook does not also show it still."""
    import matplotlib.pyplot as plt
    from IPython.display import HTML

    html = animation_html(anim, anim.picture.fig, alt=alt)
    plt.close(anim.picture.fig)
    return HTML(html)
