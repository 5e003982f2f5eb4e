"""convnotes: 2-D convolution and its gradients, written out by hand.

The companion package of the convnotes course. Each module holds one idea and
names the chapter that derives it.
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
from .loops import conv2d_loops
from .shapes import conv_output_size, conv_transpose_output_size
from .unfold import conv2d_unfold

__version__ = "0.1.0"

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
