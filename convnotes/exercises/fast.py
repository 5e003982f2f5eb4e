"""The checkers of chapter 9's exercises (making it fast)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..arguments import conv2d_args
from ..checking import checker, function, number, parts, random, ruled_out
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
        "read the two ceilings in the source of blocks: the bands are of "
        "nearly equal height, not as many rows as fit.",
    )
    return (
        f"right: {per_row} bytes a row, {len(blocks)} blocks, "
        f"{first} rows at most."
    )


# the operators every convolution of F and torch reaches
_ATEN_CONVOLUTIONS = ("conv2d", "convolution", "_convolution")


@checker(
    "ex-fast-tiles",
    hint=(
        "read 'Windows that do not overlap': each tile's outputs are the "
        "kernel matrix times the tile. Start by cutting a small x, e.g. "
        "torch.arange(16.0).view(1, 1, 4, 4), into its 2×2 tiles with "
        "reshape and permute, and print them."
    ),
)
def _(answer):
    """A function ``tiled_conv2d(x, weight)``, run with ``F.conv2d`` and
    ``F.unfold`` (and ``torch.conv2d``, and the convolutions beneath them,
    ``torch.convolution``, ``torch._convolution`` and their operators in
    ``torch.ops.aten``) switched off."""
    conv2d = F.conv2d  # kept: the answer runs without it

    def reference(x, weight):
        return conv2d(x, weight, stride=weight.shape[2:])

    cases = [
        (random(2, 3, 8, 12, seed=1), random(5, 3, 4, 4, seed=2)),
        (random(1, 2, 7, 10, seed=3), random(4, 2, 2, 3, seed=4)),
    ]
    why = "cut the input into tiles and multiply by the kernel matrix"
    with (
        ruled_out(F, ("conv2d", "unfold"), why),
        ruled_out(torch, ("convolution", "_convolution"), why),
        ruled_out(torch.ops.aten, _ATEN_CONVOLUTIONS, why),
    ):
        return function(
            answer,
            reference,
            cases,
            "tiled_conv2d",
            "check one tile: the tile of image 0's output pixel (0, 0) must "
            "be x[0, :, :kH, :kW], and the output must have the shape "
            "(N, C_out, H_out, W_out), in the order of (image, output row, "
            "output column) of your tiles.",
        )
