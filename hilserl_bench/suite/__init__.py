"""The benchmark suite (``hilserl-bench suite``): every task, every baseline, a table beside the paper's, a report.

``config`` (settings, variants, budgets), ``jobs`` (one demo recording or one run, in a worker
process), ``runner`` (plan and parallel execution), ``tables`` / ``plots`` / ``report`` (results),
``suite`` (the command). Per-task settings are data in each task's ``benchmark`` attribute
(:mod:`hilserl_bench.benchmark_spec`).
"""
