"""convnotes.dataflow: problem 3's graph, every label drawn, text size."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from convnotes import dataflow  # noqa: E402
from convnotes.dataflow import Edge, Node  # noqa: E402
from convnotes.display import MIN_TEXT_PX, smallest_text_px  # noqa: E402


@pytest.fixture
def problem3():
    fig = dataflow.problem3()
    yield fig
    plt.close(fig)


def missing(fig, edges):
    """The edges whose labels ``fig`` does not draw as they were given."""
    labels = dataflow.drawn_labels(fig)
    return [
        (edge.source, edge.target)
        for edge in edges
        for kind in ("forward", "backward")
        if getattr(edge, kind)
        and labels.get(f"{kind} {edge.source}->{edge.target}")
        != getattr(edge, kind)
    ]


def test_problem3_draws_each_edge_with_its_label(problem3):
    assert missing(problem3, dataflow.PROBLEM3_EDGES) == []
    labels = dataflow.drawn_labels(problem3)
    for node in dataflow.PROBLEM3_NODES:
        assert labels[f"node {node.name}"] == node.name


def test_problem3_names_the_closed_forms_of_its_backward_pass():
    backward = {
        (e.source, e.target): " ".join(e.backward.split())
        for e in dataflow.PROBLEM3_EDGES
    }
    assert "conv2d_input(x.shape, w1, ∂L/∂z1" in backward["x", "z1"]
    assert "conv2d_weight(x, w1.shape, ∂L/∂z1" in backward["w1", "z1"]
    assert "(z1 > 0)" in backward["z1", "a1"]
    assert "conv2d_input(a1.shape, w2, ∂L/∂z2" in backward["a1", "z2"]
    assert "conv2d_weight(a1, w2.shape, ∂L/∂z2" in backward["w2", "z2"]
    assert "conv2d_input(z2.shape, k, r" in backward["z2", "r"]
    chain = [("x", "z1"), ("z1", "a1"), ("a1", "z2"), ("z2", "r"), ("r", "L")]
    assert set(chain) <= set(backward)


def without_their_convolutions_settings(edges):
    """The convolutions' gradients whose labels leave out padding or stride.

    Each gradient of a convolution is told the padding or stride that
    convolution used: its label must say so, as its forward label does.
    """
    return [
        (e.source, e.target)
        for e in edges
        if "conv2d_" in e.backward
        and not any(
            setting in e.backward and setting in forward.forward
            for setting in ("padding 1", "stride 32")
            for forward in edges
            if forward.target == e.target and forward.forward
        )
    ]


def test_each_convolution_gradient_names_its_padding_or_stride():
    edges = dataflow.PROBLEM3_EDGES
    assert without_their_convolutions_settings(edges) == []
    planted = [
        Edge(e.source, e.target, e.forward, "conv2d_input(w1, ∂L/∂z1)")
        if e.source == "x"
        else e
        for e in edges
    ]
    assert without_their_convolutions_settings(planted) == [("x", "z1")]


def backward_arrows(fig):
    """The edges ``SOURCE->TARGET`` that ``fig`` draws a backward arrow for."""
    return {
        artist.get_gid().removeprefix("arrow ")
        for artist in fig.findobj()
        if str(artist.get_gid()).startswith("arrow ")
    }


def test_only_edges_with_a_gradient_get_a_backward_arrow(problem3):
    edges = dataflow.PROBLEM3_EDGES
    with_gradient = {f"{e.source}->{e.target}" for e in edges if e.backward}
    assert backward_arrows(problem3) == with_gradient
    assert "k->r" not in with_gradient and "y->r" not in with_gradient
    assert len(with_gradient) == len(edges) - 2


def conv_labels_not_in_notation(edges):
    """The convolutions' forward labels not written as the book writes them.

    The Notation page writes ``F.conv2d`` as the correlation ``x ⋆ w``, the
    input first: the label of the edge from ``x`` starts ``x ⋆ ``.
    """
    convolutions = {("x", "z1"), ("a1", "z2"), ("z2", "r")}
    return [
        (e.source, e.target)
        for e in edges
        if (e.source, e.target) in convolutions
        and not e.forward.startswith(f"{e.source} ⋆ ")
    ]


def test_problem3_writes_its_convolutions_with_the_books_star():
    assert conv_labels_not_in_notation(dataflow.PROBLEM3_EDGES) == []
    planted = [
        Edge(e.source, e.target, "conv, padding 1") if e.target == "z1" else e
        for e in dataflow.PROBLEM3_EDGES
    ]
    assert conv_labels_not_in_notation(planted) == [("x", "z1")]


def test_a_label_dropped_or_changed_is_caught(problem3):
    """The check above fails on a planted fault: one label rewritten."""
    texts = {t.get_gid(): t for t in problem3.findobj(plt.Text)}
    texts["backward z1->a1"].set_text("∂L/∂z1 = ∂L/∂a1")  # no mask
    texts["forward a1->z2"].set_gid(None)  # no longer the edge's label
    assert missing(problem3, dataflow.PROBLEM3_EDGES) == [
        ("z1", "a1"),
        ("a1", "z2"),
    ]


def test_text_is_large_enough_and_inside_the_figure(problem3):
    assert problem3.get_size_inches()[0] <= 6.8
    assert smallest_text_px(problem3) >= MIN_TEXT_PX
    renderer = problem3.canvas.get_renderer()
    frame = problem3.bbox
    boxes = []
    for text in problem3.findobj(plt.Text):
        if not text.get_text().strip():
            continue
        box = text.get_window_extent(renderer)
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1, text.get_text()
        assert frame.y0 <= box.y0 and box.y1 <= frame.y1, text.get_text()
        boxes.append((text.get_text(), box))
    for i, (a, box_a) in enumerate(boxes):
        for b, box_b in boxes[i + 1 :]:
            assert not box_a.overlaps(box_b), (a, b)


def test_small_text_is_caught():
    """A planted fault: a label at 6 pt is below the rule."""
    fig = dataflow.problem3()
    label = [t for t in fig.findobj(plt.Text) if t.get_gid() and t.get_text()][
        0
    ]
    label.set_fontsize(6)
    assert smallest_text_px(fig) < MIN_TEXT_PX
    plt.close(fig)


def test_draws_any_small_chain():
    nodes = [Node("u", 1, 1.5, "param"), Node("v", 3, 1.5), Node("L", 3, 0.4)]
    edges = [
        Edge("u", "v", "square", "2u · ∂L/∂v"),
        Edge("v", "L", "sum", "ones"),
    ]
    fig = dataflow.draw(nodes, edges, width=4)
    assert missing(fig, edges) == []
    assert fig.get_size_inches()[0] == 4
    plt.close(fig)


@pytest.mark.parametrize(
    ("nodes", "edges", "width", "message"),
    [
        ([Node("u", 1, 1)], [Edge("u", "w")], 4, "'w', which is not a node"),
        ([Node("u", 1, 1), Node("u", 2, 1)], [], 4, "two nodes are named"),
        ([Node("u", 1, 1, "weight")], [], 4, "kind='weight'"),
        ([Node("u", 1, 1)], [], 7.5, "width=7.5"),
    ],
)
def test_bad_input_names_the_argument(nodes, edges, width, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        dataflow.draw(nodes, edges, width=width)
