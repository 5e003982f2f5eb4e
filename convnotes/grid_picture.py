"""Titled grids of squares, one a pixel, with a caption: the canvas of the
backward-pass pictures of :mod:`convnotes.gradient_plots`. Each square is a
rectangle the tests can read back (:meth:`GridPicture.highlighted`, and
:meth:`GridPicture.written` for the text a frame puts on squares)."""

import itertools
import textwrap

import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from .plotting import (
    CELL_INCHES,
    COLUMN_PX,
    EDGE,
    FONT_PT,
    LABEL,
    MARGIN_PX,
    cells_colored,
)
from .plotting import COLORS as FORWARD_COLORS

__all__ = ["COLORS", "GridPicture", "name_of"]

# the forward pictures' colours (input, padding, window, done, current), and
# at rest: a zero between g's entries, g, w, a result to come (pale red)
COLORS = FORWARD_COLORS | dict(
    zero="#ffffff", grad="#fff2cc", kernel="#d9d2e9", result="#f4cccc"
)
MID, TOP = dict(LABEL, va="center"), dict(LABEL, va="top")


def name_of(letter, *index):
    """``g01`` for a one-digit index, ``g[12,3]`` for a larger one."""
    digits = max(index) < 10 and "".join(map(str, index))
    return letter + (digits or f"[{','.join(map(str, index))}]")


class GridPicture:
    """Titled grids of squares, one a pixel, and a caption: ``grids`` holds
    ``(name, title, shape, role, label[, (x, y)])``, each right of the last
    unless at ``(x, y)``; ``role`` or ``role(r, c)`` names a square's colour
    at rest, ``label(r, c)`` its text; ``captions``: all it will show."""

    def __init__(self, grids, captions):
        x, placed = 0, []
        for name, title, shape, role, label, *at in grids:
            at = at[0] if at else (x, 0)
            placed.append((name, title, shape, role, label, at))
            x = at[0] + shape[1] + 1
        right = max(x + s[1] for *_, s, _, _, (x, _) in placed)
        rows = max(y + s[0] for *_, s, _, _, (_, y) in placed)
        extent = right + 0.4  # the picture's width, in squares
        column = (COLUMN_PX - MARGIN_PX) / plt.rcParams["figure.dpi"]
        cell = min(CELL_INCHES, column / extent)  # inches
        self.chars = int(extent * cell * 72 / (0.6 * FONT_PT))
        lines = max(len(textwrap.wrap(text, self.chars)) for text in captions)
        line = FONT_PT * 1.3 / 72 / cell  # one line of text, in squares
        top, bottom = 0.25 + line, -rows - 0.35 - lines * line
        self.fig = plt.figure(figsize=(extent * cell, (top - bottom) * cell))
        self.ax = self.fig.add_axes((0, 0, 1, 1))
        self.cells, self.colors = {}, {}  # (grid, row, col) -> ...
        self.texts = {}  # (grid, row, col) -> a frame's text on that square
        for name, title, shape, role, label, (x, y) in placed:
            for r, c in itertools.product(*map(range, shape)):
                color = COLORS[role if isinstance(role, str) else role(r, c)]
                rect = Rectangle((x + c, -y - r - 1), 1, 1, fc=color, **EDGE)
                self.ax.add_patch(rect)
                self.cells[name, r, c], self.colors[name, r, c] = rect, color
                if label and (text := label(r, c)):
                    self.ax.text(x + c + 0.5, -y - r - 0.5, text, **MID)
            self.ax.text(x + shape[1] / 2, -y + 0.25, title, **LABEL)
        self.caption = self.ax.text(right / 2, -rows - 0.35, "", **TOP)
        self.ax.set(xlim=(-0.2, right + 0.2), ylim=(bottom, top), aspect=1)
        self.ax.axis("off")

    def reset(self, caption):  # every square at rest, a new caption
        for key, rect in self.cells.items():
            rect.set_facecolor(self.colors[key])
        for text in self.texts.values():
            text.set_text("")
        self.caption.set_text(textwrap.fill(caption, self.chars))

    def write(self, labels):
        """Put ``labels[key]`` on square ``key`` until the next reset."""
        for key, label in labels.items():
            if key not in self.texts:
                rect = self.cells[key]
                x, y = rect.get_x() + 0.5, rect.get_y() + 0.5
                self.texts[key] = self.ax.text(x, y, "", **MID)
            self.texts[key].set_text(label)

    def written(self):
        """The text :meth:`write` put on squares: {(grid, row, col): text}."""
        return {k: t.get_text() for k, t in self.texts.items() if t.get_text()}

    def paint(self, keys, role):
        for key in keys:
            self.cells[key].set_facecolor(COLORS[role])

    def highlighted(self, role):
        """The squares now in ``role``'s colour: {(grid, row, col)}."""
        return cells_colored(self.cells, COLORS[role])
