"""convnotes.timing: paired medians, forward + backward against F.conv2d."""

import time

import torch.nn.functional as F

from convnotes.timing import (
    Layer,
    compare,
    forward_backward,
    paired_medians,
    time_call,
)

TINY = Layer(2, 3, 8, 4, 3, padding=1)


def test_forward_backward_returns_all_three_gradients():
    x, w, b, grad_output = TINY.tensors()
    grads = forward_backward(F.conv2d, TINY, x, w, b, grad_output)
    assert [g.shape for g in grads] == [x.shape, w.shape, b.shape]


def test_time_call_measures_a_call():
    assert 0 < time_call(lambda: sum(range(1000))) < 1


def test_compare_reports_medians_and_ratios_to_the_builtin():
    result = compare(TINY, repeats=3)
    assert set(result) == {"F.conv2d", "unfold", "loops"}
    assert result["F.conv2d"][1] == 1.0
    for seconds, ratio in result.values():
        assert seconds > 0 and ratio > 0


def test_paired_medians_times_only_the_run_of_a_prepared_step():
    slow = lambda: time.sleep(0.02)  # noqa: E731
    steps = {
        "plain": lambda: None,
        "prepared": (slow, lambda prepared: prepared),
    }
    result = paired_medians(steps, 3)
    assert result["prepared"][0] < 0.01  # 20 ms of preparation, not counted


def test_paired_medians_takes_each_ratio_within_a_repeat():
    calls = []

    def base():
        calls.append("base")
        time.sleep(0.002 * len(calls))  # slower from repeat to repeat

    def twice():
        calls.append("twice")
        time.sleep(0.004 * len(calls))

    ratio = paired_medians({"base": base, "twice": twice}, 3)["twice"][1]
    assert 1.5 < ratio < 3
