"""A small chain of operations drawn as a graph: forward and backward.

Chapter 8 draws problem 3 with it (:data:`PROBLEM3_NODES`,
:data:`PROBLEM3_EDGES`), but :func:`draw` takes any small chain: a list of
nodes, each placed at a position in inches, and a list of edges, each with
the operation it feeds forward and the gradient it carries back. Each text
keeps a ``gid`` (:func:`drawn_labels` reads them back), so a test can check
that every edge is drawn with the label it was given, and each text is at
least :data:`convnotes.display.MIN_TEXT_PX` as the book shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt

from .display import COLUMN_PX, MIN_FONT_PT

__all__ = [
    "PROBLEM3_EDGES",
    "PROBLEM3_NODES",
    "Edge",
    "Node",
    "draw",
    "drawn_labels",
    "problem3",
]

FONT_PT = MIN_FONT_PT + 1  # 12.5 px at 100 dpi
MAX_WIDTH = COLUMN_PX / 100  # inches: the column at 100 dpi
FORWARD, BACKWARD = "#222222", "#c0392b"
FILL = {"value": "#ffffff", "param": "#e8e8e8", "loss": "#d9ead3"}
GAP = 0.07  # inches between a forward arrow and its backward twin


@dataclass(frozen=True)
class Node:
    """A tensor of the chain: ``name`` at ``(x, y)`` inches.

    ``kind`` is ``"value"`` (computed), ``"param"`` (given: an input or a
    weight) or ``"loss"``.
    """

    name: str
    x: float
    y: float
    kind: str = "value"


@dataclass(frozen=True)
class Edge:
    """``source`` feeds ``target``: ``forward`` names the operation, and
    ``backward`` the gradient that flows back and what computes it. An
    edge whose ``backward`` is empty carries no gradient: it is drawn with
    no backward arrow.

    ``side`` puts the backward arrow and label to the right of a mostly
    vertical edge, or below another; ``-1`` puts them on the other side.
    """

    source: str
    target: str
    forward: str = ""
    backward: str = ""
    side: int = 1


def draw(nodes, edges, width=6.8, height=None, legend=True):
    """Draw the chain: forward arrows in black, backward ones dashed in red.

    An edge gets a backward arrow only if it names a gradient. A label may
    hold several lines (``"\\n"``).

    Returns the figure. Positions are in inches from the bottom left, and
    ``height`` defaults to just above the highest node.
    """
    nodes, edges = list(nodes), list(edges)
    if not 0 < width <= MAX_WIDTH:
        raise ValueError(
            f"width must be in (0, {MAX_WIDTH}] inches, got width={width}"
        )
    where = {}
    for node in nodes:
        if node.kind not in FILL:
            raise ValueError(
                f"node {node.name!r} has kind={node.kind!r}; "
                f"expected one of {sorted(FILL)}"
            )
        if node.name in where:
            raise ValueError(f"two nodes are named {node.name!r}")
        where[node.name] = node
    for edge in edges:
        for end in (edge.source, edge.target):
            if end not in where:
                raise ValueError(
                    f"edge {edge.source!r} -> {edge.target!r} names "
                    f"{end!r}, which is not a node; nodes: {sorted(where)}"
                )
    if height is None:
        height = max(node.y for node in nodes) + 0.45
    fig = plt.figure(figsize=(width, height), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_axis_off()
    for edge in edges:
        _edge(ax, where[edge.source], where[edge.target], edge)
    for node in nodes:
        ax.text(
            node.x,
            node.y,
            node.name,
            ha="center",
            va="center",
            fontsize=FONT_PT + 1,
            gid=f"node {node.name}",
            zorder=3,
            bbox=dict(
                boxstyle="round,pad=0.3",
                facecolor=FILL[node.kind],
                edgecolor=FORWARD,
            ),
        )
    if legend:
        for row, (text, color) in enumerate(
            [("forward →", FORWARD), ("backward ⇢ (dashed)", BACKWARD)]
        ):
            ax.text(
                width - 0.1,
                height - 0.2 - 0.25 * row,
                text,
                ha="right",
                va="center",
                color=color,
                fontsize=FONT_PT,
                gid=f"legend {row}",
            )
    return fig


def _edge(ax, source, target, edge):
    """One edge: its forward arrow, backward twin and their labels."""
    dx, dy = target.x - source.x, target.y - source.y
    length = (dx * dx + dy * dy) ** 0.5
    ux, uy = dx / length, dy / length  # along the edge
    # the backward side: right of a mostly vertical edge, below another
    if abs(dy) > abs(dx):
        nx, ny = edge.side, 0
    else:
        nx, ny = 0, -edge.side
    start = (source.x + 0.25 * ux, source.y + 0.22 * uy)
    end = (target.x - 0.25 * ux, target.y - 0.22 * uy)
    forward = dict(arrowstyle="-|>", color=FORWARD, lw=1.3)
    ax.annotate("", end, start, arrowprops=forward)
    if edge.backward:  # no gradient, no backward arrow
        back_start = (end[0] + GAP * nx, end[1] + GAP * ny)
        back_end = (start[0] + GAP * nx, start[1] + GAP * ny)
        backward = dict(arrowstyle="-|>", color=BACKWARD, lw=1.3, ls="--")
        ax.annotate(
            "",
            back_end,
            back_start,
            arrowprops=backward,
            gid=f"arrow {edge.source}->{edge.target}",
        )
    middle = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
    for text, sign, color, kind in (
        (edge.backward, 1, BACKWARD, "backward"),
        (edge.forward, -1, FORWARD, "forward"),
    ):
        if not text:
            continue
        offset = 0.14 * sign
        x, y = middle[0] + offset * nx, middle[1] + offset * ny
        ax.text(
            x,
            y,
            text,
            color=color,
            fontsize=FONT_PT,
            ha=_align(sign * nx, "left", "right"),
            va=_align(sign * ny, "bottom", "top"),
            gid=f"{kind} {edge.source}->{edge.target}",
            zorder=2,
        )


def _align(component, positive, negative):
    if abs(component) < 0.3:
        return "center"
    return positive if component > 0 else negative


def drawn_labels(fig):
    """``{gid: text}`` of the texts :func:`draw` put in ``fig``.

    The gids are ``"node NAME"``, ``"forward SOURCE->TARGET"`` and
    ``"backward SOURCE->TARGET"``; each backward arrow, which has no text,
    is ``"arrow SOURCE->TARGET"``.
    """
    return {
        text.get_gid(): text.get_text()
        for text in fig.findobj(plt.Text)
        if text.get_gid() and text.get_text()  # not the arrows' gids
    }


# Problem 3 of chapter 8, forward from the top down: z1 = x ⋆ w1 (⋆ is
# F.conv2d, a correlation), a1 = relu(z1), z2 = a1 ⋆ w2, r = z2 ⋆ k - y at
# stride 32, L = ½ Σ r². The main column at x = 3, the weights to its left,
# y to its right.
_COLUMN, _ROW, _TOP = 3.0, 1.1, 5.85
PROBLEM3_NODES = [
    Node("x", _COLUMN, _TOP, "param"),
    Node("w1", 0.55, _TOP - _ROW, "param"),
    Node("z1", _COLUMN, _TOP - _ROW),
    Node("a1", _COLUMN, _TOP - 2 * _ROW),
    Node("w2", 0.55, _TOP - 3 * _ROW, "param"),
    Node("z2", _COLUMN, _TOP - 3 * _ROW),
    Node("k", 0.55, _TOP - 4 * _ROW, "param"),
    Node("y", 6.4, _TOP - 4 * _ROW, "param"),
    Node("r", _COLUMN, _TOP - 4 * _ROW),
    Node("L", _COLUMN, _TOP - 5 * _ROW, "loss"),
]
PROBLEM3_EDGES = [
    Edge(
        "x",
        "z1",
        "x ⋆ w1, padding 1",
        "∂L/∂x = conv2d_input(x.shape,\n  w1, ∂L/∂z1, padding 1)",
    ),
    Edge(
        "w1",
        "z1",
        "",
        "∂L/∂w1 = conv2d_weight(x,\n  w1.shape, ∂L/∂z1, padding 1)",
    ),
    Edge("z1", "a1", "ReLU", "∂L/∂z1 = ∂L/∂a1 · (z1 > 0): the mask"),
    Edge(
        "a1",
        "z2",
        "a1 ⋆ w2, padding 1",
        "∂L/∂a1 = conv2d_input(a1.shape,\n  w2, ∂L/∂z2, padding 1)",
    ),
    Edge(
        "w2",
        "z2",
        "",
        "∂L/∂w2 = conv2d_weight(a1,\n  w2.shape, ∂L/∂z2, padding 1)",
    ),
    Edge(
        "z2",
        "r",
        "z2 ⋆ k, stride 32",
        "∂L/∂z2 = conv2d_input(z2.shape,\n  k, r, stride 32)",
    ),
    Edge("k", "r", "not trained in problem 3"),
    Edge("y", "r", "minus y (data)", side=-1),
    Edge("r", "L", "½ Σ r²", "∂L/∂r = r"),
]


def problem3(width=6.8):
    """Problem 3's data flow, with the closed form of each backward step."""
    return draw(PROBLEM3_NODES, PROBLEM3_EDGES, width=width)
