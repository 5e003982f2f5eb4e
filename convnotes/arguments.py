"""A convolution's arguments, checked once and spelled out per dimension.

Every function of the package that takes ``stride``, ``padding``, ``dilation``
or tensors goes through this module, so each rule is checked in one place and
the output size is computed once per call. It follows the contract of
``torch.nn.functional.conv2d``: batched ``(N, C_in, H, W)`` or unbatched
``(C_in, H, W)`` input, ``(C_out, C_in / groups, kH, kW)`` weight, ints or
tuples, and ``"valid"``/``"same"`` padding. Errors name the argument and show
the values or shapes involved.

Padding is carried one way only, as ``F.pad`` wants it for an image:
``(left, right, top, bottom)``.
"""

from __future__ import annotations

import operator
from typing import NamedTuple

import torch

__all__ = [
    "Conv2dArgs",
    "Dim",
    "apply_conv2d",
    "conv2d_args",
    "conv2d_function",
    "conv_dims",
    "grad_input_args",
    "grad_weight_args",
    "pair",
    "window_args",
]

PADDING_STRINGS = ("valid", "same")
POSITIVE_ARGS = ("input_size", "kernel_size", "stride", "dilation")


class Dim(NamedTuple):
    """A convolution along one spatial dimension, its padding split before/after."""

    input_size: int
    kernel_size: int
    stride: int
    before: int  # zeros added before the input (top, or left)
    after: int  # zeros added after it (bottom, or right)
    dilation: int
    output_padding: int = 0

    @property
    def span(self):
        """How many input pixels one (dilated) kernel window covers."""
        return self.dilation * (self.kernel_size - 1) + 1

    @property
    def padded(self):
        """The size of the padded input."""
        return self.input_size + self.before + self.after

    @property
    def output_size(self):
        """The window starts at 0, stride, 2 * stride, ... while it still fits."""
        return (self.padded - self.span) // self.stride + 1


def _as_int(value, name, shown):
    """``operator.index(value)``, or a TypeError that names the argument."""
    if not isinstance(value, bool):
        try:
            return operator.index(value)
        except TypeError:
            pass
    raise TypeError(
        f"{name} must be an int or a tuple of ints, "
        f"got {name}={shown!r} ({type(value).__name__})"
    )


def _per_dim(**args):
    """Every argument as a tuple of ints of one common length.

    Returns ``(is_tuple, values)``: whether any argument was a tuple (or list),
    so the caller knows whether to answer with an int, and the tuples by name.
    """
    lengths = {name: len(v) for name, v in args.items() if isinstance(v, (tuple, list))}
    for name, length in lengths.items():
        if length == 0:
            raise ValueError(
                f"{name} must not be an empty tuple, got {name}={args[name]!r}"
            )
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name}={tuple(args[name])!r}" for name in lengths)
        raise ValueError(f"tuple arguments must have the same length, got {shown}")
    n = next(iter(lengths.values()), 1)
    values = {}
    for name, value in args.items():
        if isinstance(value, (tuple, list)):
            values[name] = tuple(_as_int(v, name, value) for v in value)
        else:
            values[name] = (_as_int(value, name, value),) * n
        minimum = 1 if name in POSITIVE_ARGS else 0
        if any(v < minimum for v in values[name]):
            kind = "positive" if minimum else "non-negative"
            raise ValueError(f"{name} must be {kind}, got {name}={value!r}")
    return bool(lengths), values


def _padding_mode(padding):
    """Return "valid", "same" or None (numeric padding); reject other strings."""
    if not isinstance(padding, str):
        return None
    if padding not in PADDING_STRINGS:
        raise ValueError(
            "padding must be an int, a tuple of ints, 'valid' or 'same', "
            f"got padding={padding!r}"
        )
    return padding


