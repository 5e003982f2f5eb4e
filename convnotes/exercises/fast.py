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
        "read 'Windows that do not overlap': the weight gradient sums, over "
        "tiles, each tile's output gradient times the tile. Start by cutting "
        "a small x, e.g. torch.arange(16.0).view(1, 1, 4, 4), into its 2×2 "
        "tiles with reshape and permute, and print them."
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
        "check one tile: the tile of image 0's output pixel (0, 0) must be "
        "x[0, :, :kH, :kW], and grad_output's entries must come in the same "
        "order of (image, output row, output column) as your tiles.",
    )
