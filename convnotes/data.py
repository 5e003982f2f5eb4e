"""A real photograph, available offline: the one matplotlib ships.

Grace Hopper's portrait (``grace_hopper.jpg``, 600x512) is part of
matplotlib's sample data, installed with the package, so the chapters that
need a real image work with no network.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["grace_hopper"]


def grace_hopper(gray=True, dtype=torch.float32):
    """The photograph as a tensor with values in [0, 1].

    Returns ``(600, 512)`` in gray (ITU-R 601 luma, as PIL's "L" mode), or
    ``(3, 600, 512)`` in colour.

    Example:
        >>> image = grace_hopper()
        >>> tuple(image.shape), image.dtype
        ((600, 512), torch.float32)
        >>> bool(0 <= image.min() < image.max() <= 1)
        True
    """
    from matplotlib.cbook import get_sample_data
    from PIL import Image

    with (
        get_sample_data("grace_hopper.jpg") as file,
        Image.open(file) as picture,
    ):
        array = np.asarray(picture.convert("L" if gray else "RGB"))
    tensor = torch.from_numpy(array.copy()).to(dtype) / 255
    return tensor if gray else tensor.permute(2, 0, 1)
