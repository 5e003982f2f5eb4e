"""Gradients chained by hand through several layers: a forum question's three problems.

``problem1``, ``problem2`` and ``problem3`` return the loss
``0.5 * ||k * z - y||^2`` (``*`` a convolution with the measurement kernel
``k`` at ``stride``) and its gradients, computed with :mod:`convnotes.grad` and
ReLU's mask instead of autograd; ``problem3_forward`` and ``problem3_backward``
are ``problem3``'s two halves. They are built
from differentiable operations, so they can sit inside a network that is
trained (or be differentiated again).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import grad

__all__ = ["problem1", "problem2", "problem3", "problem3_backward", "problem3_forward"]


def _residual(z, k, y, stride):
    # the measurement error, in the usual (N, C, H, W) order even when z is
    # channels last: the transposed convolution of the backward pass is far
    # quicker on that order
    r = F.conv2d(z, k, stride=stride).contiguous() - y
    return 0.5 * r.pow(2).sum(), r


def problem1(x, k, y, stride=32):
    """``L = 0.5 ||k * x - y||^2``: returns ``(L, dL/dx)``.

    Example:
        >>> import torch
        >>> x, k = torch.ones(1, 1, 4, 4), torch.ones(1, 1, 2, 2)
        >>> loss, grad_x = problem1(x, k, torch.zeros(1, 1, 2, 2), stride=2)
        >>> loss.item(), grad_x[0, 0, 0].tolist()
        (32.0, [4.0, 4.0, 4.0, 4.0])
    """
    loss, r = _residual(x, k, y, stride)
    return loss, grad.conv2d_input(x.shape, k, r, stride=stride)


def problem2(x, w1, k, y, stride=32):
    """``L = 0.5 ||k * (w1 * x) - y||^2``, 3×3 ``w1``: ``(L, dL/dx, dL/dw1)``."""
    z = F.conv2d(x, w1, padding=1)
    loss, r = _residual(z, k, y, stride)
    grad_z = grad.conv2d_input(z.shape, k, r, stride=stride)
    grad_x = grad.conv2d_input(x.shape, w1, grad_z, padding=1)
    grad_w1 = grad.conv2d_weight(x, w1.shape, grad_z, padding=1)
    return loss, grad_x, grad_w1


def problem3_forward(x, w1, w2, k, y, stride=32):
    """The forward pass of problem 3, keeping what the backward pass needs.

    Returns ``(L, a1, r)``: the loss, ReLU's output and the measurement error.
    ``a1`` is stored channels last (each pixel's 32 channels together), so that
    the backward pass's per-tap products for ``dL/dw1`` take their right-hand
    factor row by row (chapter 7).
    """
    # ReLU may overwrite z1 in place: the convolution's gradients need
    # its input and weight, not its output, and ReLU's gradient can be
    # read off a1
    z1 = F.conv2d(x, w1.contiguous(memory_format=torch.channels_last), padding=1)
    a1 = F.relu(z1, inplace=True)
    z2 = F.conv2d(a1, w2, padding=1)
    loss, r = _residual(z2, k, y, stride)
    return loss, a1, r


def problem3_backward(x, w1, w2, k, a1, r, stride=32):
    """The gradients ``(dL/dx, dL/dw1, dL/dw2)`` of problem 3, from ``a1`` and ``r``.

    The chain rule, one layer at a time from the loss back to the input.
    ``dL/dx`` comes back channels last, like ``a1``.
    """
    z2_shape = (a1.shape[0], w2.shape[0], *a1.shape[2:])
    grad_z2 = grad.conv2d_input(z2_shape, k, r, stride=stride)
    grad_w2 = grad.conv2d_weight(a1, w2.shape, grad_z2, padding=1)
    # a channels-last weight gives a channels-last gradient, laid out like a1
    w2_last = w2.contiguous(memory_format=torch.channels_last)
    grad_a1 = grad.conv2d_input(a1.shape, w2_last, grad_z2, padding=1)
    # ReLU passes the gradient where it passed its input, and stops it
    # elsewhere: a mask of ones where a1 > 0, which for a1 >= 0 is
    # a1.sign() (a float mask, quicker to multiply by than a boolean
    # one); grad_a1 is not needed again, so it is masked in place
    grad_z1 = grad_a1.mul_(a1.sign())
    grad_w1 = grad.conv2d_weight(x, w1.shape, grad_z1, padding=1)
    grad_x = grad.conv2d_input(x.shape, w1, grad_z1, padding=1)
    return grad_x, grad_w1, grad_w2


def problem3(x, w1, w2, k, y, stride=32):
    """``L = 0.5 ||k * (w2 * relu(w1 * x)) - y||^2``: ``(L, dL/dx, dL/dw1, dL/dw2)``.

    The forward pass, then the backward pass written by hand.
    """
    loss, a1, r = problem3_forward(x, w1, w2, k, y, stride)
    return (loss, *problem3_backward(x, w1, w2, k, a1, r, stride))
