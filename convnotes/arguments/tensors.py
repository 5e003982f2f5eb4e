"""A convolution's tensors checked against its arguments; its public form.

Part of :mod:`convnotes.arguments`: the checks of ``conv2d``'s input, weight
and bias, of the gradient functions' sizes and ``grad_output``, and the one
wrapper and docstring every ``conv2d`` implementation of the package shares.
"""

from __future__ import annotations

import torch

from .dims import window_args

__all__ = [
    "apply_conv2d",
    "check_grad_output",
    "conv2d_args",
    "conv2d_function",
    "grad_input_args",
    "grad_weight_args",
]


def _shape(tensor):
    return tuple(tensor.shape)


def _check_tensors(input, weight, bias):
    for name, tensor in (("input", input), ("weight", weight), ("bias", bias)):
        if tensor is None and name == "bias":
            continue
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(
                f"{name} must be a torch.Tensor, got {type(tensor).__name__}"
            )
        if not tensor.is_floating_point():
            raise TypeError(
                f"{name} must be floating point, "
                f"got {name}.dtype={tensor.dtype}"
            )
        if tensor.dtype != input.dtype or tensor.device != input.device:
            raise TypeError(
                f"{name} and input must share dtype and device, got "
                f"{name}: {tensor.dtype} on {tensor.device}, "
                f"input: {input.dtype} on {input.device}"
            )
    if input.dim() not in (3, 4):
        raise ValueError(
            "input must be 4-D (N, C_in, H, W) or 3-D (C_in, H, W), "
            f"got input.shape={_shape(input)}"
        )
    if weight.dim() != 4:
        raise ValueError(
            f"weight must be 4-D (C_out, C_in / groups, kH, kW), "
            f"got weight.shape={_shape(weight)}"
        )


def _check_channels(input, weight, bias, groups):
    if isinstance(groups, bool) or not isinstance(groups, int):
        raise TypeError(f"groups must be an int, got groups={groups!r}")
    if groups < 1:
        raise ValueError(f"groups must be positive, got groups={groups}")
    C_in = input.shape[-3]
    C_out, C_in_g = weight.shape[:2]
    if C_in % groups or C_out % groups:
        raise ValueError(
            f"groups={groups} must divide both C_in={C_in} and C_out={C_out} "
            f"(input.shape={_shape(input)}, weight.shape={_shape(weight)})"
        )
    if C_in_g * groups != C_in:
        raise ValueError(
            f"weight expects C_in={C_in_g * groups} (groups={groups}) but "
            f"input has C_in={C_in} (input.shape={_shape(input)}, "
            f"weight.shape={_shape(weight)})"
        )
    if bias is not None and _shape(bias) != (C_out,):
        raise ValueError(
            f"bias must have shape (C_out,)=({C_out},), "
            f"got bias.shape={_shape(bias)}"
        )


def conv2d_args(
    input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1
):
    """Check a convolution's arguments and return them as :class:`Conv2dArgs`.

    Example:
        >>> x, w = torch.zeros(1, 3, 5, 5), torch.zeros(4, 3, 2, 2)
        >>> conv2d_args(x, w, padding="same")
        Conv2dArgs(stride=(1, 1), pad=(0, 1, 0, 1), dilation=(1, 1), \
groups=1, output_size=(5, 5))
    """
    _check_tensors(input, weight, bias)
    _check_channels(input, weight, bias, groups)
    input_size, kernel_size = _shape(input)[-2:], _shape(weight)[-2:]
    try:
        return window_args(
            input_size, kernel_size, stride, padding, dilation, groups
        )
    except ValueError as error:
        shapes = f"input.shape={_shape(input)}, weight.shape={_shape(weight)}"
        raise ValueError(f"{error} ({shapes})") from error


def apply_conv2d(
    function, input, weight, bias, stride, padding, dilation, groups
):
    """Check the arguments, then run an autograd ``function`` on a batch."""
    args = conv2d_args(input, weight, bias, stride, padding, dilation, groups)
    if input.dim() == 3:  # unbatched: a batch of one, and back
        batch = input.unsqueeze(0)
        return function.apply(batch, weight, bias, args).squeeze(0)
    return function.apply(input, weight, bias, args)


def _size(name, size, entries=(3, 4)):
    try:
        shape = tuple(int(s) for s in size)
    except TypeError:
        raise TypeError(
            f"{name} must be a sequence of ints, got {name}={size!r}"
        ) from None
    if len(shape) not in entries:
        if entries == (4,):
            wanted, also = "(C_out, C_in / groups, kH, kW)", ""
        else:
            wanted, also = "(N, C, H, W)", " or 3 (C, H, W)"
        raise ValueError(
            f"{name} must have 4 entries {wanted}{also}, got {name}={shape}"
        )
    return shape


