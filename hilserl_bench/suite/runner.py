"""Plan the suite's jobs and run them over the machine's cores, then write the results.

Each task and observation mode first records its demos; as soon as they exist, that task's
runs (every variant and seed) are queued. Jobs run in separate processes (spawned, so each has
its own JAX and MuJoCo), with XLA and the BLAS libraries held to ``cores // jobs`` threads so N
jobs do not oversubscribe the CPU. ``--jobs 1`` runs everything in this process (tests). A line
is printed as each job starts and ends, and an overall bar counts finished jobs.
"""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any, TextIO

from hilserl_bench.errors import UserFacingError
from hilserl_bench.suite.config import SuiteConfig
from hilserl_bench.suite.jobs import DemoJob, RunJob, record_demos, train_and_evaluate

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "XLA_CPU_THREADS")


def check_config(cfg: SuiteConfig) -> list[str]:
    """Validate before any work: task ids, counts, and pixels only where a GPU is present."""
    from hilserl_bench.main_job import resolve_tasks

    tasks = resolve_tasks(cfg.tasks)
    for name, value in (("--eval-episodes", cfg.eval_episodes), ("--jobs", cfg.workers())):
        if value < 1:
            raise UserFacingError(f"{name} {value} must be >= 1")
    if not cfg.seeds or not cfg.variants or not cfg.obs_modes:
        raise UserFacingError("--seeds, --variants and --obs-modes each need at least one value")
    for name, value in (("--env-steps", cfg.env_steps), ("--bc-steps", cfg.bc_steps), ("--num-demos", cfg.num_demos)):
        if value is not None and value < 1:
            raise UserFacingError(f"{name} {value} must be >= 1")
    if "pixels" in cfg.obs_modes and not gpu_present():
        raise UserFacingError("--obs-modes pixels needs a GPU (the ResNet-10 encoder is far too slow on CPU); "
                              "use --obs-modes state noisy_state here")
    return tasks


def gpu_present() -> bool:
    """Whether JAX sees a GPU."""
    import jax

    return any(d.platform == "gpu" for d in jax.devices())


def plan(cfg: SuiteConfig, tasks: list[str]) -> tuple[list[DemoJob], dict[DemoJob, list[RunJob]]]:
    """Demo jobs, and the run jobs that wait for each; settings come from each task's TaskBenchmark."""
    from hilserl_bench.benchmark_spec import benchmark_of

    demos, runs = [], {}
    for task in tasks:
        spec = benchmark_of(task)
        env_steps = cfg.env_steps if cfg.env_steps is not None else spec.env_steps(cfg.budget)
        for obs_mode in cfg.obs_modes:
            demo = DemoJob(task, obs_mode, cfg.num_demos or spec.num_demos, cfg.out / "demos" / f"{task}_{obs_mode}")
            demos.append(demo)
            runs[demo] = [
                RunJob(task, obs_mode, variant, seed, env_steps, cfg.bc_steps_used(), demo.out_dir,
                       cfg.out / "runs" / task / obs_mode / f"{variant}_s{seed}", cfg.eval_episodes, cfg.eval_seed,
                       video_path(cfg, task) if wants_video(cfg, obs_mode, variant, seed) else None,
                       cfg.disturb_episodes if obs_mode == "state" else 0)
                for variant in cfg.variants_for(obs_mode) for seed in cfg.seeds]
    return demos, runs


def wants_video(cfg: SuiteConfig, obs_mode: str, variant: str, seed: int) -> bool:
    """The one run per task whose evaluation episode is filmed: the best-ranked variant, first seed, first mode."""
    order = [v for v in ("rlpd_interv", "rlpd_no_interv", "hgdagger", "bc") if v in cfg.variants]
    return cfg.video and obs_mode == cfg.obs_modes[0] and variant == order[0] and seed == cfg.seeds[0]


def video_path(cfg: SuiteConfig, task: str) -> Path:
    return cfg.reports / "videos" / f"{task}.mp4"


def thread_env(workers: int, cache_dir: Path) -> dict[str, str]:
    """Thread limits for ``workers`` parallel jobs on this machine's cores, and a shared JAX compilation cache
    (a task's runs compile the same networks; the cache spares every process but the first that work).

    XLA's optimisations stay on: turning them off (``JAX_DISABLE_MOST_OPTIMIZATIONS``) was measured to double
    the CPU time of a 400-step BC run (44.6 s against 23.0 s, compile included).
    """
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    flags = f"--xla_cpu_multi_thread_eigen={'true' if threads != '1' else 'false'} " \
            f"intra_op_parallelism_threads={threads}"
    return {**{var: threads for var in THREAD_VARS}, "XLA_FLAGS": flags,
            "JAX_COMPILATION_CACHE_DIR": str(cache_dir.resolve()), "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "1"}


class InlineExecutor(Executor):
    """Runs each submitted job at once in this process (``--jobs 1``)."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001  (handed to the caller through the future)
            future.set_exception(exc)
        return future


def describe(job: DemoJob | RunJob) -> str:
    return job.label() if isinstance(job, RunJob) else f"{job.task} {job.obs_mode} demos"


def execute(cfg: SuiteConfig, tasks: list[str], stream: TextIO | None = None) -> tuple[list[dict], list[dict]]:
    """Run every job (parallel, resumable); returns the run results and the failures.

    A job that raises is reported (one line, and in the failures list) and the rest go on; runs
    waiting on failed demos are skipped. Re-running the command retries only what is not done.
    """
    from tqdm import tqdm

    stream = stream or sys.stderr
    demos, runs = plan(cfg, tasks)
    workers = cfg.workers()
    total = len(demos) + sum(len(v) for v in runs.values())
    started = time.monotonic()
    run_results: list[dict] = []
    failures: list[dict] = []
    saved: dict[str, str | None] = {}
    if workers > 1:
        import multiprocessing

        env = thread_env(workers, cfg.out / "jax_cache")
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)  # spawned children inherit these before they import JAX
        pool: Executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    else:
        pool = InlineExecutor()
    ready: list[DemoJob | RunJob] = list(demos)
    pending: dict[Future, DemoJob | RunJob] = {}

    def log(text: str) -> None:
        print(f"[{time.monotonic() - started:7.0f} s] {text}", file=stream, flush=True)

    try:
        with tqdm(total=total, unit="job", desc="suite", file=stream, dynamic_ncols=True) as bar:
            while ready or pending:
                while ready and len(pending) < workers:
                    job = ready.pop(0)
                    log(f"start {describe(job)}")
                    pending[pool.submit(record_demos if isinstance(job, DemoJob) else train_and_evaluate, job)] = job
                done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for future in done:
                    job = pending.pop(future)
                    bar.update(1)
                    error = future.exception()
                    if error is not None:
                        failures.append({"job": describe(job), "error": f"{type(error).__name__}: {error}"})
                        log(f"FAILED {describe(job)}: {type(error).__name__}: {error}")
                        if isinstance(job, DemoJob):
                            bar.update(len(runs[job]))
                            failures += [{"job": r.label(), "error": "its demos failed"} for r in runs[job]]
                        continue
                    result = future.result()
                    if isinstance(job, DemoJob):
                        log(f"demos {job.task} {job.obs_mode}: {result['recorded']} recorded")
                        ready = sorted(runs[job], key=lambda r: r.variant == "bc") + ready
                    else:
                        run_results.append(result)
                        log(f"{result['status']} {job.label()}: success {result['report']['success_rate']:.2f} over "
                            f"{job.eval_episodes} episodes ({bar.n}/{total} jobs)")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return run_results, failures
