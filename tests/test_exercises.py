"""convnotes.exercises: a right answer passes, a wrong one is explained.

An answer still holding a ``...`` gets "not yet" and its exercise's hint,
which gives no part of the answer away.
"""

import re

import nbformat
import pytest
import torch
import torch.nn.functional as F
from test_chain import stride2_gradients
from test_layers import last_max, max_pool_backward, with_unfold

import myst_solutions
from conftest import ROOT
from convnotes import chain, checking, exercises, grad
from convnotes.exercises import HINTS, check

# exercises whose answer is a measurement or a validation the learner runs
# against PyTorch themselves: they have no checker, and say so
UNCHECKED = {"ex-validate-two-layers", "ex-validate-cost", "ex-fast-budget"}


def grad_weight(x, g, kH, kW):
    H_out, W_out = g.shape
    return torch.stack(
        [
            torch.stack(
                [
                    (g * x[u : u + H_out, v : v + W_out]).sum()
                    for v in range(kW)
                ]
            )
            for u in range(kH)
        ]
    )


def conv2d_positions(x, w):
    kH, kW = w.shape[2:]
    H_out, W_out = x.shape[2] - kH + 1, x.shape[3] - kW + 1
    y = x.new_zeros(x.shape[0], w.shape[0], H_out, W_out)
    for i in range(H_out):
        for j in range(W_out):
            patch = x[:, :, i : i + kH, j : j + kW]
            y[:, :, i, j] = torch.einsum("ncuv,ocuv->no", patch, w)
    return y


def conv1x1(x, w):
    N, C_in, H, W = x.shape
    return (w.view(w.shape[0], C_in) @ x.view(N, C_in, H * W)).view(
        N, -1, H, W
    )


def grad_input_fold(grad_output, w, input_size):
    N, C_out = grad_output.shape[:2]
    cols = w.view(C_out, -1).t() @ grad_output.view(N, C_out, -1)
    return F.fold(cols, input_size, w.shape[2:])


def weight_grad_1x1(x, g):
    return (g.flatten(2) @ x.flatten(2).transpose(1, 2)).sum(0)


def input_gradient(g, w):
    kH, kW = w.shape[2:]
    padded = F.pad(g, (kW - 1, kW - 1, kH - 1, kH - 1))
    return F.conv2d(padded, w.transpose(0, 1).flip(-1, -2))


def pixel_gradient(images, kernels, measured, offset=(4, 10)):
    """A right function for ex-chain-block: the sum over the kernels."""
    residual = F.conv2d(images, kernels, stride=32) - measured
    return (residual[0, :, 3, 0] * kernels[:, 0, offset[0], offset[1]]).sum()


def pixel_gradient_by_autograd(images, kernels, measured):
    x = images.clone().requires_grad_()
    r = F.conv2d(x, kernels, stride=32) - measured
    return torch.autograd.grad(0.5 * r.pow(2).sum(), x)[0][0, 0, 100, 10]


def pixel_gradient_transposed(images, kernels, measured):
    residual = F.conv2d(images, kernels, stride=32) - measured
    return F.conv_transpose2d(residual, kernels, stride=32)[0, 0, 100, 10]


def pixel_gradient_torch_transposed(images, kernels, measured):
    residual = F.conv2d(images, kernels, stride=32) - measured
    return torch.conv_transpose2d(residual, kernels, stride=32)[0, 0, 100, 10]


