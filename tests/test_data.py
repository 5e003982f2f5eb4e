"""convnotes.data: the photograph, offline."""

import torch

from convnotes import data


def test_grace_hopper_gray_and_colour_agree():
    gray = data.grace_hopper(dtype=torch.float64)
    colour = data.grace_hopper(gray=False, dtype=torch.float64)
    assert gray.shape == (600, 512) and colour.shape == (3, 600, 512)
    assert 0 <= float(gray.min()) < float(gray.max()) <= 1
    # PIL's "L" conversion is the ITU-R 601 luma of the colour, in whole levels
    weights = torch.tensor([0.299, 0.587, 0.114]).double()
    luma = torch.tensordot(weights, colour, 1)
    assert (gray - luma).abs().max() <= 1 / 255 + 1e-9
    assert gray.std() > 0.1  # a real photograph, not a blank
