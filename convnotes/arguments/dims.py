"""A convolution's size arguments, checked and split per spatial dimension.

Part of :mod:`convnotes.arguments`: ints or tuples, ``"valid"``/``"same"``
padding (split into the zeros before and after), and :class:`Conv2dArgs`,
the checked arguments of a 2-D convolution with its output size, computed
once.
"""

from __future__ import annotations

import operator
from typing import NamedTuple

__all__ = [
    "Conv2dArgs",
    "Dim",
    "check_fit",
    "conv_dims",
    "pair",
    "window_args",
]

PADDING_STRINGS = ("valid", "same")
POSITIVE_ARGS = ("input_size", "kernel_size", "stride", "dilation")


class Dim(NamedTuple):
    """A convolution along one dimension, its padding split before/after."""

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
        """The window starts at 0, stride, 2 * stride, ... while it fits."""
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
    lengths = {
        name: len(v)
        for name, v in args.items()
        if isinstance(v, (tuple, list))
    }
    for name, length in lengths.items():
        if length == 0:
            raise ValueError(
                f"{name} must not be an empty tuple, got {name}={args[name]!r}"
            )
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name}={tuple(args[name])!r}" for name in lengths)
        raise ValueError(
            f"tuple arguments must have the same length, got {shown}"
        )
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
    """Return "valid", "same" or None (numeric padding); reject others."""
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
    PyTorch pads ``dilation * (kernel_size - 1)`` in all, the larger half
    after. The fit of the kernel and the limits on ``output_padding`` are
    checked by the function that needs them.
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
            f"torch.nn.functional.conv2d, got stride={stride!r}; for a "
            "strided 'same' as in TensorFlow, pad explicitly with F.pad"
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
    """Raise ValueError if a dilated kernel is wider than the padded input."""
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
    # (left, right, top, bottom), the order F.pad takes
    pad: tuple[int, int, int, int]
    dilation: tuple[int, int]
    groups: int
    output_size: tuple[int, int]  # (H_out, W_out)

    def padded_size(self, input_size):
        """The padded ``(H, W)`` of an input of ``input_size`` (last two used).

        Example:
            >>> args = window_args((5, 5), 2, padding="same")
            >>> args.padded_size((1, 3, 5, 5))
            (6, 6)
        """
        left, right, top, bottom = self.pad
        H, W = input_size[-2:]
        return (H + top + bottom, W + left + right)


def pair(value):
    """An int or a 1- or 2-element tuple as a pair, as ``F.conv2d`` reads."""
    if isinstance(value, (tuple, list)):
        return (value[0], value[0]) if len(value) == 1 else tuple(value)
    return (value, value)


def window_args(
    input_size, kernel_size, stride=1, padding=0, dilation=1, groups=1
):
    """:class:`Conv2dArgs` from sizes alone, as ``F.unfold`` and ``F.fold`` do.

    Example:
        >>> window_args((5, 5), 3, stride=2)
        Conv2dArgs(stride=(2, 2), pad=(0, 0, 0, 0), dilation=(1, 1), \
groups=1, output_size=(2, 2))
    """
    input_size, kernel_size = pair(input_size), pair(kernel_size)
    # a 1-element tuple counts for both dimensions; ints stay as given, so that
    # error messages quote the caller's values
    stride, padding, dilation = (
        pair(v) if isinstance(v, (tuple, list)) else v
        for v in (stride, padding, dilation)
    )
    _, _, (h, w) = conv_dims(
        input_size, kernel_size, stride, padding, dilation
    )
    check_fit((h, w), input_size, kernel_size, padding, dilation)
    return Conv2dArgs(
        stride=(h.stride, w.stride),
        pad=(w.before, w.after, h.before, h.after),
        dilation=(h.dilation, w.dilation),
        groups=groups,
        output_size=(h.output_size, w.output_size),
    )