def max_pool_by_autograd(x, grad_output):
    """Autograd through a gather, with grad mode switched back on."""
    with torch.enable_grad():
        x = x.clone().requires_grad_()
        N, C, H, W = x.shape
        windows = x.view(N, C, H // 2, 2, W // 2, 2).permute(0, 1, 2, 4, 3, 5)
        windows = windows.reshape(N, C, H // 2, W // 2, 4)
        first = windows.detach().argmax(-1, keepdim=True)
        out = windows.gather(-1, first).squeeze(-1)
        return torch.autograd.grad(out, x, grad_output)[0]


def problem3_leaky(x, w1, w2, k, y, stride, slope=0.1):
    z1 = F.conv2d(x, w1, padding=1)
    a1 = F.leaky_relu(z1, slope)
    z2 = F.conv2d(a1, w2, padding=1)
    r = F.conv2d(z2, k, stride=stride) - y
    grad_z2 = grad.conv2d_input(z2.shape, k, r, stride=stride)
    grad_w2 = grad.conv2d_weight(a1, w2.shape, grad_z2, padding=1)
    grad_a1 = grad.conv2d_input(a1.shape, w2, grad_z2, padding=1)
    grad_z1 = grad_a1 * torch.where(z1 > 0, 1.0, slope)
    grad_w1 = grad.conv2d_weight(x, w1.shape, grad_z1, padding=1)
    grad_x = grad.conv2d_input(x.shape, w1, grad_z1, padding=1)
    return 0.5 * r.pow(2).sum(), grad_x, grad_w1, grad_w2


def bias_gradient(x, w1, b1, k, y, stride):
    z = F.conv2d(x, w1, b1, padding=1)
    r = F.conv2d(z, k, stride=stride) - y
    return grad.conv2d_bias(grad.conv2d_input(z.shape, k, r, stride=stride))


def gaussian_blur(x, sigma, radius, dtype=None):
    t = torch.arange(-radius, radius + 1, dtype=dtype or x.dtype)
    line = torch.exp(-(t**2) / (2 * sigma**2))
    line = line / line.sum()
    size = 2 * radius + 1
    rows = F.conv2d(x, line.view(1, 1, size, 1), padding=(radius, 0))
    return F.conv2d(rows, line.view(1, 1, 1, size), padding=(0, radius))


def gaussian_blur_2d(x, sigma, radius):
    """The right values, but from one 2-D convolution."""
    t = torch.arange(-radius, radius + 1, dtype=x.dtype)
    line = torch.exp(-(t**2) / (2 * sigma**2))
    square = torch.outer(line, line) / line.sum() ** 2
    return F.conv2d(x, square.view(1, 1, *square.shape), padding=radius)


def box_blur():
    blurred = torch.zeros(5, 5)
    blurred[1:4, 1:4] = 1
    return blurred


def output_entry(x, weight, bias, n, o, i, j):
    kH, kW = weight.shape[2:]
    return bias[o] + (weight[o] * x[n, :, i : i + kH, j : j + kW]).sum()


def tiled_conv2d(x, weight):
    """A right answer to ex-fast-tiles: the convolution, one product."""
    N, C_in, H, W = x.shape
    C_out, _, kH, kW = weight.shape
    H_out, W_out = H // kH, W // kW
    reached = x[:, :, : H_out * kH, : W_out * kW]  # what the windows read
    tiles = reached.reshape(N, C_in, H_out, kH, W_out, kW)
    tiles = tiles.permute(0, 2, 4, 1, 3, 5).reshape(-1, C_in * kH * kW)
    rows = tiles @ weight.reshape(C_out, -1).T  # (pixels, C_out)
    return rows.view(N, H_out, W_out, C_out).permute(0, 3, 1, 2)


class Conv2dClosed(torch.autograd.Function):
    """A right answer to ex-closed-function, through convnotes.grad."""

    @staticmethod
    def forward(ctx, x, w, stride, dilation):
        ctx.save_for_backward(x, w)
        ctx.settings = dict(stride=stride, dilation=dilation)
        return F.conv2d(x, w, **ctx.settings)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        grad_x = grad.conv2d_input(x.shape, w, g, **ctx.settings)
        grad_w = grad.conv2d_weight(x, w.shape, g, **ctx.settings)
        return grad_x, grad_w, None, None


def conv2d_closed(x, w, stride=1, dilation=1):
    return Conv2dClosed.apply(x, w, stride, dilation)


def raises(*args):
    raise RuntimeError("not written yet")


# label: (a right answer, [(a typical wrong answer, words its feedback has)])
CASES = {
    "ex-fast-blocks": (
        (294912, 10, 26),
        [
            ((73728, 10, 26), "is 73728, not the right value"),
            ((294912, 8, 26), "number of blocks is 8, not the right value"),
            ((294912, 10, 28), "output rows is 28, not the right value"),
        ],
    ),
    "ex-fast-tiles": (
        tiled_conv2d,
        [
            (lambda x, w: 2 * tiled_conv2d(x, w), "the result"),
            (
                lambda x, w: F.conv2d(x, w, stride=w.shape[2:]),
                "functional.conv2d: cut the input into tiles",
            ),
            (
                lambda x, w: torch.conv2d(x, w, stride=w.shape[2:]),
                "torch.conv2d: cut the input into tiles",
            ),
            (
                lambda x, w: torch.convolution(
                    x, w, None, w.shape[2:], (0, 0), (1, 1), False, (0, 0), 1
                ),
                "torch.convolution: cut the input into tiles",
            ),
            (
                lambda x, w: torch._convolution(
                    x,
                    w,
                    None,
                    w.shape[2:],
                    (0, 0),
                    (1, 1),
                    False,
                    (0, 0),
                    1,
                    False,
                    False,
                    True,
                    True,
                ),
                "torch._convolution: cut the input into tiles",
            ),
            (
                lambda x, w: torch.ops.aten.convolution(
                    x, w, None, w.shape[2:], (0, 0), (1, 1), False, (0, 0), 1
                ),
                "torch.ops.aten.convolution: cut the input into tiles",
            ),
        ],
    ),
    "ex-hand-arange": (
        [[8, 12], [20, 24]],
        [
            ([[8, 12], [20, 23]], "w.grad[1, 1] is 23, not the right value"),
            (torch.ones(3, 3), "shape (3, 3), expected (2, 2)"),
            ("8 12 20 24", "tensor or a nested list"),
        ],
    ),
    "ex-hand-centre": (
        (45, 1, 3),
        [
            ((9, 1, 2), "centre's gradient is 9, not the right value"),
            (36, "tuple of 3"),
        ],
    ),
    "ex-hand-implement": (
        grad_weight,
        [
            (lambda x, g, kH, kW: grad_weight(x, g, kH, kW).t(), "has shape"),
            (raises, "raised RuntimeError: not written yet"),
            (42, "pass the function itself"),
        ],
    ),
    "ex-channels-stride-unused": (
        (2, [(5, c) for c in range(6)] + [(r, 5) for r in range(5)]),
        [
            ((2, [(5, c) for c in range(6)]), "pixel (0, 5) gets no gradient"),
            ((2, [(4, 4), (5, 5)]), "gets no gradient"),
            ((3, []), "output size is 3, not the right value"),
        ],
    ),
    "ex-channels-weight-grad": (
        9
        * F.avg_pool2d(torch.arange(75.0).view(1, 3, 5, 5)[:, 2:3], 3, 1)[
            0, 0
        ],
        [
            (
                9
                * F.avg_pool2d(
                    torch.arange(75.0).view(1, 3, 5, 5)[:, 1:2], 3, 1
                )[0, 0],
                "weight.grad[1, 2][0, 0] is",
            )
        ],
    ),
    "ex-channels-same-even": (
        (1, 2, 1, 2),
        [
            ((2, 1, 2, 1), "other side from the"),
            ((1, 1, 1, 1), "is 1, not the right value"),
        ],
    ),
    "ex-size-stem": (
        (112, 56),
        [((113, 57), "113, not the right value"), (112, "tuple")],
    ),
    "ex-size-stride32": (
        (4, (128, 159), 22),
        [
            ((4, (128, 160), 22), "largest input size is 160"),
            ((4, (128, 159), 0), "output_padding is 0, not the right value"),
        ],
    ),
    "ex-size-dilated-same": (
        (4, (1, 2)),
        [
            ((2, (1, 2)), "padding is 2, not the right value"),
            ((4, (2, 1)), "before is 2"),
        ],
    ),
    "ex-loops-predict": (
        (torch.full((2, 2), 4.0), [[1, 2, 1], [2, 4, 2], [1, 2, 1]]),
        [
            ((torch.ones(2, 2), torch.ones(3, 3)), "grad_weight[0, 0] is 1"),
            (
                (torch.full((2, 2), 4.0), torch.ones(3, 3)),
                "grad_input[0, 1] is 1",
            ),
        ],
    ),
    "ex-loops-dead-pixels": (
        [2, 5, 6],
        [([2, 5], "you gave [2, 5]"), (7, "indices")],
    ),
    "ex-loops-positions": (
        conv2d_positions,
        [
            (
                lambda x, w: conv2d_positions(x, w) + 1e-3,
                "the result[0, 0, 0, 0] is",
            )
        ],
    ),
    "ex-unfold-shape": (
        ((16, 75, 1024), 25),
        [(((16, 3, 1024), 1), "the shape[1] is 3, not the right value")],
    ),
    "ex-unfold-1x1": (
        conv1x1,
        [(lambda x, w: conv1x1(x, w.transpose(0, 1)), "raised RuntimeError")],
    ),
    "ex-unfold-implement": (
        grad_input_fold,
        [(lambda g, w, size: grad_input_fold(g, w, size) * 2, "the result")],
    ),
    "ex-validate-bias": (
        0.125,
        [(1.0, "is 1, not the right value"), (torch.ones(3), "one number")],
    ),
    "ex-closed-full": ((4, 28), [((4, 32), "is 32, not the right value")]),
    "ex-closed-1x1": (
        weight_grad_1x1,
        [(lambda x, g: weight_grad_1x1(x, g).t(), "has shape")],
    ),
    "ex-closed-implement": (
        input_gradient,
        [
            (
                lambda g, w: input_gradient(g, w.flip(-1, -2)),
                "Hint: pad g by kH - 1 rows and kW - 1 columns",
            ),
            (
                lambda g, w: torch.conv_transpose2d(g, w),
                "torch.conv_transpose2d: use only F.pad",
            ),
            (
                lambda g, w: grad.input_grad_flipped(g, w),
                "convnotes.grad.input_grad_flipped: use only F.pad",
            ),
            (
                lambda g, w: F.conv_transpose2d(g, w),
                "functional.conv_transpose2d: use only F.pad",
            ),
        ],
    ),
    "ex-chain-block": (
        ((3, 0), (4, 10), pixel_gradient),
        [
            (((3, 0), (10, 4), pixel_gradient), "the offset[0] is 10"),
            (((3, 0), (4, 10)), "pass a tuple of 3"),
            (((3, 0), (4, 10), 1.5), "the function itself, got float"),
            (
                (
                    (3, 0),
                    (4, 10),
                    lambda *t: pixel_gradient(*t, offset=(10, 4)),
                ),
                "pixel_gradient's value",
            ),
            (((3, 0), (4, 10), pixel_gradient_by_autograd), "autograd"),
            (
                (
                    (3, 0),
                    (4, 10),
                    lambda *t: chain.problem1(*t)[1][0, 0, 100, 10],
                ),
                "convnotes.chain.problem1: write the gradient",
            ),
            (
                ((3, 0), (4, 10), pixel_gradient_transposed),
                "torch.nn.functional.conv_transpose2d",
            ),
            (
                ((3, 0), (4, 10), pixel_gradient_torch_transposed),
                "torch.conv_transpose2d: write the gradient",
            ),
        ],
    ),
    "ex-chain-leaky": (
        problem3_leaky,
        [
            (
                lambda *args: chain.problem3(*args),  # the plain ReLU's mask
                "output 0 is",
            ),
            (
                lambda *args: problem3_leaky(*args)[1:],
                "returned 3 values, expected 4",
            ),
        ],
    ),
    "ex-chain-bias": (
        bias_gradient,
        [(lambda *args: -bias_gradient(*args), "the result[0] is")],
    ),
    "ex-intro-shapes": (
        (8, 16, 28, 28),
        [((8, 3, 28, 28), "the shape[1] is 3, not the right value")],
    ),
    "ex-intro-weight": (
        ((16, 3, 5, 3), 736),
        [
            (((16, 3, 5, 3), 720), "Hint: add the bias"),
            (((3, 16, 5, 3), 736), "OIHW"),
        ],
    ),
    "ex-intro-entry": (
        output_entry,
        [
            (
                lambda x, w, b, n, o, i, j: output_entry(x, w, b, n, o, j, i),
                "the result",
            )
        ],
    ),
    "ex-apps-sobel-step": (
        (4, 4, 0),
        [
            ((-4, 4, 0), "column 4 is -4, not the right value"),
            ((-4, -4, 0), "you flipped the kernel"),
        ],
    ),
    "ex-apps-box": (
        box_blur(),
        [(torch.eye(5), "the blurred image[0, 0] is 1, not the right value")],
    ),
    "ex-apps-crawl": (
        (1 - 1 / 2009) ** 1500,
        [
            (1 - 1500 / 2009, "they do not add up"),
            (1 / 2009, "the fraction left is 0.000497"),
            ("half", "should be a number"),
        ],
    ),
    "ex-apps-separable": (
        gaussian_blur,
        [
            (
                lambda x, sigma, radius: gaussian_blur(x, sigma, radius) * 1.1,
                "normalise the 1-D kernel",
            ),
            (
                lambda x, sigma, radius: gaussian_blur(x, sigma, 0),
                "the result",
            ),
            (
                lambda x, sigma, radius: gaussian_blur(
                    x, sigma, radius, dtype=torch.float32
                ),
                "build the kernel with dtype=x.dtype",
            ),
            (gaussian_blur_2d, "not one 2-D kernel"),
        ],
    ),
    "ex-chain-stride2": (
        stride2_gradients,
        [(lambda x, w1, w2: stride2_gradients(x, w1, w2)[::-1], "shape")],
    ),
    "ex-closed-function": (
        conv2d_closed,
        [
            (
                lambda x, w, s, d: F.conv2d(x, w, stride=s, dilation=d),
                "not made by a torch.autograd.Function",
            )
        ],
    ),
    "ex-beyond-receptive": (
        (42, 4),
        [((47, 4), "the size is 47"), ((42, 8), "the jump is 8")],
    ),
    "ex-beyond-separable": (
        (90316800, 4083072),
        [((90316800, 4553472), "the separable count is 4,553,472")],
    ),
    "ex-beyond-maxpool": (
        max_pool_backward,
        [
            (last_max, "the result"),
            (with_unfold, "functional.unfold"),
            (max_pool_by_autograd, "autograd is off"),
        ],
    ),
}


def test_every_checker_is_tested():
    assert set(CASES) == set(exercises.CHECKERS)


@pytest.mark.parametrize("label", sorted(CASES))
def test_a_right_answer_passes(label):
    feedback = check(label, CASES[label][0])
    assert feedback, feedback
    assert repr(feedback).startswith(f"✓ {label}: ")


@pytest.mark.parametrize(
    ("label", "wrong", "words"),
    [
        (label, wrong, words)
        for label, (_, cases) in CASES.items()
        for wrong, words in cases
    ],
)
def test_a_typical_wrong_answer_is_explained(label, wrong, words):
    feedback = check(label, wrong)
    assert not feedback
    assert repr(feedback).startswith(f"✗ {label}: ")
    assert words in feedback.message, feedback.message
    assert not feedback.message.startswith("not yet"), feedback.message


def test_apps_separable_wants_two_1d_convolutions_and_restores_conv2d():
    conv2d_before = torch.conv2d
    refused = check("ex-apps-separable", gaussian_blur_2d)
    assert not refused
    assert "kernels of size 7×7" in refused.message, refused.message
    assert check("ex-apps-separable", gaussian_blur)

    def columns_then_rows(x, sigma, radius):
        t = torch.arange(-radius, radius + 1, dtype=x.dtype)
        line = torch.exp(-(t**2) / (2 * sigma**2))
        line = (line / line.sum()).view(1, 1, 1, -1)
        cols = F.conv2d(x, line, padding=(0, radius))
        return F.conv2d(cols, line.transpose(-1, -2), padding=(radius, 0))

    assert check("ex-apps-separable", columns_then_rows)
    assert F.conv2d is torch.conv2d  # the counting wrapper is gone

    def by_torch_conv2d(x, sigma, radius):  # the same, under its other name
        t = torch.arange(-radius, radius + 1, dtype=x.dtype)
        line = torch.exp(-(t**2) / (2 * sigma**2))
        line = (line / line.sum()).view(1, 1, -1, 1)
        rows = torch.conv2d(x, line, padding=(radius, 0))
        return torch.conv2d(rows, line.transpose(-1, -2), padding=(0, radius))

    assert check("ex-apps-separable", by_torch_conv2d)
    assert torch.conv2d is conv2d_before


def test_an_unknown_label_lists_the_known_ones():
    with pytest.raises(
        ValueError, match="no exercise with label='ex-nope'.*ex-size-stem"
    ):
        check("ex-nope", 1)


def book_exercises():
    """{label: exercise text} for every exercise in the book."""
    found = {}
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            found.update(myst_solutions.exercises(cell.source))
    return found


def test_every_exercise_has_a_checker_and_says_how_to_call_it():
    found = book_exercises()
    assert set(exercises.CHECKERS) | UNCHECKED == set(found)
    for label, text in found.items():
        if label in UNCHECKED:
            continue
        assert f'check("{label}"' in text, (
            f"{label} does not show its check call"
        )


def test_every_checker_has_its_own_hint():
    assert set(HINTS) == set(exercises.CHECKERS)
    short = {label: hint for label, hint in HINTS.items() if len(hint) < 60}
    assert not short, f"hints too short to help: {short}"
    assert len(set(HINTS.values())) == len(HINTS), "two exercises share a hint"


def test_a_checker_without_a_hint_is_refused():
    with pytest.raises(TypeError, match="hint"):
        checking.checker("ex-planted-no-hint")
    with pytest.raises(ValueError, match="label='ex-planted'.*hint='  '"):
        checking.checker("ex-planted", hint="  ")
    assert "ex-planted" not in exercises.CHECKERS


@pytest.mark.parametrize("label", sorted(CASES))
def test_a_placeholder_answer_is_not_yet_and_gets_the_hint(label):
    feedback = check(label, ...)
    assert not feedback
    assert repr(feedback).startswith(f"✗ {label}: not yet"), feedback
    assert feedback.message.endswith(f"Hint: {HINTS[label]}"), feedback


@pytest.mark.parametrize(
    ("label", "answer"),
    [
        ("ex-size-stride32", (4, (128, ...), 22)),
        ("ex-hand-arange", [[8, 12], [20, ...]]),
        ("ex-chain-block", ((3, 0), [4, (...)], ...)),
        ("ex-channels-stride-unused", (2, [(5, 0), (5, ...)])),
        ("ex-apps-separable", (..., 1)),
    ],
)
def test_a_placeholder_at_any_depth_is_not_yet(label, answer):
    feedback = check(label, answer)
    assert repr(feedback) == (
        f"✗ {label}: not yet: replace each ... with your answer. "
        f"Hint: {HINTS[label]}"
    )


def test_what_is_not_a_placeholder_is_checked():
    assert not checking.unanswered((112, [56, None], "..."))
    assert not checking.unanswered(torch.ones(2, 2))
    looped = [1, 2]
    looped.append(looped)  # a list that holds itself is looked at once
    assert not checking.unanswered(looped)
    looped.append(...)
    assert checking.unanswered(looped)
    feedback = check("ex-size-stem", (113, 56))
    assert feedback.message.startswith("the size after the 7×7 layer is 113")


NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?!\w|\.\d)")


def numbers(value):
    """The numbers of an answer, flattened: tuples, lists and tensors."""
    if isinstance(value, torch.Tensor):
        return set(value.flatten().tolist())
    if isinstance(value, tuple | list):
        return set().union(*map(numbers, value))
    return {value} if isinstance(value, int | float) else set()


def reduced(text):
    return re.sub(r"[\W_]+", "", text).lower()


def book_solutions():
    """{label: the code of its solution} for every exercise in the book."""
    found = {}
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for label, _, code in myst_solutions.solutions(cell.source):
                found[label] = code
    return found


def leaks(label, hint, texts=None, codes=None):
    """What ``hint`` gives away of the answer to ``label``.

    A number of the right answer that the exercise's text does not state
    (0 and 1 are everywhere in formulas), and any expression of the
    solution's code (a line without its ``return`` or ``name =``).
    """
    texts = texts or book_exercises()
    codes = codes or book_solutions()
    stated = {float(n) for n in NUMBER.findall(texts[label])} | {0.0, 1.0}
    said = {float(n) for n in NUMBER.findall(hint)}
    found = sorted(numbers(CASES[label][0]) & said - stated)
    for line in codes[label].splitlines():
        line = re.sub(r"#.*", "", line)
        line = re.sub(r"^\s*(return\s+|[\w\[\], ]+=(?!=))", "", line)
        if len(reduced(line)) >= 12 and reduced(line) in reduced(hint):
            found.append(line.strip())
    return found


def test_no_hint_gives_the_answer_away():
    texts, codes = book_exercises(), book_solutions()
    found = {
        label: leaked
        for label, hint in HINTS.items()
        if (leaked := leaks(label, hint, texts, codes))
    }
    assert not found, found


@pytest.mark.parametrize(
    ("label", "hint", "leaked"),
    [
        ("ex-size-stem", "the sizes are 112.0 and then 56.", [56, 112]),
        ("ex-hand-centre", "sum all of w: 45.", [45]),
        (
            "ex-intro-entry",
            "bias[o] + (weight[o] * x[n, :, i:i + kH, j:j + kW]).sum().",
            ["bias[o] + (weight[o] * x[n, :, i : i + kH, j : j + kW]).sum()"],
        ),
    ],
)
def test_a_hint_that_gives_the_answer_away_is_caught(label, hint, leaked):
    assert leaks(label, hint) == leaked


def test_a_wrong_prediction_is_not_told_the_answer():
    with pytest.raises(checking.Wrong) as wrong:
        checking.number(113, 112, "the size", hint="count the windows")
    assert "112" not in str(wrong.value)
    assert "113" in str(wrong.value) and "count the windows" in str(
        wrong.value
    )
    with pytest.raises(checking.Wrong) as wrong:
        checking.tensor([[1.0, 7.0]], [[1.0, 2.0]], "w.grad")
    assert "w.grad[0, 1] is 7" in str(wrong.value)
    assert "2" not in str(wrong.value).replace("w.grad[0, 1]", "")


def test_a_wrong_function_is_told_the_expected_entry():
    def reference(t):
        return t * 2

    with pytest.raises(checking.Wrong, match=r"is 3, expected 4"):
        checking.function(
            lambda t: t + 1, reference, [(torch.ones(1) * 2,)], "f"
        )


def test_a_large_count_is_shown_with_its_digits_and_checked_exactly():
    with pytest.raises(checking.Wrong, match=r"is 4,553,472, not the right"):
        checking.number(4553472, 4083072, "the count", tol=0)
    with pytest.raises(checking.Wrong, match=r"is 2\.5, not the right"):
        checking.number(2.5, 2, "the size")
    result = exercises.check("ex-beyond-separable", (90316800.5, 4083072))
    assert not result.passed and "full convolution" in result.message


def test_ruled_out_refuses_inside_and_puts_back_even_on_error():
    unfold, grad_input = F.unfold, torch.nn.grad.conv2d_input
    with pytest.raises(ZeroDivisionError):
        with checking.ruled_out(torch.nn.grad, ("conv2d_input",), "not it"):
            with pytest.raises(
                RuntimeError, match="grad.conv2d_input: not it"
            ):
                torch.nn.grad.conv2d_input((1, 1, 3, 3), None, None)
            assert F.unfold is unfold  # only what was named
            raise ZeroDivisionError  # an error in the block
    assert torch.nn.grad.conv2d_input is grad_input


def test_ruled_out_refuses_the_same_function_under_its_other_name():
    conv2d, unfold = torch.conv2d, F.unfold
    assert F.conv2d is conv2d  # one function, two names
    with checking.ruled_out(F, ("conv2d", "unfold"), "not it"):
        with pytest.raises(RuntimeError, match="^torch.conv2d: not it"):
            torch.conv2d(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 1, 1))
        with pytest.raises(
            RuntimeError, match="^torch.nn.functional.conv2d: not it"
        ):
            F.conv2d(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 1, 1))
        assert not hasattr(torch, "unfold")  # F.unfold has no other name
    assert torch.conv2d is conv2d and F.conv2d is conv2d
    assert F.unfold is unfold


def test_replaced_puts_one_function_in_place_under_all_its_names():
    conv2d, unfold = torch.conv2d, F.unfold

    def stand_in(*args, **kwargs):
        return "stand-in"

    with pytest.raises(ZeroDivisionError):
        with checking.replaced(F, "conv2d", stand_in):
            assert F.conv2d is stand_in and torch.conv2d is stand_in
            assert F.unfold is unfold  # only what was named
            raise ZeroDivisionError  # an error in the block
    assert torch.conv2d is conv2d and F.conv2d is conv2d
