"""The forum question's third problem, tuned (chapter 9).

Same results as :func:`convnotes.chain.problem3`, with the gradients of
:mod:`convnotes.fast` and changes that need the whole chain in view:

- ReLU runs in place and its gradient is read off its output: nothing but
  ``a1`` is kept of the first layer;
- ``x`` is copied channels last (each pixel's channels together), which makes
  ``a1`` channels last; ``dL/da1`` is made channels last by
  :func:`input_grad_columns`, and so ``dL/dz1`` and ``dL/dx`` are too. The
  per-tap products of both weight gradients then read their right-hand factor
  (``a1``, and the copy of ``x``) row by row;
- ReLU's mask is multiplied into ``dL/da1`` in place;
- given a :class:`Workspace`, a step repeated at the same sizes writes the
  copy of ``x``, ``dL/da1`` and the mask into memory kept from the step
  before.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .. import grad
from .grad import conv2d_input, conv2d_weight

__all__ = [
    "Workspace",
    "input_grad_columns",
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
    z2 = F.conv2d(a1, w2, padding=1)
    r = F.conv2d(z2, k, stride=stride) - y
    return 0.5 * r.pow(2).sum(), x_last, a1, r


def problem3_backward(x_last, w1, w2, k, a1, r, stride=32, workspace=None):
    """The gradients ``(dL/dx, dL/dw1, dL/dw2)``, from the forward's results.

    ``dL/dx`` comes back channels last, like ``x_last``.
    """
    kept = _usable(workspace, x_last, w1, w2, k, a1, r)
    z2_shape = (a1.shape[0], w2.shape[0], *a1.shape[2:])
    grad_z2 = conv2d_input(z2_shape, k, r, stride=stride)
    grad_w2 = conv2d_weight(a1, w2.shape, grad_z2, padding=1)
    out = None if kept is None else kept.tensor("grad_a1", a1, LAST)
    grad_a1 = input_grad_columns(grad_z2, w2, out)
    # where a1 > 0 ReLU passed its input: for a1 >= 0 that mask is a1.sign(),
    # multiplied in place into dL/da1, which nothing reads again
    mask = None if kept is None else kept.tensor("mask", a1, LAST)
    grad_z1 = grad_a1.mul_(torch.sign(a1, out=mask))
    grad_w1 = conv2d_weight(x_last, w1.shape, grad_z1, padding=1)
    grad_x = conv2d_input(x_last.shape, w1, grad_z1, padding=1)
    return grad_x, grad_w1, grad_w2


def input_grad_columns(grad_output, weight, out=None):
    """``dL/d(input)`` of a convolution with padding 1, channels last.

    For stride 1, no dilation and one group. The input gradient is a
    convolution of ``grad_output`` with the flipped kernel (chapter 7), here
    written as one matrix product per image: the columns of ``grad_output``
    (few, when it has few channels, as ``dL/dz2`` has one) times the flipped
    taps, one row per pixel. Into ``out`` (a channels-last tensor of the
    input's shape) if given.
    """
    N, C_out, H_out, W_out = grad_output.shape
    _, C_in, kH, kW = weight.shape
    H, W = H_out + kH - 3, W_out + kW - 3  # the input's size, padding 1
    if out is not None:
        _check_out(out, (N, C_in, H, W), grad_output.dtype)
    # full padding (kH - 1 rows, kW - 1 columns) less the forward's 1; for a
    # 1x1 kernel that is -1, and F.pad crops the border the forward added
    padded = F.pad(grad_output, (kW - 2, kW - 2, kH - 2, kH - 2))
    cols = F.unfold(padded, (kH, kW))  # (N, C_out * kH * kW, H * W)
    # chapter 7's flipped kernel as chapter 5's weight matrix has one column
    # per row of cols, in F.unfold's order (o, u, v); transposed, row (o, u, v)
    # and column c hold w[o, c, kH - 1 - u, kW - 1 - v]
    taps = grad.flipped_kernel(weight).flatten(1).T
    # a channels-last out, seen as (N, pixels, C_in): one row per pixel
    rows = None if out is None else out.permute(0, 2, 3, 1).view(N, -1, C_in)
    rows = torch.bmm(cols.transpose(1, 2), taps.expand(N, -1, -1), out=rows)
    return rows.view(N, H, W, C_in).permute(0, 3, 1, 2)


def _check_out(out, shape, dtype):
    """``out``: a channels-last tensor of the input's shape and dtype."""
    if (
        not isinstance(out, torch.Tensor)
        or out.shape != shape
        or out.dtype != dtype
        or not out.is_contiguous(memory_format=LAST)
    ):
        got = (
            f"{tuple(out.shape)} {out.dtype}, channels last: "
            f"{out.is_contiguous(memory_format=LAST)}"
            if isinstance(out, torch.Tensor)
            else type(out).__name__
        )
        raise ValueError(
            f"out: expected a channels-last tensor of shape {tuple(shape)} "
            f"and dtype {dtype}, got {got}"
        )


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
