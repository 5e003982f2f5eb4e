"""convnotes.chain: the three problems at their own sizes, against autograd."""

import functools

import pytest
import torch
from torch.autograd import gradcheck, gradgradcheck

from convnotes import chain, fast, grad
from convnotes.arguments import conv2d_args
from convnotes.exercises import check

# problem 3 three ways: plain (convnotes.grad), plain (convnotes.fast), tuned
PROBLEM3 = {
    "plain": chain.problem3,
    "plain-fast": functools.partial(chain.problem3, gradients=fast),
    "tuned": fast.problem3,
}


def forum_tensors(C_x, w1_out, dtype=torch.float64, size=128, seed=0):
    """The question's sizes: 8 images of 128x128, a 512x1x32x32 kernel.

    The kernel is applied at stride 32.
    """
    g = torch.Generator().manual_seed(seed)

    def make(*shape):
        return torch.randn(*shape, generator=g, dtype=dtype)

    x = make(8, C_x, size, size).requires_grad_()
    y = make(8, 512, size // 32, size // 32)
    k = make(512, 1, 32, 32)
    w1 = make(w1_out, C_x, 3, 3).requires_grad_()
    w2 = make(1, 32, 3, 3).requires_grad_()
    return x, y, k, w1, w2


def relative_errors(manual, reference):
    return [
        ((m - r).norm() / r.norm()).item()
        for m, r in zip(manual, reference, strict=True)
    ]


def test_problem1():
    x, y, k, _, _ = forum_tensors(1, 1)
    loss, grad_x = chain.problem1(x, k, y)
    (expected,) = torch.autograd.grad(loss, x)
    assert max(relative_errors([grad_x], [expected])) < 1e-12


def test_problem2():
    x, y, k, w1, _ = forum_tensors(32, 1)
    loss, *manual = chain.problem2(x, w1, k, y)
    expected = torch.autograd.grad(loss, (x, w1))
    assert max(relative_errors(manual, expected)) < 1e-12


@pytest.mark.parametrize("way", PROBLEM3)
def test_problem3(way):
    x, y, k, w1, w2 = forum_tensors(32, 32)
    loss, *manual = PROBLEM3[way](x, w1, w2, k, y)
    expected = torch.autograd.grad(loss, (x, w1, w2))
    assert max(relative_errors(manual, expected)) < 1e-12


@pytest.mark.parametrize("way", PROBLEM3)
def test_problem3_in_float32_as_the_question_ran_it(way):
    x, y, k, w1, w2 = forum_tensors(32, 32, dtype=torch.float32)
    loss, *manual = PROBLEM3[way](x, w1, w2, k, y)
    expected = torch.autograd.grad(loss, (x, w1, w2))
    assert max(relative_errors(manual, expected)) < 1e-5


@pytest.mark.parametrize("problem", ["problem2", *PROBLEM3])
def test_manual_gradients_are_differentiable(problem):
    """The manual gradients pass gradcheck and gradgradcheck in the weights."""
    torch.manual_seed(0)

    def make(*shape, grad=False):
        return torch.randn(*shape, dtype=torch.float64, requires_grad=grad)

    x, k, y = make(2, 3, 8, 8), make(5, 1, 4, 4), make(2, 5, 2, 2)
    if problem == "problem2":
        inputs = (make(1, 3, 3, 3, grad=True),)

        def manual(w1):
            return chain.problem2(x, w1, k, y, stride=4)[1:]
    else:
        inputs = (make(4, 3, 3, 3, grad=True), make(1, 4, 3, 3, grad=True))

        def manual(w1, w2):
            return PROBLEM3[problem](x, w1, w2, k, y, stride=4)[1:]

    assert gradcheck(manual, inputs)
    assert gradgradcheck(manual, inputs)


def test_tuned_problem3_keeps_a1_and_returns_dx_channels_last():
    """The layout the docstrings promise (it changes no number, just time)."""
    x, y, k, w1, w2 = forum_tensors(32, 32, size=64)
    with torch.no_grad():
        _, x_last, a1, r = fast.chain.problem3_forward(x, w1, w2, k, y)
        grad_x, _, _ = fast.chain.problem3_backward(x_last, w1, w2, k, a1, r)
    for t in (x_last, a1, grad_x):
        assert t.is_contiguous(memory_format=torch.channels_last)
        assert not t.is_contiguous()


def test_a_workspace_changes_no_result_and_keeps_its_memory():
    """Two steps share a workspace; the first step's results stay as they were.

    Each step's results must equal those of a step without a workspace, and
    the second step must write its temporaries where the first did.
    """
    first = [t.detach() for t in forum_tensors(32, 32, size=64, seed=1)]
    second = [t.detach() for t in forum_tensors(32, 32, size=64, seed=2)]
    workspace = fast.Workspace()

    def step(tensors, workspace):
        x, y, k, w1, w2 = tensors
        return fast.problem3(x, w1, w2, k, y, workspace=workspace)

    got_first = step(first, workspace)
    kept = {name: t.data_ptr() for name, t in workspace.kept.items()}
    assert set(kept) == {"x", "grad_a1", "mask"}
    got_second = step(second, workspace)
    assert {n: t.data_ptr() for n, t in workspace.kept.items()} == kept
    for tensors, got in [(first, got_first), (second, got_second)]:
        for g, e in zip(got, step(tensors, None), strict=True):
            assert torch.equal(g, e)
    results = {t.data_ptr() for t in (*got_first, *got_second)}
    assert results.isdisjoint(kept.values())


def test_a_workspace_makes_new_memory_for_new_sizes():
    workspace = fast.Workspace()
    like = torch.zeros(2, 3, 4, 5)
    kept = workspace.tensor("t", like, torch.channels_last)
    assert workspace.tensor("t", like, torch.channels_last) is kept
    assert kept.is_contiguous(memory_format=torch.channels_last)
    for other, layout in [
        (torch.zeros(2, 3, 4, 6), torch.channels_last),
        (like.double(), torch.channels_last),
        (like, torch.contiguous_format),
    ]:
        made = workspace.tensor("t", other, layout)
        assert made is not kept
        assert made.shape == other.shape and made.dtype == other.dtype
        assert made.is_contiguous(memory_format=layout)
        kept = made


def test_a_workspace_is_left_alone_while_autograd_records():
    """Any one input requiring a gradient is enough: here only w2 does."""
    x, y, k, w1, _ = (t.detach() for t in forum_tensors(4, 4, size=64))
    w2 = torch.randn(1, 4, 3, 3, dtype=torch.float64, requires_grad=True)
    workspace = fast.Workspace()
    _, _, grad_w1, _ = fast.problem3(x, w1, w2, k, y, workspace=workspace)
    assert grad_w1.requires_grad and not workspace.kept
    with torch.no_grad():
        fast.problem3(x, w1, w2, k, y, workspace=workspace)
    assert workspace.kept


def test_a_workspace_first_used_in_inference_mode_serves_later_calls():
    x, y, k, w1, _ = (t.detach() for t in forum_tensors(4, 4, size=64))
    w2 = torch.randn(1, 4, 3, 3, dtype=torch.float64)
    workspace = fast.Workspace()
    with torch.inference_mode():
        first = fast.problem3(x, w1, w2, k, y, workspace=workspace)
    assert not any(t.is_inference() for t in workspace.kept.values())
    with torch.no_grad():
        later = fast.problem3(x, w1, w2, k, y, workspace=workspace)
    for a, b in zip(first, later, strict=True):
        assert torch.equal(a, b)


def test_a_workspace_of_another_type_is_refused():
    x, y, k, w1, w2 = forum_tensors(4, 4, size=64)
    with pytest.raises(TypeError, match="workspace: expected .*dict"):
        fast.problem3(x, w1, w2, k, y, workspace={})


def stride2_gradients(x, w1, w2, mask=True, input_size=True, factor=2):
    """The exercise's answer, written with convnotes.grad only."""
    z1 = torch.nn.functional.conv2d(x, w1, padding=1)
    a1 = torch.nn.functional.relu(z1)
    z2 = torch.nn.functional.conv2d(a1, w2, stride=2)
    grad_z2 = factor * z2
    grad_w2 = grad.conv2d_weight(a1, w2.shape, grad_z2, stride=2)
    # without a1's own shape, the row and column no window read are lost
    size = a1.shape if input_size else (a1.shape[0], a1.shape[1], 7, 7)
    grad_a1 = grad.conv2d_input(size, w2, grad_z2, stride=2)
    grad_z1 = grad_a1 * (z1 > 0) if mask else grad_a1
    grad_w1 = grad.conv2d_weight(x, w1.shape, grad_z1, padding=1)
    grad_x = grad.conv2d_input(x.shape, w1, grad_z1, padding=1)
    return grad_x, grad_w1, grad_w2


def test_stride2_exercise_passes_the_answer_written_with_grad():
    feedback = check("ex-chain-stride2", stride2_gradients)
    assert feedback, feedback


def first_x_wrong(x, w1, w2):
    grad_x, grad_w1, grad_w2 = stride2_gradients(x, w1, w2)
    return grad_x.flip(-1), grad_w1, grad_w2


@pytest.mark.parametrize(
    ("wrong", "words"),
    [
        (functools.partial(stride2_gradients, factor=1), "half"),
        (functools.partial(stride2_gradients, factor=3), "grad_w2 (output"),
        (functools.partial(stride2_gradients, mask=False), "between z2 and"),
        (first_x_wrong, "check the last call"),
        (
            functools.partial(stride2_gradients, input_size=False),
            "raised",
        ),
        (lambda x, w1, w2: stride2_gradients(x, w1, w2)[::-1], "shape"),
    ],
)
def test_stride2_exercise_explains_a_wrong_answer(wrong, words):
    feedback = check("ex-chain-stride2", wrong)
    assert not feedback
    assert words in feedback.message, feedback.message
    # one fault, one message: the solution is not spelled out
    for solution in ("2 * z2", "stride=2", "a1.shape"):
        assert solution not in feedback.message, feedback.message


def by_autograd(x, w1, w2):
    x, w1, w2 = (t.clone().requires_grad_() for t in (x, w1, w2))
    z2 = torch.nn.functional.conv2d(
        torch.relu(torch.nn.functional.conv2d(x, w1, padding=1)),
        w2,
        stride=2,
    )
    return torch.autograd.grad(z2.pow(2).sum(), (x, w1, w2))


def inside_enable_grad(x, w1, w2):
    with torch.enable_grad():
        return by_autograd(x, w1, w2)


def by_backward(x, w1, w2):
    with torch.enable_grad():
        x, w1, w2 = (t.clone().requires_grad_() for t in (x, w1, w2))
        z2 = torch.nn.functional.conv2d(
            torch.relu(torch.nn.functional.conv2d(x, w1, padding=1)),
            w2,
            stride=2,
        )
        z2.pow(2).sum().backward()
        return x.grad, w1.grad, w2.grad


def by_torch_func(x, w1, w2):
    def loss(x, w1, w2):
        z1 = torch.nn.functional.conv2d(x, w1, padding=1)
        z2 = torch.nn.functional.conv2d(torch.relu(z1), w2, stride=2)
        return z2.pow(2).sum()

    return torch.func.grad(loss, argnums=(0, 1, 2))(x, w1, w2)


@pytest.mark.parametrize(
    "cheat", [by_autograd, inside_enable_grad, by_backward, by_torch_func]
)
def test_stride2_exercise_refuses_autograd_inside(cheat):
    """The check refuses autograd, even inside torch.enable_grad()."""
    feedback = check("ex-chain-stride2", cheat)
    assert not feedback
    assert "raised RuntimeError" in feedback.message, feedback.message
    assert "autograd is off" in feedback.message, feedback.message


def test_autograd_works_again_after_the_check():
    check("ex-chain-stride2", inside_enable_grad)
    x = torch.ones(2, requires_grad=True)
    (g,) = torch.autograd.grad((x * x).sum(), x)
    assert g.tolist() == [2.0, 2.0]


@pytest.mark.parametrize("kernel", [(1, 2), (3, 3), (2, 4)])
@pytest.mark.parametrize("padding", [0, 1, (1, 2), (3, 0)])
@pytest.mark.parametrize("dilation", [1, (2, 1)])
@pytest.mark.parametrize("layout", ["NCHW", "channels last"])
def test_conv2d_few_outputs_is_the_convolution(
    kernel, padding, dilation, layout
):
    """The tuned forward's product and fold give F.conv2d's output, in its
    layout (padding (3, 0) is more than the kernels reach)."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 13, 9, 8, generator=g, dtype=torch.float64)
    w = torch.randn(2, 13, *kernel, generator=g, dtype=torch.float64)
    if layout == "channels last":
        x = x.contiguous(memory_format=torch.channels_last)
    kwargs = dict(padding=padding, dilation=dilation)
    expected = torch.nn.functional.conv2d(x, w, **kwargs)
    args = conv2d_args(x, w, **kwargs)
    got = fast.chain.conv2d_few_outputs(x, w, args)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)
    assert got.stride() == expected.stride()


def test_conv2d_few_outputs_gives_one_channel_channels_last_strides():
    """One channel is stored alike in both layouts; the strides still say
    channels last, as F.conv2d's do, so that what reads it next keeps it."""
    x = torch.randn(2, 6, 5, 5, dtype=torch.float64)
    x = x.contiguous(memory_format=torch.channels_last)
    w = torch.randn(1, 6, 3, 3, dtype=torch.float64)
    got = fast.chain.conv2d_few_outputs(x, w, conv2d_args(x, w, padding=1))
    expected = torch.nn.functional.conv2d(x, w, padding=1)
    assert got.stride() == expected.stride() == (25, 1, 5, 1)
