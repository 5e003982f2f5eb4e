"""The checkers of chapter 7's exercises (closed-form gradients)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .. import grad
from ..checking import (
    Wrong,
    checker,
    function,
    number,
    parts,
    random,
    ruled_out,
)


@checker(
    "ex-closed-full",
    hint=(
        "write the three outputs, y[i] = w[0]·x[i] + w[1]·x[i+1] + "
        "w[2]·x[i+2]; a sample's gradient adds g[i] times the weight it "
        "meets, over every output that reads it."
    ),
)
def _(answer):
    """(input gradient of samples 0 and 2) for g = (1, 2, 3), w = (4, 5, 6)."""
    first, middle = parts(answer, 2, "(sample 0, sample 2)")
    number(
        first,
        4,
        "sample 0's gradient",
        "find the outputs whose sums contain x[0], and the weight each "
        "multiplies it by.",
    )
    number(
        middle,
        28,
        "sample 2's gradient",
        "find every output whose sum contains x[2]; each adds its g[i] "
        "times the weight that meets x[2] there.",
    )
    return "right: g[0]·w[0] = 4 and g[0]·w[2] + g[1]·w[1] + g[2]·w[0] = 28."


@checker(
    "ex-closed-1x1",
    hint=(
        "start from the formula for ∂L/∂w[o, c, u, v] with a batch and "
        "channels in 'The weight gradient: stride and dilation trade "
        "places': with a 1×1 kernel, stride 1 and no padding, which (u, v) "
        "are left, and which pixel does each term read? Tensor.flatten and "
        "a batched @ are all it takes."
    ),
)
def _(answer):
    """A function ``weight_grad_1x1(x, g)`` returning ``(C_out, C_in)``."""

    def reference(x, g):
        return grad.conv2d_weight(x, (g.shape[1], x.shape[1], 1, 1), g)[
            :, :, 0, 0
        ]

    cases = [
        (random(2, 3, 4, 5, seed=1), random(2, 6, 4, 5, seed=2)),
        (random(1, 1, 2, 2, seed=3), random(1, 2, 2, 2, seed=4)),
    ]
    return function(
        answer,
        reference,
        cases,
        "weight_grad_1x1",
        "the result is (C_out, C_in), one matrix summed over the images; "
        "check that your product pairs output channels with input "
        "channels over the pixels, and over which dimension you sum.",
    )


@checker(
    "ex-closed-implement",
    hint=(
        "read 'Stride 1: a full correlation with the flipped kernel': how "
        "much padding does g need so that every input pixel gets all the "
        "windows that read it, and what happens to the kernel (its taps and "
        "its two channel dimensions)?"
    ),
)
def _(answer):
    """A function ``input_gradient(g, w)``: stride 1, no padding, F.conv2d."""

    transposed = F.conv_transpose2d  # kept: the answer runs without it

    def reference(g, w):  # stride 1, no padding: the transposed convolution
        return transposed(g, w)

    cases = [
        (random(2, 4, 5, 5, seed=1), random(4, 3, 3, 2, seed=2)),
        (random(1, 1, 3, 4, seed=3), random(1, 2, 2, 2, seed=4)),
    ]
    # the answer is F.pad and F.conv2d, not the package's or PyTorch's own
    why = "use only F.pad and F.conv2d"
    names = ("conv2d_input", "input_grad_flipped", "input_grad_transposed")
    with (
        ruled_out(grad, (*names, "flipped_kernel"), why),
        ruled_out(torch.nn.grad, ("conv2d_input",), why),
        ruled_out(F, ("conv_transpose2d",), why),
    ):
        return function(
            answer,
            reference,
            cases,
            "input_gradient",
            "pad g by kH - 1 rows and kW - 1 columns on each side; then "
            "check the kernel you pass to F.conv2d against 'Stride 1: a "
            "full correlation with the flipped kernel': which dimensions "
            "does it flip, and which does it swap?",
        )


@checker(
    "ex-closed-function",
    hint=(
        "reread 'output_padding: the rows no window reached' and 'stride "
        "and dilation trade places': in backward, which tensor plays the "
        "kernel in each of the two gradients, and what do forward's stride "
        "and dilation become?"
    ),
)
def _(answer):
    """A function ``conv2d_closed(x, w, stride, dilation)`` whose output
    comes from a ``torch.autograd.Function`` with a backward of its own."""

    def gradients(conv, x, w, stride, dilation, own):
        x, w = x.clone().requires_grad_(), w.clone().requires_grad_()
        y = conv(x, w, stride, dilation)
        custom = isinstance(
            y.grad_fn, torch.autograd.function.BackwardCFunction
        )
        if own and not custom:
            raise Wrong(
                "its output was not made by a torch.autograd.Function (its "
                f"grad_fn is {type(y.grad_fn).__name__}): call YourFunction"
                ".apply(x, w, stride, dilation)."
            )
        g = random(*y.shape, seed=7)
        return (y.detach(), *torch.autograd.grad(y, (x, w), g))

    def reference(x, w, stride, dilation):
        def conv(x, w, s, d):
            return F.conv2d(x, w, stride=s, dilation=d)

        return gradients(conv, x, w, stride, dilation, own=False)

    def yours(x, w, stride, dilation):
        return gradients(answer, x, w, stride, dilation, own=True)

    cases = [
        (random(2, 3, 9, 8, seed=1), random(4, 3, 3, 2, seed=2), 2, 1),
        (random(1, 2, 11, 10, seed=3), random(3, 2, 3, 3, seed=4), 3, 2),
        (random(2, 1, 7, 7, seed=5), random(2, 1, 2, 2, seed=6), 1, 3),
    ]
    if not callable(answer):
        raise Wrong(f"pass the function itself, got {type(answer).__name__}.")
    try:  # a Function of its own, before anything else
        yours(*cases[0])
    except Wrong:
        raise
    except Exception:  # the learner's error: reported with its inputs below
        pass
    # the gradients come from the chapter's formulas, not torch.nn.grad
    with ruled_out(
        torch.nn.grad,
        ("conv2d_input", "conv2d_weight"),
        "use chapter 7's formulas, not torch.nn.grad",
    ):
        return function(
            yours,
            reference,
            cases,
            "conv2d_closed",
            "output 0 is y, output 1 is x.grad, output 2 is w.grad.",
        )
