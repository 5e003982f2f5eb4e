"""Pictures of a convolution: one step, every step as an animation, pixel usage.

Used by chapters 1 and 2. Each picture is drawn from :mod:`convnotes.geometry`,
for any input size, kernel, stride, padding and dilation, and keeps one
rectangle per pixel, so the tests can read back which pixels a picture
highlights and compare them with the arithmetic.
"""

from __future__ import annotations

import hashlib
import itertools
import re

import matplotlib.pyplot as plt
import torch
from matplotlib import animation
from matplotlib.colors import to_hex
from matplotlib.patches import Rectangle

from .arguments import pair, window_args
from .display import offline_controls
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
# a square's side: large enough to label, small enough for wide pictures to fit a page
CELL_INCHES = (0.42, 0.7)
PICTURE_INCHES = 5.5  # small pictures grow towards this width


class ConvPicture:
    """The padded input channels and the output of a convolution, one square per pixel.

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
        left, right, top, bottom = self.args.pad
        self.padded_size = self.args.padded_size(self.input_size)
        if values is not None and tuple(values.shape) != self.input_size:
            raise ValueError(
                f"values must have the input's shape {self.input_size}, "
                f"got values.shape={tuple(values.shape)}"
            )
        Hp, Wp = self.padded_size
        H_out, W_out = self.args.output_size
        width = in_channels * (Wp + 1) + W_out + 1
        height = max(Hp, H_out) + 1.5
        if ax is None:
            cell = min(max(PICTURE_INCHES / width, CELL_INCHES[0]), CELL_INCHES[1])
            _, ax = plt.subplots(figsize=(width * cell, height * cell))
        self.fig, self.ax = ax.figure, ax
        self.cells = {}  # (grid, channel, row, col) -> Rectangle
        self.colors = {}  # (grid, channel, row, col) -> its colour at rest
        x0 = 0
        for c in range(in_channels):
            for r, q in itertools.product(range(Hp), range(Wp)):
                inside = top <= r < top + H and left <= q < left + W
                self._cell(
                    ("input", c, r, q), x0 + q, r, "input" if inside else "padding"
                )
                if inside and values is not None:
                    value = float(values[r - top, q - left])
                    ax.text(
                        x0 + q + 0.5,
                        -r - 0.5,
                        f"{value:.2f}",
                        ha="center",
                        va="center",
                        fontsize=7,
                    )
            name = "input (padded)" if top + bottom + left + right else "input"
            channel = f", channel {c}" if in_channels > 1 else ""
            ax.text(x0 + Wp / 2, 0.4, name + channel, ha="center", fontsize=9)
            x0 += Wp + 1
        for i, j in itertools.product(range(H_out), range(W_out)):
            self._cell(("output", 0, i, j), x0 + j, i, "output")
        ax.text(x0 + W_out / 2, 0.4, "output", ha="center", fontsize=9)
        self.title = ax.text(
            width / 2 - 0.5, -max(Hp, H_out) - 0.8, "", ha="center", fontsize=9
        )
        ax.set_xlim(-0.2, width - 0.8)
        ax.set_ylim(-max(Hp, H_out) - 1.3, 1.1)
        ax.set_aspect("equal")
        ax.axis("off")
        self.in_channels = in_channels

    def _cell(self, key, x, row, role):
        rect = Rectangle(
            (x, -row - 1),
            1,
            1,
            facecolor=COLORS[role],
            edgecolor="#555555",
            linewidth=0.8,
        )
        self.ax.add_patch(rect)
        self.cells[key] = rect
        self.colors[key] = COLORS[role]

    def show(self, position, done=()):
        """Colour the step computing output ``position``, and the outputs ``done``."""
        H_out, W_out = self.args.output_size
        i, j = position
        if not (0 <= i < H_out and 0 <= j < W_out):
            raise ValueError(
                f"position must be a pixel of the output, of size {(H_out, W_out)}, "
                f"got position={position!r}"
            )
        for key, rect in self.cells.items():
            rect.set_facecolor(self.colors[key])
        for i_done, j_done in done:
            self.cells[("output", 0, i_done, j_done)].set_facecolor(COLORS["done"])
        reads = window_reads(self.args, self.kernel_size, position)
        for c in range(self.in_channels):
            for _, _, row, col in reads:
                self.cells[("input", c, row, col)].set_facecolor(COLORS["window"])
        self.cells[("output", 0, i, j)].set_facecolor(COLORS["current"])
        x = "x_pad" if sum(self.args.pad) else "x"
        terms = " + ".join(
            f"w[{u},{v}]·{x}[{row},{col}]" for u, v, row, col in reads[:2]
        )
        terms += " + ..." if len(reads) > 2 else ""
        if self.in_channels > 1:
            terms = f"sum over {self.in_channels} channels of ({terms})"
        self.title.set_text(f"output ({i}, {j}) = {terms}")

    def highlighted(self, role):
        """The pixels now in ``role``'s colour: a set of (grid, channel, row, col)."""
        color = COLORS[role]
        return {
            key
            for key, rect in self.cells.items()
            if to_hex(rect.get_facecolor()) == color
        }


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
    H_out, W_out = picture.args.output_size
    done = [
        p for p in itertools.product(range(H_out), range(W_out)) if p < tuple(position)
    ]
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
    """An animation of every step, row by row: a ``matplotlib`` ``FuncAnimation``."""
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
    """The animation as HTML with play controls, for a notebook or a static web page."""
    from IPython.display import HTML

    anim = animate(input_size, kernel_size, stride, padding, dilation, in_channels)
    anim.picture.fig.set_dpi(96)
    html = anim.to_jshtml(default_mode="loop")
    plt.close(anim.picture.fig)
    # matplotlib names the animation's elements with a random id; one derived from
    # the content keeps a stored notebook unchanged when it is run again
    random_id = re.search(r"_anim_img([0-9a-f]+)", html).group(1)
    stable_id = hashlib.sha1(html.replace(random_id, "").encode()).hexdigest()
    return HTML(offline_controls(html.replace(random_id, stable_id)))


