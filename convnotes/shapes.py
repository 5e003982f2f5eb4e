"""Output sizes of convolutions and transposed convolutions.

Derived in chapter 3 (``book/03_output_size.ipynb``). Every function accepts
ints, or tuples (one entry per spatial dimension) mixed with ints, the way
``torch.nn.functional.conv2d`` accepts ``stride=2`` or ``stride=(2, 1)``.
"""

from __future__ import annotations

import operator
from typing import NamedTuple

__all__ = [
    "conv_output_size",
    "conv_transpose_output_size",
    "Dim",
    "conv_dims",
    "output_padding_for",
    "same_padding",
]

PADDING_STRINGS = ("valid", "same")
POSITIVE_ARGS = ("input_size", "kernel_size", "stride", "dilation")


class Dim(NamedTuple):
    """The arguments of a convolution along one spatial dimension."""

    input_size: int
    kernel_size: int
    stride: int
    padding: int  # on each side; 0 for "valid" and "same"
    dilation: int
    output_padding: int = 0

    @property
    def span(self):
        """How many input pixels one (dilated) kernel window covers."""
        return self.dilation * (self.kernel_size - 1) + 1


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
    """Turn every argument into a tuple of ints of one common length.

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
    """Validate a convolution's size arguments and split them per dimension.

    Returns ``(is_tuple, mode, dims)``: whether to answer with a tuple, the
    padding string (or None for numeric padding) and a list of :class:`Dim`.
    Checks every rule both size functions share; the fit of the kernel and the
    limits on ``output_padding`` are checked by the function that needs them.
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
    per_dim = zip(*(values[field] for field in Dim._fields), strict=True)
    return is_tuple, mode, [Dim(*dim) for dim in per_dim]


def _answer(is_tuple, values):
    return tuple(values) if is_tuple else values[0]


