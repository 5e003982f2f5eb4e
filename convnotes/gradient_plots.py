"""Pictures of a convolution's backward pass (chapter 7), for any kernel,
stride, padding and dilation, drawn from :mod:`convnotes.geometry` with one
rectangle per pixel, so the tests can read back what each frame highlights.
Text is no smaller than :data:`convnotes.display.MIN_TEXT_PX`."""

import itertools
from functools import partial

import torch
from matplotlib import animation

from .arguments import pair, window_args
from .display import animation_player
from .geometry import tap_slices, window_reads
from .grid_picture import COLORS, GridPicture, name_of
from .hand import input_grad_terms

__all__ = ["COLORS", "animate_gather", "animate_input_grad",
           "animate_weight_grad", "conv_matrix", "name_of",
           "plot_conv_matrix", "show"]  # fmt: skip


def _setup(input_size, kernel_size, stride, padding, dilation):
    """The checked arguments, and the padded input as a grid."""
    (H, W), (kH, kW) = pair(input_size), pair(kernel_size)
    args = window_args((H, W), (kH, kW), stride, padding, dilation)
    left, _, top, _ = args.pad

    def role(r, c):
        inside = top <= r < top + H and left <= c < left + W
        return "input" if inside else "padding"

    title = "input, padded" if sum(args.pad) else "input"
    padded = ("input", title, args.padded_size((H, W)), role, None)
    return args, padded


def _animate(grids, frames, always=()):
    """An animation of ``frames``, each ``(caption, window, current)`` (lists
    of squares) and optionally ``labels`` ({square: text} for that frame);
    the current squares of earlier frames are shown done, and ``always`` as
    current. ``.picture``: its :class:`GridPicture`."""
    picture = GridPicture(grids, [caption for caption, *_ in frames])

    def draw(k):
        caption, window, current, *labels = frames[k]
        picture.reset(caption)
        picture.write(labels[0] if labels else {})
        picture.paint(window, "window")
        picture.paint([key for f in frames[:k] for key in f[2]], "done")
        picture.paint([*current, *always], "current")

    anim = animation.FuncAnimation(
        picture.fig, draw, len(frames), interval=900
    )
    anim.picture, anim.draw, anim.frames = picture, draw, frames
    return anim


def show(anim, alt="an animation of the backward pass"):
    """The animation as offline HTML with play controls; closes its figure."""
    return animation_player(anim, alt)


def _sum_text(terms):
    return [name_of("g", *i) + "·" + name_of("w", *u) for i, u in terms]


