"""convnotes: 2-D convolution and its gradients, written out by hand.

The companion package of the convnotes course. Each module holds one idea and
names the chapter that derives it.
"""

from . import shapes
from .shapes import conv_output_size, conv_transpose_output_size

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "conv_output_size",
    "conv_transpose_output_size",
    "shapes",
]
