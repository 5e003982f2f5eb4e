"""convnotes.bench: the timing helper and the benchmark command."""

import time

import pytest
import torch.nn.functional as F

from convnotes import bench
from convnotes.bench import (
    Layer,
    compare,
    compare_problem3,
    forward_backward,
    time_call,
)

TINY = Layer(2, 3, 8, 4, 3, padding=1, targets={"unfold": 1e6, "loops": 1e6})


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


@pytest.mark.parametrize("part", ["backward", "step"])
def test_compare_problem3_times_both_ways_of_computing_the_gradients(part):
    result = compare_problem3(repeats=1, size=32, part=part)
    assert set(result) == {"autograd", "by hand"}
    assert result["autograd"][1] == 1.0 and result["by hand"][1] > 0


def test_compare_problem3_refuses_an_unknown_part():
    with pytest.raises(ValueError, match="part must be 'backward' or 'step'"):
        compare_problem3(part="forward")


def test_paired_medians_times_only_the_run_of_a_prepared_step():
    slow = lambda: time.sleep(0.02)  # noqa: E731
    result = bench.paired_medians(
        {"plain": lambda: None, "prepared": (slow, lambda prepared: prepared)}, 3
    )
    assert result["prepared"][0] < 0.01  # the 20 ms of preparation are not counted


def test_main_prints_a_table_and_checks_targets(monkeypatch, capsys):
    monkeypatch.setattr(bench, "LAYERS", [TINY])
    # the forum problem at its real size is timed by the benchmark, not by the tests
    fast = {"autograd": (0.02, 1.0), "by hand": (0.01, 0.5)}
    monkeypatch.setattr(bench, "compare_problem3", lambda repeats, part: fast)
    assert bench.main(["--repeats", "2", "--check"]) == 0
    out = capsys.readouterr().out
    assert str(TINY) in out and "all targets met" in out
    assert "ratio 0.50x (target <= 1)" in out and "forward + gradients" in out
    impossible = TINY._replace(targets={"unfold": 1e-9})
    monkeypatch.setattr(bench, "LAYERS", [impossible])
    assert bench.main(["--repeats", "2", "--check"]) == 1
    assert "target missed: unfold" in capsys.readouterr().out
    assert bench.main(["--repeats", "2"]) == 0  # without --check it only reports
