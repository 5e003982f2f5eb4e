"""Output sizes of convolutions and transposed convolutions.

Derived in chapter 3 (``book/03_output_size.ipynb``). Every function accepts
ints, or tuples (one entry per spatial dimension) mixed with ints, the way
``torch.nn.functional.conv2d`` accepts ``stride=2`` or ``stride=(2, 1)``.
"""

from __future__ import annotations

from .arguments import check_fit, conv_dims

__all__ = [
    "conv_output_size",
    "conv_transpose_output_size",
    "output_padding_for",
    "same_padding",
]


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
    is_tuple, _, dims = conv_dims(
        1, kernel_size, padding="same", dilation=dilation
    )
    return _answer(is_tuple, [(d.before, d.after) for d in dims])


def conv_output_size(input_size, kernel_size, stride=1, padding=0, dilation=1):
    """Size of the output of a convolution, per spatial dimension.

    Derived in chapter 3. The window spans ``dilation * (kernel_size - 1) + 1``
    pixels; it fits at ``floor((padded - span) / stride) + 1`` positions.

    Args:
        input_size: size of the input (int, or a tuple like ``(H_in, W_in)``).
        kernel_size: size of the kernel (int or tuple).
        stride: step between windows (int or tuple).
        padding: zeros added on each side (int or tuple), or ``"valid"``
            (no padding) or ``"same"`` (output as large as the input; stride 1
            only, as in PyTorch).
        dilation: spacing between kernel taps (int or tuple).

    Returns:
        An int if every argument is an int, otherwise a tuple with one entry
        per dimension.

    Shape:
        ``out = floor((in + 2*padding - dilation*(kernel_size - 1) - 1)
        / stride) + 1``

    Raises:
        TypeError: an argument is not an int, a tuple of ints or a padding
            string.
        ValueError: a size, kernel, stride or dilation below 1, negative
            padding, tuples of different lengths, an unknown padding string,
            ``"same"`` with a stride above 1, or a kernel that spans more than
            the padded input.

    Example:
        >>> conv_output_size(5, 3)
        3
        >>> conv_output_size((28, 28), 5, stride=2, padding=2)
        (14, 14)
        >>> conv_output_size(7, 3, padding="same", dilation=2)
        7
    """
    is_tuple, _, dims = conv_dims(
        input_size, kernel_size, stride, padding, dilation
    )
    check_fit(dims, input_size, kernel_size, padding, dilation)
    # Dim.output_size: (input + padding on both sides - span) // stride + 1
    return _answer(is_tuple, [d.output_size for d in dims])


def conv_transpose_output_size(
    input_size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1
):
    """Size of the output of a transposed convolution, per spatial dimension.

    Derived in chapter 3. A transposed convolution maps a convolution's output
    size back to its input size; since ``stride`` input sizes share one output
    size, ``output_padding`` (from 0 to ``stride - 1``) says which. PyTorch
    also accepts values below ``dilation``, which give sizes the convolution
    does not map back to ``input_size``.

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
        TypeError: an argument is not an int, a tuple of ints or a padding
            string.
        ValueError: as for :func:`conv_output_size`, plus negative
            ``output_padding``, ``output_padding`` not smaller than both
            ``stride`` and ``dilation``, or padding so large the output is
            empty.

    Example:
        >>> conv_transpose_output_size(3, 3)
        5
        >>> conv_transpose_output_size(4, 3, stride=2, padding=1)
        7
        >>> conv_transpose_output_size(
        ...     4, 3, stride=2, padding=1, output_padding=1
        ... )
        8
    """
    is_tuple, _, dims = conv_dims(
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
        # the convolution's formula, solved for its input size
        size = (d.input_size - 1) * d.stride - d.before - d.after + d.span
        size += d.output_padding
        if size < 1:
            raise ValueError(
                f"padding={padding!r} is too large: "
                f"input_size={input_size!r} with "
                f"kernel_size={kernel_size!r}, stride={stride!r}, "
                f"dilation={dilation!r} "
                f"would give an output of size {size}"
            )
        sizes.append(size)
    return _answer(is_tuple, sizes)


def output_padding_for(
    input_size, kernel_size, stride=1, padding=0, dilation=1
):
    """The ``output_padding`` for a transposed convolution to undo the sizes.

    Derived in chapter 3: a convolution drops the ``(padded - span) % stride``
    trailing rows its window never reaches; the transposed convolution must
    add them back to recover ``input_size``.

    Example:
        >>> output_padding_for(8, 3, stride=2, padding=1)
        1
        >>> out = conv_output_size(8, 3, stride=2, padding=1)
        >>> conv_transpose_output_size(
        ...     out, 3, stride=2, padding=1, output_padding=1
        ... )
        8
    """
    is_tuple, _, dims = conv_dims(
        input_size, kernel_size, stride, padding, dilation
    )
    check_fit(dims, input_size, kernel_size, padding, dilation)
    return _answer(is_tuple, [(d.padded - d.span) % d.stride for d in dims])
