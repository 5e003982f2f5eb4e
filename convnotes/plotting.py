"""Pictures of a convolution: one step, every step animated, pixel usage.

Used by chapters 1 and 2. Each picture is drawn from :mod:`convnotes.geometry`
for any input size, kernel, stride, padding and dilation, and keeps one
rectangle per pixel, so the tests can read back which pixels a picture
highlights and compare them with the arithmetic. Each fits the book's column,
its text no smaller than :data:`convnotes.display.MIN_TEXT_PX`.
"""

from __future__ import annotations

import itertools
import textwrap

import matplotlib.pyplot as plt
import torch
from matplotlib import animation
from matplotlib.colors import to_hex
from matplotlib.patches import Rectangle

from .arguments import pair, window_args
from .display import COLUMN_PX, MIN_FONT_PT, animation_player
from .geometry import window_reads
from .hand import input_grad_terms

__all__ = [
    "ConvPicture",
    "animate",
    "plot_step",
    "show_animation",
    "usage_counts",
    "usage_heatmap",
]

COLORS = {
    "input": "#cfe2f3",  # an input pixel
    "padding": "#eeeeee",  # a zero of the padding
    "window": "#f6b26b",  # read by the current window
    "output": "#ffffff",  # an output not computed yet
    "done": "#d9ead3",  # an output computed at an earlier step
    "current": "#e06666",  # the output of the current step
}
CELL_INCHES = 0.5  # a square's side, at most: a wide picture fits the column
FONT_PT = MIN_FONT_PT + 1  # every label: 12.5 px at 100 dpi
MARGIN_PX = 24  # the margin a notebook adds around a figure, and some more
LABEL = dict(ha="center", fontsize=FONT_PT)
EDGE = dict(edgecolor="#555555", linewidth=0.8)


class ConvPicture:
    """The padded input and the output of a convolution, one square a pixel.

    ``show(position)`` colours the picture for the step that computes output
    ``position``: the pixels its window reads in every input channel, and the
    output itself.
    """

    def __init__(
        self,
        input_size,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        in_channels=1,
        values=None,
        ax=None,
    ):
        if isinstance(in_channels, bool) or not isinstance(in_channels, int):
            raise TypeError(
                f"in_channels must be an int, got in_channels={in_channels!r}"
            )
        if in_channels < 1:
            raise ValueError(
                f"in_channels must be positive, got in_channels={in_channels}"
            )
        self.input_size, self.kernel_size = pair(input_size), pair(kernel_size)
        self.args = window_args(
            self.input_size, self.kernel_size, stride, padding, dilation
        )
        H, W = self.input_size
        left, _, top_pad, _ = self.args.pad
        self.padded_size = self.args.padded_size(self.input_size)
        if values is not None and tuple(values.shape) != self.input_size:
            raise ValueError(
                f"values must have the input's shape {self.input_size}, "
                f"got values.shape={tuple(values.shape)}"
            )
        Hp, Wp = self.padded_size
        H_out, W_out = self.args.output_size
        rows = max(Hp, H_out)
        self.in_channels = in_channels
        right = in_channels * (Wp + 1) + W_out  # the output's right edge
        extent = right + 0.4  # the picture's width, in squares
        column = (COLUMN_PX - MARGIN_PX) / plt.rcParams["figure.dpi"]
        width = ax.figure.get_figwidth() if ax else column  # inches
        cell = min(CELL_INCHES, width / extent)
        # the title wraps to the picture's width: about 0.6 em a character
        self.title_chars = int(extent * cell * 72 / (0.6 * FONT_PT))
        last = (H_out - 1, W_out - 1)  # the longest title: the largest indices
        lines = len(textwrap.wrap(self.caption(last), self.title_chars))
        line = FONT_PT * 1.3 / 72 / cell  # one line of text, in squares
        top, bottom = 0.25 + line, -rows - 0.35 - lines * line
        if ax is None:
            fig = plt.figure(figsize=(extent * cell, (top - bottom) * cell))
            ax = fig.add_axes((0, 0, 1, 1))
        self.fig, self.ax = ax.figure, ax
        self.cells = {}  # (grid, channel, row, col) -> Rectangle
        self.colors = {}  # (grid, channel, row, col) -> its colour at rest
        x0 = 0
        for c in range(in_channels):
            for r, q in itertools.product(range(Hp), range(Wp)):
                inside = top_pad <= r < top_pad + H and left <= q < left + W
                role = "input" if inside else "padding"
                self._cell(("input", c, r, q), x0 + q, r, role)
                if inside and values is not None:
                    text = f"{float(values[r - top_pad, q - left]):.2f}"
                    self._label(x0 + q + 0.5, -r - 0.5, text, "center")
            name = "input (padded)" if sum(self.args.pad) else "input"
            channel = f", channel {c}" if in_channels > 1 else ""
            self._label(x0 + Wp / 2, 0.25, name + channel, "baseline")
            x0 += Wp + 1
        for i, j in itertools.product(range(H_out), range(W_out)):
            self._cell(("output", 0, i, j), x0 + j, i, "output")
        self._label(x0 + W_out / 2, 0.25, "output", "baseline")
        self.title = self._label(right / 2, -rows - 0.35, "", "top")
        ax.set_xlim(-0.2, right + 0.2)
        ax.set_ylim(bottom, top)
        ax.set_aspect("equal")
        ax.axis("off")

    def _label(self, x, y, text, va):
        return self.ax.text(x, y, text, va=va, **LABEL)

    def _cell(self, key, x, row, role):
        rect = Rectangle((x, -row - 1), 1, 1, facecolor=COLORS[role], **EDGE)
        self.ax.add_patch(rect)
        self.cells[key] = rect
        self.colors[key] = COLORS[role]

    def _paint(self, key, role):
        self.cells[key].set_facecolor(COLORS[role])

    def show(self, position, done=()):
        """Colour the step computing output ``position``, and ``done``."""
        H_out, W_out = self.args.output_size
        i, j = position
        if not (0 <= i < H_out and 0 <= j < W_out):
            raise ValueError(
                "position must be a pixel of the output, of size "
                f"{(H_out, W_out)}, got position={position!r}"
            )
        for key, rect in self.cells.items():
            rect.set_facecolor(self.colors[key])
        for i_done, j_done in done:
            self._paint(("output", 0, i_done, j_done), "done")
        reads = window_reads(self.args, self.kernel_size, position)
        for c in range(self.in_channels):
            for _, _, row, col in reads:
                self._paint(("input", c, row, col), "window")
        self._paint(("output", 0, i, j), "current")
        caption = textwrap.fill(self.caption(position), self.title_chars)
        self.title.set_text(caption)

    def caption(self, position):
        """What the step computing output ``position`` sums, in words."""
        i, j = position
        reads = window_reads(self.args, self.kernel_size, position)
        x = "x_pad" if sum(self.args.pad) else "x"
        c = "0,c," if self.in_channels > 1 else ""  # output channel 0
        x_c = "c," if self.in_channels > 1 else ""
        terms = " + ".join(
            f"w[{c}{u},{v}]·{x}[{x_c}{row},{col}]"
            for u, v, row, col in reads[:2]
        )
        terms += " + ..." if len(reads) > 2 else ""
        if self.in_channels > 1:
            terms = f"sum over the {self.in_channels} channels c of ({terms})"
        return f"output ({i}, {j}) = {terms}"

    def highlighted(self, role):
        """The pixels now in ``role``'s colour: {(grid, channel, row, col)}."""
        return cells_colored(self.cells, COLORS[role])


