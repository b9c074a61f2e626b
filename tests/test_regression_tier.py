"""The quick regression tier over every registered task, and how it reports a miss.

``test_regression_tier`` runs :func:`hilserl_bench.regression.run_tier` on each task (expert,
random policy, quick BC, env/physics time ratio) and fails with one line per figure that
misses the bar stored on the task class. It replaces test_envs' old random-policy check
(5 random episodes per task, no success), which the tier's ``random_success`` covers.
"""

from __future__ import annotations

import json

import pytest

import hilserl_bench
from hilserl_bench import registry
from hilserl_bench.cli import main
from hilserl_bench.regression import Figure, MissingRegressionSpec, failures, run_tier, thresholds_for
from hilserl_bench.regression_spec import RegressionThresholds

TASKS = hilserl_bench.tasks()


@pytest.mark.parametrize("task", TASKS)
def test_every_task_stores_its_regression_bars(task: str) -> None:
    try:
        spec = thresholds_for(task)
    except MissingRegressionSpec as missing:
        pytest.fail(str(missing))
    assert spec.min_expert_success > spec.max_random_success, f"{task}: the bars cannot tell expert from random"


@pytest.mark.parametrize("task", TASKS)
def test_regression_tier(task: str) -> None:
    try:
        figures = run_tier(task)
    except MissingRegressionSpec as missing:
        pytest.fail(str(missing))
    assert [f.name for f in figures] == ["expert_success", "random_success", "bc_success", "physics_ratio"]
    problems = failures(figures)
    assert not problems, "\n".join(problems)


def test_a_task_class_without_bars_is_named_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    class Bare(registry.task_class("ram_insertion")):
        regression = None

    monkeypatch.setattr(registry, "task_class", lambda task: Bare)
    with pytest.raises(MissingRegressionSpec, match=r"timing_belt: task class Bare has no regression thresholds"):
        thresholds_for("timing_belt")


def test_inherited_bars_do_not_count() -> None:
    """A subclass must state its own bars: another task's figures are not its measurements."""
    class Child(registry.task_class("ram_insertion")):
        pass

    assert isinstance(registry.task_class("ram_insertion").__dict__["regression"], RegressionThresholds)
    assert "regression" not in Child.__dict__


def test_failure_messages_name_task_figure_and_threshold() -> None:
    low = Figure("ram_insertion", "expert_success", 0.6, 0.8, "min", "10 episodes")
    fast = Figure("ram_insertion", "physics_ratio", 2.1, 4.0, "max")
    slow = Figure("usb_insertion", "physics_ratio", 5.2, 4.0, "max")
    unmeasured = Figure("usb_insertion", "bc_success", None, 0.6, "min", "expert could not record")
    skipped = Figure("jenga_whipping", "bc_success", None, None, "min", "skipped")
    assert [f.passed for f in (low, fast, slow, unmeasured, skipped)] == [False, True, False, False, True]
    assert failures([low, fast, slow, unmeasured, skipped]) == [
        "ram_insertion: expert_success = 0.600, threshold >= 0.8 (10 episodes)",
        "usb_insertion: physics_ratio = 5.200, threshold <= 4.0",
        "usb_insertion: bc_success = not measured, threshold >= 0.6 (expert could not record)",
    ]


@pytest.mark.parametrize("field", [{"min_expert_success": 1.2}, {"max_physics_ratio": 0.5}, {"episodes": 0},
                                   {"min_bc_success": None}])
def test_bad_thresholds_are_refused(field: dict) -> None:
    base = {"min_expert_success": 0.8, "max_random_success": 0.0, "min_bc_success": 0.6, "max_physics_ratio": 4.0}
    with pytest.raises(ValueError, match=next(iter(field))):
        RegressionThresholds(**{**base, **field})


def test_regress_cli_prints_the_table_and_exits_1_on_a_miss(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    def fake_tier(task: str, seed: int = 0, bc_steps: int = 0) -> list[Figure]:
        return [Figure(task, "expert_success", 1.0, 0.8, "min"), Figure(task, "physics_ratio", 9.0, 4.0, "max")]

    monkeypatch.setattr("hilserl_bench.regression_cli.run_tier", fake_tier)
    assert main(["regress", "--tasks", "ram_insertion"]) == 1
    out = capsys.readouterr().out
    assert "ram_insertion  expert_success  1.000" in out
    assert "FAIL ram_insertion: physics_ratio = 9.000, threshold <= 4.0" in out
    assert main(["regress", "--tasks", "ram_insertion", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [row["passed"] for row in report["figures"]] == [True, False]
    assert report["failures"] == ["ram_insertion: physics_ratio = 9.000, threshold <= 4.0"]


def test_regress_cli_exits_0_when_every_bar_holds(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr("hilserl_bench.regression_cli.run_tier",
                        lambda task, seed=0, bc_steps=0: [Figure(task, "random_success", 0.0, 0.0, "max")])
    assert main(["regress", "--tasks", "ram_insertion", "usb_insertion"]) == 0
    assert "0 failure(s) over 2 task(s)" in capsys.readouterr().out


def test_regress_cli_refuses_an_unknown_task(capsys) -> None:
    assert main(["regress", "--tasks", "ram_insert"]) == 2
    assert "ram_insertion" in capsys.readouterr().err