def usage_counts(input_size, kernel_size, stride=1, padding=0, dilation=1):
    """How many windows read each input pixel: a tensor of the input's size.

    It is also the input gradient of ``y.sum()`` for a kernel of ones.

    Example:
        >>> usage_counts(3, 2)
        tensor([[1, 2, 1],
                [2, 4, 2],
                [1, 2, 1]])
    """
    terms = input_grad_terms(input_size, kernel_size, stride, padding, dilation)
    H, W = pair(input_size)
    counts = torch.zeros(H, W, dtype=torch.long)
    for (r, c), pairs in terms.items():
        counts[r, c] = len(pairs)
    return counts


def usage_heatmap(input_size, kernel_size, stride=1, padding=0, dilation=1, ax=None):
    """A heat map of :func:`usage_counts`, each pixel labelled with its count."""
    counts = usage_counts(input_size, kernel_size, stride, padding, dilation)
    H, W = counts.shape
    if ax is None:
        _, ax = plt.subplots(
            figsize=(max(2.5, W * 0.45 + 1.2), max(2.0, H * 0.45 + 0.6))
        )
    top = max(int(counts.max()), 1)
    image = ax.imshow(counts.numpy(), cmap="Oranges", vmin=0, vmax=top)
    for r, c in itertools.product(range(H), range(W)):
        count = int(counts[r, c])
        color = "white" if count > top / 2 else "black"
        ax.text(c, r, str(count), ha="center", va="center", fontsize=8, color=color)
    ax.set_xticks([])
    ax.set_yticks([])
    bar = ax.figure.colorbar(
        image, ax=ax, shrink=0.8, label="windows reading the pixel"
    )
    bar.set_ticks(range(top + 1))
    return ax.figure