def conv_dims(
    input_size, kernel_size, stride=1, padding=0, dilation=1, output_padding=0
):
    """Check a convolution's size arguments and split them per dimension.

    Returns ``(is_tuple, mode, dims)``: whether to answer with a tuple, the
    padding string (or None) and a list of :class:`Dim`. With ``"same"``,
    PyTorch pads ``dilation * (kernel_size - 1)`` in all, the larger half after.
    The fit of the kernel and the limits on ``output_padding`` are checked by
    the function that needs them.
    """
    mode = _padding_mode(padding)
    is_tuple, values = _per_dim(
        input_size=input_size,
        kernel_size=kernel_size,
        stride=stride,
        padding=0 if mode else padding,
        dilation=dilation,
        output_padding=output_padding,
    )
    if mode == "same" and any(s != 1 for s in values["stride"]):
        raise ValueError(
            "padding='same' is only defined for stride=1 in "
            f"torch.nn.functional.conv2d, got stride={stride!r}; for a strided "
            "'same' as in TensorFlow, pad explicitly with F.pad"
        )
    dims = []
    for size, k, s, p, d, extra in zip(*values.values(), strict=True):
        if mode == "same":
            total = d * (k - 1)
            p, after = total // 2, total - total // 2
        else:
            after = p
        dims.append(Dim(size, k, s, p, after, d, extra))
    return is_tuple, mode, dims


def check_fit(dims, input_size, kernel_size, padding, dilation):
    """Raise ValueError if a (dilated) kernel spans more than the padded input."""
    for d in dims:
        if d.span > d.padded:
            raise ValueError(
                f"kernel does not fit: kernel_size={kernel_size!r} "
                f"with dilation={dilation!r} spans {d.span}, "
                f"but input_size={input_size!r} with padding={padding!r} "
                f"is only {d.padded} wide when padded"
            )


class Conv2dArgs(NamedTuple):
    """The arguments of one 2-D convolution, checked, with its output size."""

    stride: tuple[int, int]
    pad: tuple[int, int, int, int]  # (left, right, top, bottom), as F.pad takes it
    dilation: tuple[int, int]
    groups: int
    output_size: tuple[int, int]  # (H_out, W_out)


def pair(value):
    """An int or a 1- or 2-element tuple as a pair, like ``F.conv2d`` reads it."""
    if isinstance(value, (tuple, list)):
        return (value[0], value[0]) if len(value) == 1 else tuple(value)
    return (value, value)


def window_args(input_size, kernel_size, stride=1, padding=0, dilation=1, groups=1):
    """:class:`Conv2dArgs` from sizes alone (as ``F.unfold`` and ``F.fold`` take them).

    Example:
        >>> window_args((5, 5), 3, stride=2)
        Conv2dArgs(stride=(2, 2), pad=(0, 0, 0, 0), dilation=(1, 1), groups=1, \
output_size=(2, 2))
    """
    input_size, kernel_size = pair(input_size), pair(kernel_size)
    # a 1-element tuple counts for both dimensions; ints stay as given, so that
    # error messages quote the caller's values
    stride, padding, dilation = (
        pair(v) if isinstance(v, (tuple, list)) else v
        for v in (stride, padding, dilation)
    )
    _, _, (h, w) = conv_dims(input_size, kernel_size, stride, padding, dilation)
    check_fit((h, w), input_size, kernel_size, padding, dilation)
    return Conv2dArgs(
        stride=(h.stride, w.stride),
        pad=(w.before, w.after, h.before, h.after),
        dilation=(h.dilation, w.dilation),
        groups=groups,
        output_size=(h.output_size, w.output_size),
    )


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
                f"{name} must be floating point, got {name}.dtype={tensor.dtype}"
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
            f"weight expects C_in={C_in_g * groups} (groups={groups}) but input has "
            f"C_in={C_in} (input.shape={_shape(input)}, weight.shape={_shape(weight)})"
        )
    if bias is not None and _shape(bias) != (C_out,):
        raise ValueError(
            f"bias must have shape (C_out,)=({C_out},), got bias.shape={_shape(bias)}"
        )