def same_padding(kernel_size, dilation=1):
    """Padding before and after each dimension for ``padding="same"``.

    PyTorch pads ``dilation * (kernel_size - 1)`` in total, the smaller half
    before and the larger half after: when that total is odd (an even kernel
    with an odd dilation) the end gets one more.

    Returns:
        A tuple of ``(before, after)`` pairs, one per dimension (a single pair
        when both arguments are ints).

    Example:
        >>> same_padding(3)
        (1, 1)
        >>> same_padding((4, 3), dilation=(1, 2))
        ((1, 2), (2, 2))
    """
    is_tuple, _, dims = conv_dims(1, kernel_size, dilation=dilation)
    return _answer(
        is_tuple, [((d.span - 1) // 2, d.span - 1 - (d.span - 1) // 2) for d in dims]
    )


def conv_output_size(input_size, kernel_size, stride=1, padding=0, dilation=1):
    """Size of the output of a convolution, per spatial dimension.

    Derived in chapter 3. The window spans ``dilation * (kernel_size - 1) + 1``
    pixels; it fits at ``floor((padded - span) / stride) + 1`` positions.

    Args:
        input_size: size of the input (int, or a tuple such as ``(H_in, W_in)``).
        kernel_size: size of the kernel (int or tuple).
        stride: step between windows (int or tuple).
        padding: zeros added on each side (int or tuple), or ``"valid"``
            (no padding) or ``"same"`` (output as large as the input; stride 1
            only, as in PyTorch).
        dilation: spacing between kernel taps (int or tuple).

    Returns:
        An int if every argument is an int, otherwise a tuple with one entry per
        dimension.

    Shape:
        ``out = floor((in + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1``

    Raises:
        TypeError: an argument is not an int, a tuple of ints or a padding string.
        ValueError: a size, kernel, stride or dilation below 1, negative padding,
            tuples of different lengths, an unknown padding string, ``"same"``
            with a stride above 1, or a kernel that spans more than the padded input.

    Example:
        >>> conv_output_size(5, 3)
        3
        >>> conv_output_size((28, 28), 5, stride=2, padding=2)
        (14, 14)
        >>> conv_output_size(7, 3, padding="same", dilation=2)
        7
    """
    is_tuple, mode, dims = conv_dims(input_size, kernel_size, stride, padding, dilation)
    if mode == "same":
        return _answer(is_tuple, [d.input_size for d in dims])
    sizes = []
    for d in dims:
        padded = d.input_size + 2 * d.padding
        if d.span > padded:
            raise ValueError(
                f"kernel does not fit: kernel_size={kernel_size!r} "
                f"with dilation={dilation!r} spans {d.span}, "
                f"but input_size={input_size!r} with padding={padding!r} "
                f"is only {padded} wide when padded"
            )
        # the window starts at 0, stride, 2*stride, ... while it still fits
        sizes.append((padded - d.span) // d.stride + 1)
    return _answer(is_tuple, sizes)


def conv_transpose_output_size(
    input_size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1
):
    """Size of the output of a transposed convolution, per spatial dimension.

    Derived in chapter 3. A transposed convolution maps a convolution's output
    size back to its input size; since ``stride`` input sizes share one output
    size, ``output_padding`` (less than ``stride`` or ``dilation``) says which.

    Args:
        input_size: size of the transposed convolution's input (int or tuple).
        kernel_size, stride, dilation: as for the matching convolution.
        padding: as for the matching convolution; ``"valid"`` means 0 and
            ``"same"`` (stride 1 only) gives an output as large as the input.
        output_padding: extra rows/columns added at the end (int or tuple).

    Returns:
        An int if every argument is an int, otherwise a tuple.

    Shape:
        ``out = (in - 1) * stride - 2 * padding + dilation * (kernel_size - 1)
        + output_padding + 1``

    Raises:
        TypeError: an argument is not an int, a tuple of ints or a padding string.
        ValueError: as for :func:`conv_output_size`, plus negative
            ``output_padding``, ``output_padding`` not smaller than both
            ``stride`` and ``dilation``, or padding so large the output is empty.

    Example:
        >>> conv_transpose_output_size(3, 3)
        5
        >>> conv_transpose_output_size(4, 3, stride=2, padding=1)
        7
        >>> conv_transpose_output_size(4, 3, stride=2, padding=1, output_padding=1)
        8
    """
    is_tuple, mode, dims = conv_dims(
        input_size, kernel_size, stride, padding, dilation, output_padding
    )
    sizes = []
    for d in dims:
        if d.output_padding >= max(d.stride, d.dilation):
            raise ValueError(
                "output_padding must be smaller than stride or dilation, got "
                f"output_padding={output_padding!r} with stride={stride!r}, "
                f"dilation={dilation!r}"
            )
        if mode == "same":
            sizes.append(d.input_size + d.output_padding)
            continue
        size = (d.input_size - 1) * d.stride - 2 * d.padding + d.span + d.output_padding
        if size < 1:
            raise ValueError(
                f"padding={padding!r} is too large: input_size={input_size!r} with "
                f"kernel_size={kernel_size!r}, stride={stride!r}, "
                f"dilation={dilation!r} "
                f"would give an output of size {size}"
            )
        sizes.append(size)
    return _answer(is_tuple, sizes)


def output_padding_for(input_size, kernel_size, stride=1, padding=0, dilation=1):
    """The ``output_padding`` with which a transposed convolution undoes the sizes.

    Derived in chapter 3: a convolution drops the ``(padded - span) % stride``
    trailing rows its window never reaches; the transposed convolution must add
    them back to recover ``input_size``.

    Example:
        >>> output_padding_for(8, 3, stride=2, padding=1)
        1
        >>> out = conv_output_size(8, 3, stride=2, padding=1)
        >>> conv_transpose_output_size(out, 3, stride=2, padding=1, output_padding=1)
        8
    """
    conv_output_size(
        input_size, kernel_size, stride, padding, dilation
    )  # checks the fit
    is_tuple, _, dims = conv_dims(input_size, kernel_size, stride, padding, dilation)
    # with "same" (stride 1) and "valid" the padding in dims is 0, as it should be here
    return _answer(
        is_tuple, [(d.input_size + 2 * d.padding - d.span) % d.stride for d in dims]
    )