def _placeholder(shape, like, name):
    """A tensor of ``shape`` holding no memory, for the one asked about.

    The arguments then go through the same checks as a convolution's.
    """
    if not isinstance(like, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor, got {type(like).__name__}"
        )
    return torch.empty_strided(
        shape, (0,) * len(shape), dtype=like.dtype, device=like.device
    )


def check_grad_output(grad_output, expected, what, context="", like=None):
    """Raise unless ``grad_output`` is a tensor of shape ``expected``.

    ``what`` names whose output shape that is, ``context`` (put at the end of
    the message) the shapes it comes from. With ``like``, a pair
    ``(name, tensor)``, ``grad_output`` must also share that tensor's dtype
    and device.

    >>> check_grad_output(torch.zeros(2, 3), (3, 2), "the pooling's output")
    Traceback (most recent call last):
    ...
    ValueError: grad_output must have the pooling's output shape (3, 2), \
got grad_output.shape=(2, 3)
    """
    if not isinstance(grad_output, torch.Tensor):
        raise TypeError(
            "grad_output must be a torch.Tensor, "
            f"got {type(grad_output).__name__}"
        )
    if like is not None:
        name, other = like
        dtype, device = grad_output.dtype, grad_output.device
        if dtype != other.dtype or device != other.device:
            raise TypeError(
                f"grad_output and {name} must share dtype and device, got "
                f"grad_output: {dtype} on {device}, "
                f"{name}: {other.dtype} on {other.device}"
            )
    if _shape(grad_output) != tuple(expected):
        raise ValueError(
            f"grad_output must have {what} shape {tuple(expected)}, "
            f"got grad_output.shape={_shape(grad_output)}{context}"
        )


def _check_conv_grad_output(
    grad_output, input_shape, weight_shape, args, like
):
    expected = (*input_shape[:-3], weight_shape[0], *args.output_size)
    shapes = f"input shape {tuple(input_shape)}, weight shape {weight_shape}"
    what, context = "the convolution's output", f" ({shapes})"
    check_grad_output(grad_output, expected, what, context, like)


def grad_input_args(
    input_size, weight, grad_output, stride, padding, dilation, groups
):
    """Checks for ``conv2d_input``; returns ``(input shape, Conv2dArgs)``."""
    shape = _size("input_size", input_size)
    input = _placeholder(shape, weight, "weight")
    args = conv2d_args(input, weight, None, stride, padding, dilation, groups)
    _check_conv_grad_output(
        grad_output, shape, _shape(weight), args, ("weight", weight)
    )
    return shape, args


def grad_weight_args(
    input, weight_size, grad_output, stride, padding, dilation, groups
):
    """Checks for ``conv2d_weight``; returns ``(weight shape, Conv2dArgs)``."""
    shape = _size("weight_size", weight_size, entries=(4,))
    weight = _placeholder(shape, input, "input")
    args = conv2d_args(input, weight, None, stride, padding, dilation, groups)
    _check_conv_grad_output(
        grad_output, _shape(input), shape, args, ("input", input)
    )
    return shape, args


CONV2D_DOC = """{summary}

Same arguments and results as ``torch.nn.functional.conv2d``.

Args:
    input: ``(N, C_in, H_in, W_in)`` or unbatched ``(C_in, H_in, W_in)``.
    weight: ``(C_out, C_in / groups, kH, kW)``.
    bias: ``(C_out,)`` or None.
    stride, dilation: an int or a pair (height, width).
    padding: an int, a pair, ``"valid"`` or ``"same"``.
    groups: how many independent groups the channels are split into.

Returns:
    ``(N, C_out, H_out, W_out)``, or ``(C_out, H_out, W_out)`` when unbatched.

Shape:
    ``H_out = floor((H_in + 2*p[0] - d[0]*(kH - 1) - 1) / s[0]) + 1`` with
    ``s, p, d`` the stride, padding and dilation, and the same for ``W_out``.

Example:
    >>> x = torch.arange(9.0).view(1, 1, 3, 3)
    >>> w = torch.tensor([[[[1.0, 0.0], [0.0, -1.0]]]])
    >>> {name}(x, w)
    tensor([[[[-4., -4.],
              [-4., -4.]]]])
"""


def conv2d_function(function, name, summary):
    """A public ``conv2d``: check the arguments, run the autograd ``function``.

    Every implementation is called the same way, so each gets this one wrapper
    and this one docstring (with its own ``summary`` and ``name``).
    """

    def conv2d(
        input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1
    ):
        return apply_conv2d(
            function, input, weight, bias, stride, padding, dilation, groups
        )

    conv2d.__name__ = conv2d.__qualname__ = name
    conv2d.__module__ = function.__module__
    conv2d.__doc__ = CONV2D_DOC.format(summary=summary, name=name)
    return conv2d
