"""The forum question's third problem, tuned (chapter 9).

Same results as :func:`convnotes.chain.problem3`, with the gradients of
:mod:`convnotes.fast` and three changes that need the whole chain in view:

- ReLU runs in place and its gradient is read off its output: nothing but
  ``a1`` is kept of the first layer;
- ``a1`` is stored channels last (each pixel's channels together), so the
  per-tap products of ``dL/dw1`` read their right-hand factor row by row;
- the mask is multiplied in place, as a float (``a1.sign()``, no boolean).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .grad import conv2d_input, conv2d_weight

__all__ = ["problem3", "problem3_backward", "problem3_forward"]


def problem3_forward(x, w1, w2, k, y, stride=32):
    """The forward pass and what the backward pass needs: ``(L, a1, r)``."""
    # a channels-last weight makes z1, and so a1, channels last
    w1_last = w1.contiguous(memory_format=torch.channels_last)
    # ReLU may overwrite z1 in place: the convolution's gradients need its
    # input and weight, not its output, and ReLU's gradient can be read off a1
    z1 = F.conv2d(x, w1_last, padding=1)
    a1 = F.relu(z1, inplace=True)
    z2 = F.conv2d(a1, w2, padding=1)
    r = F.conv2d(z2, k, stride=stride) - y
    return 0.5 * r.pow(2).sum(), a1, r


def problem3_backward(x, w1, w2, k, a1, r, stride=32):
    """The gradients ``(dL/dx, dL/dw1, dL/dw2)``, from ``a1`` and ``r``.

    ``dL/dx`` comes back channels last, like ``a1``.
    """
    z2_shape = (a1.shape[0], w2.shape[0], *a1.shape[2:])
    grad_z2 = conv2d_input(z2_shape, k, r, stride=stride)
    grad_w2 = conv2d_weight(a1, w2.shape, grad_z2, padding=1)
    # a channels-last weight gives a channels-last gradient, laid out like a1
    w2_last = w2.contiguous(memory_format=torch.channels_last)
    grad_a1 = conv2d_input(a1.shape, w2_last, grad_z2, padding=1)
    # where a1 > 0 ReLU passed its input: for a1 >= 0 that mask is a1.sign()
    grad_z1 = grad_a1.mul_(a1.sign())
    grad_w1 = conv2d_weight(x, w1.shape, grad_z1, padding=1)
    grad_x = conv2d_input(x.shape, w1, grad_z1, padding=1)
    return grad_x, grad_w1, grad_w2


def problem3(x, w1, w2, k, y, stride=32):
    """``L = 0.5 ||k * (w2 * relu(w1 * x)) - y||^2`` and its gradients.

    Returns ``(L, dL/dx, dL/dw1, dL/dw2)``, as
    :func:`convnotes.chain.problem3` does.
    """
    loss, a1, r = problem3_forward(x, w1, w2, k, y, stride)
    return (loss, *problem3_backward(x, w1, w2, k, a1, r, stride))
