"""A convolution's arguments, checked once and spelled out per dimension.

Every function of the package that takes ``stride``, ``padding``, ``dilation``
or tensors goes through this module, so each rule is checked in one place and
the output size is computed once per call. It follows the contract of
``torch.nn.functional.conv2d``: batched ``(N, C_in, H, W)`` or unbatched
``(C_in, H, W)`` input, ``(C_out, C_in / groups, kH, kW)`` weight, ints or
tuples, and ``"valid"``/``"same"`` padding. Errors name the argument and show
the values or shapes involved.

Padding is carried one way only, as ``F.pad`` wants it for an image:
``(left, right, top, bottom)``.
"""

from .dims import Conv2dArgs, Dim, check_fit, conv_dims, pair, window_args
from .tensors import (
    apply_conv2d,
    check_grad_output,
    conv2d_args,
    conv2d_function,
    grad_input_args,
    grad_weight_args,
)

__all__ = [
    "Conv2dArgs",
    "Dim",
    "apply_conv2d",
    "check_fit",
    "check_grad_output",
    "conv2d_args",
    "conv2d_function",
    "conv_dims",
    "grad_input_args",
    "grad_weight_args",
    "pair",
    "window_args",
]