def animate_input_grad(input_size, kernel_size, stride=1, padding=0,
                       dilation=1):  # fmt: skip
    """The input gradient as a transposed convolution, a pixel a frame: the
    flipped kernel, dilated by ``dilation``, sweeps g spread out and padded
    by ``d(k - 1) - p``; the entries of g under it times the kernel entries
    over them sum to the pixel (``.picture.entry(z, q)``: a square's entry)."""
    (H, W), (kH, kW) = pair(input_size), pair(kernel_size)
    args, _ = _setup(input_size, kernel_size, stride, padding, dilation)
    (d_h, d_w), shape = args.dilation, (kH, kW)

    def entry(z, q):
        # ("grad", (i, j)), ("zero" | "padding", None): z - d(k - 1) + p is
        # the row of g spread out (s - 1 zeros between entries), if any
        index, out = [], args.output_size
        dims = zip((z, q), args.stride, args.dilation, shape, strict=True)
        for n, (a, s, d, k) in enumerate(dims):
            a += args.pad[2 - 2 * n] - d * (k - 1)  # top, or left
            if not 0 <= a <= s * (out[n] - 1):
                return "padding", None
            index.append(a // s if a % s == 0 else None)
        return ("zero", None) if None in index else ("grad", tuple(index))

    spread = (H + d_h * (kH - 1), W + d_w * (kW - 1))
    grids = [
        ("spread", "g spread, padded", spread, lambda *p: entry(*p)[0],
         lambda *p: entry(*p)[1] and name_of("g", *entry(*p)[1])),
        ("flipped", "flipped w", shape, "kernel",
         lambda u, v: name_of("w", kH - 1 - u, kW - 1 - v)),
        ("grad_input", "∂L/∂x", (H, W), "result", None),
    ]  # fmt: skip
    terms = input_grad_terms((H, W), shape, stride, padding, dilation)
    pixels, frames = list(itertools.product(range(H), range(W))), []
    for r, c in pixels:
        sums = _sum_text(terms[r, c])
        more = f" + ... ({len(sums)} terms)" if len(sums) > 4 else ""
        sums = " + ".join(sums[:4]) + more
        caption = f"∂L/∂x[{r},{c}] = {sums or '0: only zeros under w'}"
        window = itertools.product(range(kH), range(kW))
        window = [("spread", r + d_h * u, c + d_w * v) for u, v in window]
        frames.append((caption, window, [("grad_input", r, c)]))
    anim = _animate(grids, frames)
    anim.picture.entry = entry
    return anim


def animate_weight_grad(input_size, kernel_size, stride=1, padding=0,
                        dilation=1):  # fmt: skip
    """The weight gradient as a correlation, an entry a frame: g is the
    kernel, dilated by ``stride``; for entry ``(u, v)`` it sits at
    ``(dilation * u, dilation * v)`` of the padded input, and each input
    square it reads shows the entry of g it is multiplied by."""
    args, padded = _setup(input_size, kernel_size, stride, padding, dilation)
    shape, g_name = pair(kernel_size), partial(name_of, "g")
    grids = [
        padded,
        ("grad", "g as kernel", args.output_size, "grad", g_name),
        ("grad_weight", "∂L/∂w", shape, "result", None),
    ]  # fmt: skip
    (s_h, s_w), (d_h, d_w) = args.stride, args.dilation
    x = "x_p" if sum(args.pad) else "x"
    frames, (Hp, Wp) = [], padded[2]
    for u, v, rows, cols in tap_slices(args, shape):
        caption = (
            f"∂L/∂w[{u},{v}] = sum of g[i,j]·{x}[{d_h * u}+{s_h}i, "
            f"{d_w * v}+{s_w}j]: g dilated by the stride ({s_h}, {s_w}), "
            f"stepping by the dilation ({d_h}, {d_w})"
        )
        reads = itertools.product(
            enumerate(range(Hp)[rows]), enumerate(range(Wp)[cols])
        )
        labels = {("input", r, c): g_name(i, j) for (i, r), (j, c) in reads}
        frames.append((caption, [*labels], [("grad_weight", u, v)], labels))
    return _animate(grids, frames)


def animate_gather(input_size, kernel_size, stride=1, padding=0,
                   dilation=1, pixel=(0, 0)):  # fmt: skip
    """One input pixel's gradient gathered, a frame per output that read
    ``pixel``: that output, its window and the kernel entry that met the
    pixel, read (window colour), and the sum so far; the pixel is current."""
    (H, W), shape = pair(input_size), pair(kernel_size)
    args, padded = _setup(input_size, kernel_size, stride, padding, dilation)
    r, c = pixel
    if not (0 <= r < H and 0 <= c < W):
        raise ValueError(
            f"pixel must be a pixel of the input, of size {(H, W)}, "
            f"got pixel={pixel!r}"
        )
    terms = input_grad_terms((H, W), shape, stride, padding, dilation)[r, c]
    grids = [
        padded,
        ("grad", "g", args.output_size, "grad", partial(name_of, "g")),
        ("kernel", "w", shape, "kernel", partial(name_of, "w")),
    ]  # fmt: skip
    sums = _sum_text(terms)
    frames = [(f"no window reads x[{r},{c}]: its gradient is 0", [], [])]
    for k, ((i, j), (u, v)) in enumerate(terms):
        shown = sums[: k + 1] if k < 3 else ["..."] + sums[k - 1 : k + 1]
        done = "" if k + 1 < len(terms) else ": every output that read it"
        caption = f"∂L/∂x[{r},{c}] = " + " + ".join(shown) + done
        window = window_reads(args, shape, (i, j))
        reads = [("input", y, x) for *_, y, x in window]
        reads += [("grad", i, j), ("kernel", u, v)]
        frames.append((caption, reads, []))
    pixel = [("input", r + args.pad[2], c + args.pad[0])]
    return _animate(grids, frames[1:] if terms else frames, pixel)


def conv_matrix(weight, input_size, stride=1, padding=0, dilation=1):
    """The matrix ``C`` with ``y.flatten() = C @ x.flatten()``, one channel:
    row ``i * W_out + j``, column ``r * W + q`` holds the kernel entry by
    which output (i, j) multiplied input pixel (r, q).

    Example:
        >>> conv_matrix(torch.ones(2, 2), (2, 3)).int()
        tensor([[1, 1, 0, 1, 1, 0],
                [0, 1, 1, 0, 1, 1]], dtype=torch.int32)
    """
    (H, W), kernel = pair(input_size), tuple(weight.shape)
    args = window_args((H, W), kernel, stride, padding, dilation)
    left, _, top, _ = args.pad
    H_out, W_out = args.output_size
    C = weight.new_zeros(H_out * W_out, H * W)
    for i, j in itertools.product(range(H_out), range(W_out)):
        for u, v, y, x in window_reads(args, kernel, (i, j)):
            if top <= y < top + H and left <= x < left + W:
                C[i * W_out + j, (y - top) * W + x - left] = weight[u, v]
    return C


def plot_conv_matrix(input_size=4, kernel_size=3, stride=1, padding=0,
                     dilation=1):  # fmt: skip
    """``C`` between x (above), y = C x (right), g (left) and ∂L/∂x = Cᵀ g
    (below); each non-zero of ``C`` names its kernel entry (``.entries``)."""
    (H, W), (kH, kW) = pair(input_size), pair(kernel_size)
    args, _ = _setup(input_size, kernel_size, stride, padding, dilation)
    index = torch.arange(1, kH * kW + 1).view(kH, kW)  # entry (u, v) + 1
    C = conv_matrix(index, (H, W), stride, padding, dilation)
    (M, K), W_out = C.shape, args.output_size[1]
    entries = {
        (m, k): divmod(int(C[m, k]) - 1, kW) if C[m, k] else None
        for m, k in itertools.product(range(M), range(K))
    }
    grids = [
        ("x", "x, flattened", (1, K), "input",
         lambda _, k: name_of("x", *divmod(k, W)), (2, 0)),
        ("g", "g", (M, 1), "grad",
         lambda m, _: name_of("g", *divmod(m, W_out)), (0, 2)),
        ("C", "C", (M, K), lambda *p: "kernel" if entries[p] else "zero",
         lambda *p: entries[p] and name_of("w", *entries[p]), (2, 2)),
        ("y", "y", (M, 1), "result",
         lambda m, _: name_of("y", *divmod(m, W_out)), (K + 3, 2)),
        ("grad_input", "∂L/∂x = Cᵀ g", (1, K), "done", None, (2, M + 3)),
    ]  # fmt: skip
    text = (
        "y = C x: each row of C is one output's window. ∂L/∂x = Cᵀ g: each "
        "column of C, read down, lists the kernel entries its pixel met."
    )
    picture = GridPicture(grids, [text])
    picture.reset(text)
    picture.fig.entries, picture.fig.picture = entries, picture
    return picture.fig
