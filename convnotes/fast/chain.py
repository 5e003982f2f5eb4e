"""The forum question's third problem, tuned (chapter 9).

Same results as :func:`convnotes.chain.problem3`, with the gradients of
:mod:`convnotes.fast` and changes that need the whole chain in view:

- ReLU runs in place and its gradient is read off its output: nothing but
  ``a1`` is kept of the first layer;
- ``x`` is copied channels last (each pixel's channels together), which makes
  ``a1`` channels last; ``dL/da1`` is made channels last by
  :func:`convnotes.fast.grad.input_grad_columns`, and so ``dL/dz1`` and
  ``dL/dx`` are too. The per-tap products of ``dL/dw1`` then read their
  right-hand factor, the copy of ``x``, row by row;
- the second convolution, to one channel, is a thin product and a fold
  (:func:`conv2d_few_outputs`), and both its gradients are taken from one set
  of columns of ``dL/dz2``;
- ReLU's mask is multiplied into ``dL/da1`` in place;
- given a :class:`Workspace`, a step repeated at the same sizes writes the
  copy of ``x``, ``dL/da1`` and the mask into memory kept from the step
  before.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .. import grad
from ..arguments import conv2d_args, window_args
from .grad import (
    _channels_last,
    _check_stride_one,
    _full_padding,
    conv2d_input,
    conv2d_weight,
    input_grad_columns,
    output_grad_columns,
    weight_grad_columns,
)
from .unfold import fold_padded

__all__ = [
    "Workspace",
    "conv2d_few_outputs",
    "problem3",
    "problem3_backward",
    "problem3_forward",
]

LAST = torch.channels_last


class Workspace:
    """Memory a repeated step keeps for its large temporaries between calls.

    A large new tensor may be memory the operating system maps afresh, whose
    pages each stop for a page fault on their first write (chapter 9,
    "Reusing buffers"). A step run again and again at the same sizes, as in
    training, can instead write its temporaries where it wrote them the last
    time. Pass the same workspace to every call of one step, and give each
    thread its own: two calls running at once would write the same memory.
    What :func:`problem3` returns never shares the workspace's memory (but
    the ``x_last`` that :func:`problem3_forward` returns is the workspace's
    own, overwritten by the next call). While autograd records, the
    workspace is not used: autograd may save a temporary that the next call
    would overwrite.
    """

    def __init__(self):
        self._kept = {}

    @property
    def kept(self):
        """The tensors kept so far, in a new dict by name."""
        return dict(self._kept)

    def tensor(self, name, like, memory_format=torch.contiguous_format):
        """The tensor kept as ``name``, of ``like``'s shape, dtype and device.

        Made (and kept) if none is kept, or the one kept differs in shape,
        dtype, device or layout. Its values are whatever was last written.
        """
        kept = self._kept.get(name)
        fits = (
            kept is not None
            and kept.shape == like.shape
            and kept.dtype == like.dtype
            and kept.device == like.device
            and kept.is_contiguous(memory_format=memory_format)
        )
        if not fits:
            # an ordinary tensor even in inference mode, so that calls outside
            # it may still write into it
            with torch.inference_mode(False):
                kept = torch.empty(
                    like.shape,
                    dtype=like.dtype,
                    device=like.device,
                    memory_format=memory_format,
                )
            self._kept[name] = kept
        return kept


def _usable(workspace, *tensors):
    """``workspace``, or ``None`` if there is none or autograd records.

    Autograd records when grad mode is on and some input requires a gradient.
    """
    if workspace is None:
        return None
    if not isinstance(workspace, Workspace):
        raise TypeError(
            "workspace: expected a convnotes.fast.Workspace or None, got "
            f"{type(workspace).__name__}"
        )
    if torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
        return None
    return workspace


def conv2d_few_outputs(input, weight, args):
    """``F.conv2d(input, weight)`` at stride 1, one group: a product, then a
    fold.

    Chapter 7 read the other way round: a convolution is the transposed
    convolution of its flipped kernel, which chapter 5 computes as a matrix
    product and a fold. Each pixel's channels times the flipped kernel's
    matrix give one number per output channel and tap, and the fold adds each
    onto the output pixel that tap reaches. With few output channels the
    product is thin: ``w2`` turns each pixel's 32 channels into 9 numbers.
    ``args``: :func:`convnotes.arguments.conv2d_args` of the convolution.
    NCHW, or channels last when ``input`` or ``weight`` is, as
    ``F.conv2d``'s output would be.
    """
    _check_stride_one("conv2d_few_outputs", args, weight.shape)
    N, C_in, H, W = input.shape
    kH, kW = weight.shape[2:]
    # chapter 7's flipped kernel as a matrix, transposed: row (o, u, v)
    # holds w[o, :, kH - 1 - u, kW - 1 - v]
    rows = grad.flipped_kernel(weight).flatten(1).T  # (C_out * kH * kW, C_in)
    columns = torch.bmm(rows.expand(N, -1, -1), input.flatten(2))
    d_h, d_w = args.dilation
    size = (H + d_h * (kH - 1), W + d_w * (kW - 1))
    fold_args = window_args(size, (kH, kW), dilation=args.dilation)
    spread = fold_padded(columns, size, (kH, kW), fold_args)
    # keep the forward's output: crop d * (k - 1) less the forward's padding
    # on each side (the full padding); where that is negative, F.pad pads
    output = F.pad(spread, [-side for side in _full_padding((kH, kW), args)])
    if not (_channels_last(input) or _channels_last(weight)):
        return output
    # channels last, as a convolution's would be, even where one channel
    # leaves the layout ambiguous: strides are all that mark it
    return torch.empty_like(output, memory_format=LAST).copy_(output)


def problem3_forward(x, w1, w2, k, y, stride=32, workspace=None):
    """The forward pass and what the backward pass needs.

    Returns ``(L, x_last, a1, r)``, ``x_last`` being ``x`` channels last (the
    workspace's memory, if one is used).
    """
    kept = _usable(workspace, x, w1, w2, k, y)
    if x.is_contiguous(memory_format=LAST) or kept is None:
        x_last = x.contiguous(memory_format=LAST)
    else:
        x_last = kept.tensor("x", x, LAST).copy_(x)
    # a channels-last input makes z1, and so a1, channels last; ReLU may
    # overwrite z1 in place: the convolution's gradients need its input and
    # weight, not its output, and ReLU's gradient can be read off a1
    z1 = F.conv2d(x_last, w1, padding=1)
    a1 = F.relu(z1, inplace=True)
    # one output channel: a thin product and a fold
    z2 = conv2d_few_outputs(a1, w2, conv2d_args(a1, w2, padding=1))
    r = F.conv2d(z2, k, stride=stride) - y
    return 0.5 * r.pow(2).sum(), x_last, a1, r


def problem3_backward(x_last, w1, w2, k, a1, r, stride=32, workspace=None):
    """The gradients ``(dL/dx, dL/dw1, dL/dw2)``, from the forward's results.

    ``dL/dx`` comes back channels last, like ``x_last``.
    """
    kept = _usable(workspace, x_last, w1, w2, k, a1, r)
    z2_shape = (a1.shape[0], w2.shape[0], *a1.shape[2:])
    grad_z2 = conv2d_input(z2_shape, k, r, stride=stride)
    # dL/da1 channels last, like a1 (as a convolution with a channels-last
    # weight would give it), into the workspace's memory if one is used
    out = None if kept is None else kept.tensor("grad_a1", a1, LAST)
    args = conv2d_args(a1, w2, padding=1)  # the second convolution's
    # both of its gradients from the same columns of dL/dz2
    columns = output_grad_columns(grad_z2, w2.shape, args)
    grad_w2 = weight_grad_columns(columns, a1, w2.shape)
    w2_last = w2.contiguous(memory_format=LAST)
    grad_a1 = input_grad_columns(grad_z2, w2_last, args, out, columns)
    # where a1 > 0 ReLU passed its input: for a1 >= 0 that mask is a1.sign(),
    # multiplied in place into dL/da1, which nothing reads again
    mask = None if kept is None else kept.tensor("mask", a1, LAST)
    grad_z1 = grad_a1.mul_(torch.sign(a1, out=mask))
    grad_w1 = conv2d_weight(x_last, w1.shape, grad_z1, padding=1)
    grad_x = conv2d_input(x_last.shape, w1, grad_z1, padding=1)
    return grad_x, grad_w1, grad_w2


def problem3(x, w1, w2, k, y, stride=32, workspace=None):
    """``L``, half the squared error of the measurement, and its gradients.

    ``L = 0.5 * ||conv2d(conv2d(relu(conv2d(x, w1, padding=1)), w2,
    padding=1), k, stride=stride) - y||^2``.

    Returns ``(L, dL/dx, dL/dw1, dL/dw2)``, as
    :func:`convnotes.chain.problem3` does. ``workspace``: a
    :class:`Workspace` kept between calls, or ``None`` (new memory).
    """
    loss, x_last, a1, r = problem3_forward(x, w1, w2, k, y, stride, workspace)
    grads = problem3_backward(x_last, w1, w2, k, a1, r, stride, workspace)
    return (loss, *grads)
