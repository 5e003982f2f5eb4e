"""convnotes.hand: every entry's gradient, term by term, equals autograd's."""

import pytest
import torch
import torch.nn.functional as F

from convnotes.hand import input_grad_terms, weight_grad_patches

SETTINGS = [
    dict(),
    dict(stride=2),
    dict(padding=1),
    dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2)),
    dict(padding="same"),
]


def autograd_grads(x, w, grad_output, **kwargs):
    x, w = x.clone().requires_grad_(), w.clone().requires_grad_()
    y = F.conv2d(x[None, None], w[None, None], **kwargs)[0, 0]
    return torch.autograd.grad(y, (x, w), grad_output)


def test_the_source_notebooks_numbers():
    # the 3x3 image and 2x2 kernel of the notebook the course starts from, as
    # it prints them (4 decimals): sums of 4 rounded numbers agree to 2e-4
    x = torch.tensor(
        [
            [1.8676, -0.2631, -0.2380],
            [1.0669, 0.5283, -1.2112],
            [1.1241, -0.1771, 1.3998],
        ]
    )
    w = torch.tensor([[0.0848, -0.0717], [-0.2816, 0.3315]])
    patches = weight_grad_patches(x, 2)
    sums = [[patches[(u, v)].sum() for v in range(2)] for u in range(2)]
    expected = torch.tensor([[3.1998, -1.1840], [2.5423, 0.5398]])
    torch.testing.assert_close(torch.tensor(sums), expected, atol=2e-4, rtol=0)
    terms = input_grad_terms((3, 3), 2)
    by_hand = torch.tensor(
        [
            [sum(w[uv] for _, uv in terms[(r, c)]) for c in range(3)]
            for r in range(3)
        ]
    )
    expected = torch.tensor(
        [
            [0.0848, 0.0131, -0.0717],
            [-0.1968, 0.0630, 0.2598],
            [-0.2816, 0.0499, 0.3315],
        ]
    )
    torch.testing.assert_close(by_hand, expected, atol=2e-4, rtol=0)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("kwargs", SETTINGS)
def test_weight_grad_is_the_patches_weighted_by_grad_output(kwargs):
    torch.manual_seed(0)
    x, w = (
        torch.randn(6, 7, dtype=torch.float64),
        torch.randn(3, 2, dtype=torch.float64),
    )
    y = F.conv2d(x[None, None], w[None, None], **kwargs)[0, 0]
    grad_output = torch.randn_like(y)
    _, grad_w = autograd_grads(x, w, grad_output, **kwargs)
    patches = weight_grad_patches(x, (3, 2), **kwargs)
    for (u, v), patch in patches.items():
        assert patch.shape == y.shape
        torch.testing.assert_close((grad_output * patch).sum(), grad_w[u, v])


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("kwargs", SETTINGS)
def test_input_grad_is_the_sum_of_its_terms(kwargs):
    torch.manual_seed(1)
    x, w = (
        torch.randn(6, 7, dtype=torch.float64),
        torch.randn(3, 2, dtype=torch.float64),
    )
    y = F.conv2d(x[None, None], w[None, None], **kwargs)[0, 0]
    grad_output = torch.randn_like(y)
    grad_x, _ = autograd_grads(x, w, grad_output, **kwargs)
    terms = input_grad_terms((6, 7), (3, 2), **kwargs)
    assert set(terms) == {(r, c) for r in range(6) for c in range(7)}
    for (r, c), pairs in terms.items():
        products = (grad_output[ij] * w[uv] for ij, uv in pairs)
        by_hand = sum(products, torch.tensor(0.0))
        torch.testing.assert_close(by_hand.double(), grad_x[r, c])


def test_patches_hold_the_padding_zeros_and_terms_skip_padding_pixels():
    patches = weight_grad_patches(torch.ones(2, 2), 2, padding=1)  # output 3x3
    assert patches[(0, 0)].tolist() == [[0, 0, 0], [0, 1, 1], [0, 1, 1]]
    terms = input_grad_terms((2, 2), 2, padding=1)
    assert set(terms) == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert all(len(pairs) == 4 for pairs in terms.values())


def test_unread_pixels_have_no_terms():
    terms = input_grad_terms((1, 7), (1, 2), stride=3)  # windows at 0 and 3
    unread = [c for (_, c), pairs in sorted(terms.items()) if not pairs]
    assert unread == [2, 5, 6]


def test_bad_input():
    with pytest.raises(
        ValueError,
        match=r"input must be a 2-D image \(H, W\), got input.shape=",
    ):
        weight_grad_patches(torch.zeros(1, 3, 3), 2)
    with pytest.raises(ValueError, match="kernel does not fit"):
        input_grad_terms((2, 2), 3)
