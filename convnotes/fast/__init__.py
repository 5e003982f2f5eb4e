"""Fast versions of the package's convolution and gradients (chapter 9).

``conv2d_unfold``, ``conv2d_input`` and ``conv2d_weight`` have the same
signatures and results as the teaching versions; they take tensors in the
NCHW order and make any change of layout inside. ``problem3`` is the forum
question's third problem, tuned: the results of
:func:`convnotes.chain.problem3`, with ``dL/dx`` returned channels last; a
:class:`Workspace` lets repeated steps keep their temporaries' memory.
"""

from .chain import Workspace, problem3
from .grad import conv2d_input, conv2d_weight
from .unfold import conv2d_unfold

__all__ = [
    "Workspace",
    "conv2d_input",
    "conv2d_unfold",
    "conv2d_weight",
    "problem3",
]
