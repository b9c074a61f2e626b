"""Task replicas; importing this package registers every task and its scripted expert."""

from hilserl_bench.envs.experts import ram_insertion as _ram_expert  # noqa: F401
from hilserl_bench.envs.tasks import ram_insertion  # noqa: F401