def cells_colored(cells, color):
    """The keys of ``cells`` (patches) now filled with ``color`` (hex)."""
    return {k for k, r in cells.items() if to_hex(r.get_facecolor()) == color}


def plot_step(
    input_size,
    kernel_size,
    stride=1,
    padding=0,
    dilation=1,
    position=(0, 0),
    in_channels=1,
    values=None,
):
    """A figure of one step: the window that computes output ``position``.

    Example:
        >>> fig = plot_step(5, 3, stride=2, padding=1, position=(1, 2))
        >>> plt.close(fig)
    """
    picture = ConvPicture(
        input_size, kernel_size, stride, padding, dilation, in_channels, values
    )
    positions = itertools.product(*map(range, picture.args.output_size))
    done = [p for p in positions if p < tuple(position)]
    picture.show(tuple(position), done)
    return picture.fig


def animate(
    input_size,
    kernel_size,
    stride=1,
    padding=0,
    dilation=1,
    in_channels=1,
    interval=700,
):
    """An animation of every step, row by row: a matplotlib FuncAnimation."""
    picture = ConvPicture(
        input_size, kernel_size, stride, padding, dilation, in_channels
    )
    positions = list(itertools.product(*map(range, picture.args.output_size)))

    def frame(k):
        picture.show(positions[k], done=positions[:k])
        return list(picture.cells.values())

    anim = animation.FuncAnimation(
        picture.fig, frame, frames=len(positions), interval=interval
    )
    anim.picture = picture
    return anim


def show_animation(
    input_size, kernel_size, stride=1, padding=0, dilation=1, in_channels=1
):
    """The animation as HTML with play controls, for a notebook or a web page.

    Sharp (frames at 2x), as wide as the picture or the column, whichever is
    narrower, and fetching nothing: see
    :func:`convnotes.display.animation_html`.
    """
    anim = animate(
        input_size, kernel_size, stride, padding, dilation, in_channels
    )
    alt = "every step of the convolution, one output after another"
    return animation_player(anim, alt)


def usage_counts(input_size, kernel_size, stride=1, padding=0, dilation=1):
    """How many windows read each input pixel: a tensor of the input's size.

    It is also the input gradient of ``y.sum()`` for a kernel of ones.

    Example:
        >>> usage_counts(3, 2)
        tensor([[1, 2, 1],
                [2, 4, 2],
                [1, 2, 1]])
    """
    terms = input_grad_terms(
        input_size, kernel_size, stride, padding, dilation
    )
    H, W = pair(input_size)
    counts = torch.zeros(H, W, dtype=torch.long)
    for (r, c), pairs in terms.items():
        counts[r, c] = len(pairs)
    return counts


def usage_heatmap(
    input_size, kernel_size, stride=1, padding=0, dilation=1, ax=None
):
    """A heat map of :func:`usage_counts`, each pixel labelled by its count."""
    counts = usage_counts(input_size, kernel_size, stride, padding, dilation)
    H, W = counts.shape
    size = (max(2.5, W * 0.45 + 1.2), max(2.0, H * 0.45 + 0.6))  # inches
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    top = max(int(counts.max()), 1)
    image = ax.imshow(counts.numpy(), cmap="Oranges", vmin=0, vmax=top)
    for r, c in itertools.product(range(H), range(W)):
        count = int(counts[r, c])
        color = "white" if count > top / 2 else "black"
        ax.text(c, r, str(count), color=color, va="center", **LABEL)
    ax.set(xticks=[], yticks=[])
    bar = ax.figure.colorbar(
        image, ax=ax, shrink=0.8, label="windows reading the pixel"
    )
    bar.set_ticks(range(top + 1))
    return ax.figure
