"""Replica checks that a task is known to fail today, each with the measured reason.

A registry-driven test over every task that fails for one of these (test, task) pairs is
collected as a strict xfail: CI stays green while the gap is open, the gap stays visible in
every test report, and the day a task passes its check the strict xfail fails, so the entry
must be removed. Nothing else may be listed here: a new failure is a failing test.
"""

KNOWN_GAPS: dict[tuple[str, str], str] = {
    ("test_supervisor_takes_over_after_random_steps", "jenga_whipping"):
        "a 20-step one-strike task: after 15 random steps the supervisor's 5 steps win 1 of 6 episodes (the lash "
        "still sways and random lashes have often disturbed the tower already); issue 10",
    ("test_expert_recovers_when_the_policy_flails_mid_plan", "object_flipping"):
        "after a mid-plan disturbance the rolling egg is recovered in 3 of 6 episodes (bar 65%); issue 10",
    ("test_the_experts_own_episodes_never_look_stalled", "object_flipping"):
        "the expert brakes the rolling egg for 34 steps without a per-phase progress measure; issue 10",
    ("test_expert_succeeds_and_keeps_penetration_under_1mm", "object_flipping"):
        "the flipping expert is noise-sensitive: 77% at action noise 0.05 (3 of these 5 seeds); issue 10",
    ("test_the_experts_own_episodes_never_look_stalled", "ssd_assembly"):
        "the SSD expert reports no per-phase progress; its lay-down phase looks stalled for 29 steps; issue 11",
}
