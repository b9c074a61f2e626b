"""Task replicas; importing this package registers every task and its scripted expert."""

from hilserl_bench.envs.experts import ram_insertion as _ram_expert  # noqa: F401, I001
from hilserl_bench.envs.experts import usb_insertion as _usb_expert  # noqa: F401
from hilserl_bench.envs.tasks import ram_insertion, usb_insertion  # noqa: F401
from hilserl_bench.envs.experts import object_flipping as _flip_expert  # noqa: F401, E402
from hilserl_bench.envs.tasks import object_flipping  # noqa: F401, E402
from hilserl_bench.envs.experts import jenga_whipping as _jenga_expert  # noqa: F401, E402
from hilserl_bench.envs.tasks import jenga_whipping  # noqa: F401, E402
from hilserl_bench.envs.tasks import object_handover  # noqa: F401, E402
from hilserl_bench.envs.experts import object_handover as _handover_expert  # noqa: F401, E402
from hilserl_bench.envs.experts import dashboard_assembly as _dashboard_expert  # noqa: F401, E402
from hilserl_bench.envs.tasks import dashboard_assembly  # noqa: F401, E402
from hilserl_bench.envs.tasks import ikea_shelf  # noqa: F401, E402
from hilserl_bench.envs.experts import ikea_shelf as _ikea_expert  # noqa: F401, E402
from hilserl_bench.envs.tasks import ssd_assembly  # noqa: F401, E402
from hilserl_bench.envs.experts import ssd_assembly as _ssd_expert  # noqa: F401, E402
from hilserl_bench.envs.tasks import cable_clipping  # noqa: F401, E402
from hilserl_bench.envs.experts import cable_clipping as _cable_expert  # noqa: F401, E402
from hilserl_bench.envs.tasks import timing_belt  # noqa: F401, E402
from hilserl_bench.envs.experts import timing_belt as _belt_expert  # noqa: F401, E402
