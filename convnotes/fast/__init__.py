"""Fast versions of the package's convolution and gradients (chapter 9).

Same signatures and results as the teaching versions; ordinary NCHW tensors
in and out, with any change of layout made inside.
"""

from .chain import problem3
from .grad import conv2d_input, conv2d_weight
from .unfold import conv2d_unfold

__all__ = ["conv2d_input", "conv2d_unfold", "conv2d_weight", "problem3"]
