"""Gradients chained by hand through layers: a forum question's three problems.

``problem1``, ``problem2`` and ``problem3`` (chapter 8) return the loss
``0.5 * ||conv2d(z, k) - y||^2`` (``conv2d`` with the measurement kernels
``k`` at ``stride``) and its gradients, computed with :mod:`convnotes.grad`
and ReLU's mask instead of autograd. They are built from differentiable
operations, so they can sit inside a network that is trained (or be
differentiated again). A tuned ``problem3`` is in :mod:`convnotes.fast`.
"""

from __future__ import annotations

import torch.nn.functional as F

from . import grad

__all__ = ["problem1", "problem2", "problem3"]


def problem1(x, k, y, stride=32):
    """``L = 0.5 ||conv2d(x, k) - y||^2``: returns ``(L, dL/dx)``.

    Example:
        >>> import torch
        >>> x, k = torch.ones(1, 1, 4, 4), torch.ones(1, 1, 2, 2)
        >>> loss, grad_x = problem1(x, k, torch.zeros(1, 1, 2, 2), stride=2)
        >>> loss.item(), grad_x[0, 0, 0].tolist()
        (32.0, [4.0, 4.0, 4.0, 4.0])
    """
    r = F.conv2d(x, k, stride=stride) - y  # dL/dr = r
    loss = 0.5 * r.pow(2).sum()
    return loss, grad.conv2d_input(x.shape, k, r, stride=stride)


def problem2(x, w1, k, y, stride=32):
    """``L = 0.5 ||conv2d(conv2d(x, w1), k) - y||^2``: ``(L, dL/dx, dL/dw1)``.

    ``w1`` is a 3×3 kernel, applied with padding 1.
    """
    z = F.conv2d(x, w1, padding=1)
    loss, grad_z = problem1(z, k, y, stride)
    grad_x = grad.conv2d_input(x.shape, w1, grad_z, padding=1)
    grad_w1 = grad.conv2d_weight(x, w1.shape, grad_z, padding=1)
    return loss, grad_x, grad_w1


def problem3(x, w1, w2, k, y, stride=32, gradients=grad):
    """conv, ReLU, conv, then the measurement: ``L`` and its gradients.

    Returns ``(L, dL/dx, dL/dw1, dL/dw2)``: the forward pass, then the chain
    rule one layer at a time from the loss back to the input. ``gradients`` is
    the module whose ``conv2d_input`` and ``conv2d_weight`` are used:
    :mod:`convnotes.grad`, or :mod:`convnotes.fast`.
    """
    z1 = F.conv2d(x, w1, padding=1)
    a1 = F.relu(z1)
    z2 = F.conv2d(a1, w2, padding=1)
    r = F.conv2d(z2, k, stride=stride) - y
    loss = 0.5 * r.pow(2).sum()
    grad_z2 = gradients.conv2d_input(z2.shape, k, r, stride=stride)
    grad_w2 = gradients.conv2d_weight(a1, w2.shape, grad_z2, padding=1)
    grad_a1 = gradients.conv2d_input(a1.shape, w2, grad_z2, padding=1)
    grad_z1 = grad_a1 * (z1 > 0)  # ReLU passes the gradient where it passed z1
    grad_w1 = gradients.conv2d_weight(x, w1.shape, grad_z1, padding=1)
    grad_x = gradients.conv2d_input(x.shape, w1, grad_z1, padding=1)
    return loss, grad_x, grad_w1, grad_w2
