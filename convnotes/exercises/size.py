"""The checkers of chapter 3's exercises (the output-size formula)."""

from __future__ import annotations

from ..checking import checker, number, parts


@checker(
    "ex-size-stem",
    hint=(
        "apply H_out = floor((H_in + 2·padding - kernel) / stride) + 1 to "
        "each layer in turn: the convolution's output is the pooling's "
        "input (cn.conv_output_size computes it)."
    ),
)
def _(answer):
    """(size after the 7x7 layer, size after the 3x3 layer) for 224."""
    first, second = parts(
        answer, 2, "(after the 7×7 layer, after the 3×3 layer)"
    )
    number(
        first,
        112,
        "the size after the 7×7 layer",
        "the 7×7 layer has padding 3 and stride 2; put them in the formula.",
    )
    number(
        second,
        56,
        "the size after the 3×3 layer",
        "the 3×3 layer reads the 7×7 layer's output, with padding 1 and "
        "stride 2.",
    )
    return "right: 224 -> 112 -> 56."


@checker(
    "ex-size-stride32",
    hint=(
        "(a) is the output-size formula with no padding; (b) the floor "
        "drops a remainder: which inputs hold the same number of whole "
        "windows? (c) a transposed convolution turns n_out pixels into "
        "(n_out - 1)·stride + kernel, and output_padding adds what is "
        "missing up to the size wanted."
    ),
)
def _(answer):
    """(measurement size, (smallest, largest) input, output_padding)."""
    size, sizes, extra = parts(
        answer, 3, "(size, (smallest, largest), output_padding)"
    )
    number(
        size,
        4,
        "the measurement size",
        "how many whole 32-pixel windows fit side by side?",
    )
    smallest, largest = parts(sizes, 2, "(smallest, largest) input size")
    number(
        smallest,
        128,
        "the smallest input size",
        "the last window must still fit: where does it end?",
    )
    number(
        largest, 159, "the largest input size", "one more window must not fit."
    )
    number(
        extra,
        22,
        "output_padding",
        "work out the transposed size without it and compare it with 150.",
    )
    return "right: 4×4, from any input of 128 to 159, output_padding 22."


@checker(
    "ex-size-dilated-same",
    hint=(
        "a kernel of size k with dilation d spans d·(k - 1) + 1 pixels, and "
        "keeping the size at stride 1 takes span - 1 pixels of padding in "
        "all, split between the two sides; when that is odd, "
        'plotting.plot_step with padding="same" shows where PyTorch puts '
        "the extra one."
    ),
)
def _(answer):
    """(padding for 5x5 dilation 2, (before, after) of "same" for 4x4)."""
    padding, split = parts(answer, 2, "(padding, (before, after))")
    number(
        padding,
        4,
        "the padding",
        "work out the dilated kernel's span first; both sides together "
        "need span - 1.",
    )
    before, after = parts(split, 2, "(before, after)")
    number(
        before,
        1,
        "the padding before",
        "the padding in all is span - 1, odd here; PyTorch puts the extra "
        "one after.",
    )
    number(
        after,
        2,
        "the padding after",
        "the padding in all is span - 1, odd here; PyTorch puts the extra "
        "one after.",
    )
    return (
        "right: 4 on each side; for 4×4 with dilation 1, 1 before and 2 after."
    )
