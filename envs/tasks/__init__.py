"""Task replicas; importing this package registers every task and its scripted expert."""

from hilserl_bench.envs.experts import ram_insertion as _ram_expert  # noqa: F401, I001
from hilserl_bench.envs.experts import usb_insertion as _usb_expert  # noqa: F401
from hilserl_bench.envs.tasks import ram_insertion, usb_insertion  # noqa: F401
from hilserl_bench.envs.tasks import ssd_assembly  # noqa: F401, E402
from hilserl_bench.envs.experts import ssd_assembly as _ssd_expert  # noqa: F401, E402
from hilserl_bench.envs.tasks import cable_clipping  # noqa: F401, E402
from hilserl_bench.envs.experts import cable_clipping as _cable_expert  # noqa: F401, E402
