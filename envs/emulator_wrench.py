"""The emulator of the wrench-controlled robot-server variant (object flipping, Jenga whipping).

The official wrench server has /wrench ``{"arr": [fx, fy, fz, tx, ty, tz]}`` and /reset
(a joint PD back to the reset posture) and no /pose, /update_param or /jointreset;
everything else (/getstate and the getters, gripper, /clearerr) is as on the impedance
server. :class:`WrenchEmulatorCore` runs a :class:`SimWrenchBackend` under the same
time models as :class:`~hilserl_bench.envs.emulator.EmulatorCore`; in ``step`` mode a
/wrench opens one control period exactly like a /pose does, so a seeded run over HTTP
reproduces the sim backend step for step. :func:`emulator_for` and :func:`app_for`
pick the right variant for a task, so ``serve-sim`` serves whichever the task declares.
"""

from __future__ import annotations

from typing import Any

import mujoco
from flask import Flask, Response, request

from hilserl_bench.envs.emulator import EmulatorConfig, EmulatorCore, EmulatorRequestError, _vector
from hilserl_bench.envs.emulator_app import create_app
from hilserl_bench.envs.sim_wrench_backend import SimWrenchBackend
from hilserl_bench.registry import task_class

MISSING_ROUTES = ("pose", "update_param", "jointreset")
"""Impedance-server routes the wrench variant does not have (answered with HTTP 404)."""


class WrenchEmulatorCore(EmulatorCore):
    """The wrench-controlled cell plus server-side state (errors, e-stop)."""

    backend_cls = SimWrenchBackend

    def wrench(self, arm: int, values: Any) -> None:
        """/wrench: the feed-forward wrench, held for at most the server's command timeout."""
        wrench = _vector(values, 6, "arr")
        if self._pending[arm]:
            self._flush()
        if self.error is None and not self.estop:
            self.sim.arms[arm].set_wrench(wrench)
        self._pending[arm] = True

    def wrench_reset(self, arm: int) -> None:
        """/reset: joint PD to the task's reset posture for the server's reset duration (blocking)."""
        if self.estop:
            raise EmulatorRequestError("emergency stop engaged; release it before /reset")
        sim_arm = self.sim.arms[arm]
        q_target = sim_arm.solve_ik(self.task.reset_pose, self.sim.data.qpos[sim_arm.qpos_addrs].copy())
        sim_arm.wrench_reset(q_target)
        self.error = None
        self._restart_clock()

    def clear_error(self, arm: int) -> None:
        """Clearing an error restarts wrench control (the arm held still while it was set)."""
        was = self.error
        super().clear_error(arm)
        if was is not None and self.error is None:
            self.sim.arms[arm].controller.start_wrench(self.sim.data)
            mujoco.mj_forward(self.sim.model, self.sim.data)

    def info(self) -> dict[str, Any]:
        return {**super().info(), "control_mode": "wrench"}


def emulator_for(task_id: str, config: EmulatorConfig | None = None, **task_overrides: Any) -> EmulatorCore:
    """The emulator core of the server variant ``task_id`` declares (impedance or wrench)."""
    cls = WrenchEmulatorCore if task_class(task_id).control_mode == "wrench" else EmulatorCore
    return cls(task_id, config, **task_overrides)


def app_for(core: EmulatorCore, arm: int = 0) -> Flask:
    """The HTTP app for ``core``: the impedance server's routes, or the wrench variant's."""
    app = create_app(core, arm)
    if not isinstance(core, WrenchEmulatorCore):
        return app

    def missing(route: str):
        def answer() -> Response:
            core.count(route)
            return Response(f"/{route} does not exist on the wrench-controlled server; it takes /wrench and /reset",
                            status=404, mimetype="text/plain")

        return answer

    for route in MISSING_ROUTES:
        app.view_functions[route] = missing(route)

    @app.post("/wrench")
    def wrench():
        payload = request.get_json(force=True, silent=True)
        if not isinstance(payload, dict) or "arr" not in payload:
            raise EmulatorRequestError("/wrench expects JSON {\"arr\": [fx, fy, fz, tx, ty, tz]}; field 'arr' missing")
        core.count("wrench")
        core.call(core.wrench, arm, payload["arr"])
        return Response("Wrench", mimetype="text/plain")

    @app.post("/reset")
    def reset():
        core.count("reset")
        core.call(core.wrench_reset, arm)
        return Response("Reset", mimetype="text/plain")

    return app
