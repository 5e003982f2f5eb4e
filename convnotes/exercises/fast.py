"""The checkers of chapter 9's exercises (making it fast)."""

from __future__ import annotations

import torch

from .. import grad
from ..arguments import conv2d_args
from ..checking import checker, function, number, parts, random
from ..fast import unfold


@checker(
    "ex-fast-blocks",
    hint=(
        "read the source of cn.fast.unfold.blocks: one output row's columns "
        "are W_out pixels of C_in·kH·kW entries, 4 bytes each in float32; "
        "BLOCK_BYTES divided by that is how many rows fit, and each image's "
        "H_out rows are cut into bands of nearly equal height."
    ),
)
def _(answer):
    """(bytes of one output row's columns, blocks, first block's rows)."""
    row_bytes, count, rows = parts(
        answer,
        3,
        "(bytes of one output row's columns, blocks, first block's rows)",
    )
    x, w = torch.zeros(2, 64, 128, 128), torch.zeros(64, 64, 3, 3)
    blocks = unfold.blocks(x, w, conv2d_args(x, w, padding=1))
    per_row = 64 * 3 * 3 * 128 * x.element_size()
    fit = max(1, unfold.BLOCK_BYTES // per_row)
    first = blocks[0].args.output_size[0]
    number(
        row_bytes,
        per_row,
        "one output row's columns, in bytes,",
        "W_out pixels, each with a column of C_in * kH * kW float32 entries.",
    )
    number(
        count,
        len(blocks),
        "the number of blocks",
        f"{fit} output rows fit in BLOCK_BYTES = {unfold.BLOCK_BYTES}; "
        "if that is "
        "fewer than an image's 128, each of the 2 images is cut into "
        "ceil(128 / rows) bands.",
    )
    number(
        rows,
        first,
        "the first block's output rows",
        "bands of nearly equal height, all but the last the same: "
        "ceil(H_out / ceil(H_out / rows)).",
    )
    return (
        f"right: {per_row} bytes a row, {len(blocks)} blocks, "
        f"{first} rows at most."
    )


@checker(
    "ex-fast-tiles",
    hint=(
        "with stride equal to the kernel each output pixel reads its own "
        "tile: crop x to the H_out·kH rows and W_out·kW columns the windows "
        "read, reshape and permute it to one row per output pixel, and "
        "multiply by grad_output laid out the same way; "
        "cn.fast.grad._input_grad_tiled, shown in the chapter, goes the "
        "other way."
    ),
)
def _(answer):
    """A function ``tiled_weight_grad(x, grad_output, kernel_size)``."""

    def reference(x, grad_output, kernel_size):
        weight_size = (grad_output.shape[1], x.shape[1], *kernel_size)
        return grad.conv2d_weight(
            x, weight_size, grad_output, stride=kernel_size
        )

    cases = [
        (random(2, 3, 8, 12, seed=1), random(2, 5, 2, 3, seed=2), (4, 4)),
        (random(1, 2, 7, 10, seed=3), random(1, 4, 3, 3, seed=4), (2, 3)),
    ]
    return function(
        answer,
        reference,
        cases,
        "tiled_weight_grad",
        "rows of grad_output (one per output pixel, C_out wide) "
        "transposed, times rows of tiles (C_in * kH * kW wide); "
        "leave out the unreached rows first.",
    )
