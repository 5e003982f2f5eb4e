"""convnotes: 2-D convolution and its gradients, written out by hand.

The companion package of the convnotes course. Each module holds one idea and
names the chapter that derives it.

Imported in a Jupyter kernel, it also shows each matplotlib figure as a PNG
with twice the pixels of its shown size, sharp on a high-density screen, and
records its smallest text in the output's metadata
(:func:`convnotes.display.sharp_figures`; the rule is
:data:`convnotes.display.MIN_TEXT_PX`).
"""

from . import (
    arguments,
    chain,
    data,
    exercises,
    fast,
    grad,
    shapes,
    timing,
    unrolled,
)
from .display import sharp_figures
from .loops import conv2d_loops
from .shapes import conv_output_size, conv_transpose_output_size
from .unfold import conv2d_unfold

__version__ = "0.1.0"

sharp_figures()  # in a Jupyter kernel; elsewhere it does nothing

__all__ = [
    "__version__",
    "arguments",
    "chain",
    "conv2d_loops",
    "conv2d_unfold",
    "conv_output_size",
    "conv_transpose_output_size",
    "data",
    "exercises",
    "fast",
    "grad",
    "shapes",
    "timing",
    "unrolled",
]
