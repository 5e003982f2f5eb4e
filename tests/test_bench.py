"""convnotes.bench: the benchmark command, its targets, threads, problem 3."""

import shutil
import subprocess

import pytest
import torch

from conftest import ROOT
from convnotes import bench, fast
from convnotes.timing import Layer

TINY = Layer(2, 3, 8, 4, 3, padding=1)


def test_the_problem3_functions_give_autograds_gradients():
    x, w1, w2, k, y = (t.double() for t in bench.problem3_tensors())
    x, y = x[:1, :, :64, :64], y[:1, :, :2, :2]  # smaller, same layers
    params = [t.clone().requires_grad_() for t in (x, w1, w2)]
    z = torch.nn.functional.conv2d(
        torch.relu(
            torch.nn.functional.conv2d(params[0], params[1], padding=1)
        ),
        params[2],
        padding=1,
    )
    loss = 0.5 * (torch.nn.functional.conv2d(z, k, stride=32) - y).pow(2).sum()
    expected = torch.autograd.grad(loss, params)
    for name, function in bench.problem3_functions().items():
        got = function(x, w1, w2, k, y)
        torch.testing.assert_close(got[0], loss.detach(), rtol=1e-12, atol=0)
        for g, e in zip(got[1:], expected, strict=True):
            assert g.shape == e.shape, name
            torch.testing.assert_close(
                g, e, rtol=1e-10, atol=1e-10 * e.abs().max()
            )


def test_compare_problem3_times_each_function_against_autograd(monkeypatch):
    small = [
        t[:1, :, :64, :64] if t.dim() == 4 and t.shape[0] == 8 else t
        for t in bench.problem3_tensors()
    ]
    small[4] = small[4][:, :, :2, :2]
    monkeypatch.setattr(bench, "problem3_tensors", lambda: small)
    result = bench.compare_problem3({"tuned": fast.problem3}, repeats=1)
    assert set(result) == {"autograd", "tuned"}
    assert result["autograd"][1] == 1.0 and result["tuned"][1] > 0


def test_compare_layer_pairs_each_convolution_with_the_builtin():
    result = bench.compare_layer(TINY, {"fast": fast.conv2d_unfold}, repeats=2)
    assert set(result) == {"F.conv2d", "fast"}
    assert result["F.conv2d"][1] == 1.0 and result["fast"][0] > 0


def test_main_prints_every_ratio_and_checks_the_targets(monkeypatch, capsys):
    monkeypatch.setattr(bench, "LAYERS", [TINY])
    # the forum problem at its real size is timed by the benchmark, not here
    timed = {
        "autograd": (0.02, 1.0),
        "plain, convnotes.fast": (0.018, 0.9),
        "tuned, fast.problem3": (0.014, 0.7),
        "plain, convnotes.grad": (0.03, 1.5),
    }
    monkeypatch.setattr(bench, "compare_problem3", lambda repeats: timed)
    monkeypatch.setattr(
        bench, "TARGETS", {**bench.TARGETS, "fast.conv2d_unfold": 1e6}
    )
    assert bench.main(["--repeats", "2", "--check"]) == 0
    out = capsys.readouterr().out
    assert str(TINY) in out and "all targets met" in out
    for name in [*bench.CONVOLUTIONS, *timed]:
        assert name in out
    assert "0.70x <= 0.8" in out and "0.90x <= 1" in out
    monkeypatch.setattr(
        bench, "TARGETS", {**bench.TARGETS, "fast.conv2d_unfold": 1e-9}
    )
    assert bench.main(["--repeats", "2", "--check"]) == 1
    assert "target missed: fast.conv2d_unfold" in capsys.readouterr().out
    # without --check it only reports
    assert bench.main(["--repeats", "2"]) == 0


def run_without_timing(monkeypatch, argv):
    """Run ``bench.main(argv)``, timing nothing: the thread counts it saw."""
    seen = []

    def compare_problem3(repeats):
        seen.append(torch.get_num_threads())
        return {"autograd": (0.02, 1.0)}

    monkeypatch.setattr(bench, "LAYERS", [])
    monkeypatch.setattr(bench, "compare_problem3", compare_problem3)
    assert bench.main(argv) == 0
    return seen


@pytest.mark.parametrize("threads", [1, 3])
def test_threads_sets_the_count_before_timing_and_prints_it(
    threads, monkeypatch, capsys
):
    before = torch.get_num_threads()
    seen = run_without_timing(monkeypatch, ["--threads", str(threads)])
    assert seen == [threads]
    first = capsys.readouterr().out.splitlines()[0]
    word = "thread" if threads == 1 else "threads"
    assert f", {threads} {word}, float32," in first, first
    # the caller's count is given back when main is called from Python
    assert torch.get_num_threads() == before


def test_two_threads_by_default(monkeypatch, capsys):
    assert bench.THREADS == 2
    torch.set_num_threads(1)
    try:
        assert run_without_timing(monkeypatch, []) == [2]
    finally:
        torch.set_num_threads(bench.THREADS)
    assert ", 2 threads, float32," in capsys.readouterr().out


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_threads_must_be_a_whole_number_of_at_least_one(value, capsys):
    with pytest.raises(SystemExit) as raised:
        bench.main(["--threads", value])
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert "--threads" in err and f"threads={value!r}" in err, err


@pytest.mark.skipif(shutil.which("make") is None, reason="no make here")
@pytest.mark.parametrize("given, threads", [([], "2"), (["THREADS=3"], "3")])
def test_make_bench_passes_threads(given, threads):
    """The command ``make bench`` would run (-n: printed, not run)."""
    result = subprocess.run(
        ["make", "-s", "-n", "-o", ".venv/.installed", "bench", *given],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    command = result.stdout.strip().splitlines()[-1]
    assert command.startswith(f"OMP_NUM_THREADS={threads} "), command
    assert command.endswith(f"-m convnotes.bench --threads {threads}"), command


def test_a_ratio_just_over_its_target_is_not_printed_as_the_target(
    monkeypatch, capsys
):
    monkeypatch.setattr(bench, "LAYERS", [])
    timed = {
        "autograd": (0.02, 1.0),
        "plain, convnotes.fast": (0.02, 1.004),
        "tuned, fast.problem3": (0.016, 0.8),
    }
    monkeypatch.setattr(bench, "compare_problem3", lambda repeats: timed)
    assert bench.main(["--repeats", "1", "--check"]) == 1
    out = capsys.readouterr().out
    assert " 1.004x > 1 MISSED" in out
    assert "plain, convnotes.fast on problem 3: 1.004x > 1x" in out
    assert " 0.80x <= 0.8" in out  # equal to its target: met, 2 decimals
    timed["plain, convnotes.fast"] = (0.02, 1.0004)
    timed["tuned, fast.problem3"] = (0.016, 0.79996)
    assert bench.main(["--repeats", "1", "--check"]) == 1
    out = capsys.readouterr().out
    assert " 1.0004x > 1 MISSED" in out and " 0.79996x <= 0.8" in out


def test_each_comparison_gives_the_tuned_chain_a_workspace_of_its_own():
    first, second = (
        bench.problem3_functions()["tuned, fast.problem3"] for _ in range(2)
    )
    assert first.func is fast.problem3 and second.func is fast.problem3
    workspaces = first.keywords["workspace"], second.keywords["workspace"]
    assert all(isinstance(w, fast.Workspace) for w in workspaces)
    assert workspaces[0] is not workspaces[1]