def conv2d_args(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Check the arguments of a convolution and return them as :class:`Conv2dArgs`.

    Example:
        >>> x, w = torch.zeros(1, 3, 5, 5), torch.zeros(4, 3, 2, 2)
        >>> conv2d_args(x, w, padding="same")
        Conv2dArgs(stride=(1, 1), pad=(0, 1, 0, 1), dilation=(1, 1), groups=1, \
output_size=(5, 5))
    """
    _check_tensors(input, weight, bias)
    _check_channels(input, weight, bias, groups)
    try:
        return window_args(
            _shape(input)[-2:], _shape(weight)[-2:], stride, padding, dilation, groups
        )
    except ValueError as error:
        shapes = f"input.shape={_shape(input)}, weight.shape={_shape(weight)}"
        raise ValueError(f"{error} ({shapes})") from error


def apply_conv2d(function, input, weight, bias, stride, padding, dilation, groups):
    """Check the arguments, then run an autograd ``function`` on a batched input."""
    args = conv2d_args(input, weight, bias, stride, padding, dilation, groups)
    if input.dim() == 3:  # unbatched: a batch of one, and back
        return function.apply(input.unsqueeze(0), weight, bias, args).squeeze(0)
    return function.apply(input, weight, bias, args)


def _size(name, size, entries=(3, 4)):
    try:
        shape = tuple(int(s) for s in size)
    except TypeError:
        raise TypeError(
            f"{name} must be a sequence of ints, got {name}={size!r}"
        ) from None
    if len(shape) not in entries:
        wanted = "(C_out, C_in / groups, kH, kW)" if entries == (4,) else "(N, C, H, W)"
        also = "" if entries == (4,) else " or 3 (C, H, W)"
        raise ValueError(
            f"{name} must have 4 entries {wanted}{also}, got {name}={shape}"
        )
    return shape


def _placeholder(shape, like, name):
    """A tensor of ``shape`` that holds no memory, standing in for the one asked about.

    The arguments then go through the same checks as a convolution's.
    """
    if not isinstance(like, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(like).__name__}")
    return torch.empty_strided(
        shape, (0,) * len(shape), dtype=like.dtype, device=like.device
    )


def _check_grad_output(grad_output, input_shape, weight_shape, args):
    if not isinstance(grad_output, torch.Tensor):
        raise TypeError(
            f"grad_output must be a torch.Tensor, got {type(grad_output).__name__}"
        )
    expected = (*input_shape[:-3], weight_shape[0], *args.output_size)
    if _shape(grad_output) != expected:
        raise ValueError(
            f"grad_output must have the convolution's output shape {expected}, got "
            f"grad_output.shape={_shape(grad_output)} "
            f"(input shape {tuple(input_shape)}, weight shape {tuple(weight_shape)})"
        )


def grad_input_args(input_size, weight, grad_output, stride, padding, dilation, groups):
    """The checks of ``conv2d_input``: returns ``(input shape, Conv2dArgs)``."""
    shape = _size("input_size", input_size)
    input = _placeholder(shape, weight, "weight")
    args = conv2d_args(input, weight, None, stride, padding, dilation, groups)
    _check_grad_output(grad_output, shape, weight.shape, args)
    return shape, args


def grad_weight_args(
    input, weight_size, grad_output, stride, padding, dilation, groups
):
    """The checks of ``conv2d_weight``: returns ``(weight shape, Conv2dArgs)``."""
    shape = _size("weight_size", weight_size, entries=(4,))
    weight = _placeholder(shape, input, "input")
    args = conv2d_args(input, weight, None, stride, padding, dilation, groups)
    _check_grad_output(grad_output, _shape(input), shape, args)
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
    """A public ``conv2d``: checks its arguments, then runs the autograd ``function``.

    Every implementation is called the same way, so each gets this one wrapper
    and this one docstring (with its own ``summary`` and ``name``).
    """

    def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        return apply_conv2d(
            function, input, weight, bias, stride, padding, dilation, groups
        )

    conv2d.__name__ = conv2d.__qualname__ = name
    conv2d.__module__ = function.__module__
    conv2d.__doc__ = CONV2D_DOC.format(summary=summary, name=name)
    return conv2d
