"""The emulator's HTTP face: the real robot server's routes (Flask) plus ``/sim/...`` extras.

Real-protocol routes answer exactly like the official server (POST, plain-text
acknowledgements, JSON getters; /getstate adds the optional extension fields
``error``, ``estop`` and ``time``, which clients of the official server ignore).
Unlike the official server, malformed requests get HTTP 400 naming the field.
/update_param behaves like the real parameter server: values are clamped into their
ranges and applied (the clamped keys are listed in an ``X-Clamped-Params`` header);
an unknown key is refused with 400 naming it, where the real server answers 500.
/jointreset is a blocking joint-space move to the home posture, carrying what the
hand holds.

Emulator-only routes, never present on hardware: ``/sim/info``, ``/sim/reset``,
``/sim/camera/<name>`` (raw RGB bytes, or PNG with ``?format=png``),
``/sim/scene_state``, ``/sim/inject_error`` and ``/sim/estop``.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import logging
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from flask import Flask, Response, jsonify, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from hilserl_bench import geometry as geo
from hilserl_bench.envs.emulator import EmulatorCore, EmulatorRequestError

_GETTERS = {"getpos": "pose", "getvel": "vel", "getforce": "force", "gettorque": "torque", "getq": "q",
            "getdq": "dq", "getjacobian": "jacobian"}


def create_app(core: EmulatorCore, arm: int = 0) -> Flask:
    """Flask app serving one arm of ``core`` (a dual-arm cell runs one app per arm on the same core)."""
    app = Flask(f"hilserl-emulator-{arm}")

    def body() -> Any:
        return request.get_json(force=True, silent=True)

    def text(endpoint: str, fn, *args: Any, answer: str) -> Response:
        core.count(endpoint)
        core.call(fn, *args)
        return Response(answer, mimetype="text/plain")

    def state_json(endpoint: str) -> dict[str, Any]:
        core.count(endpoint)
        return core.call(core.state, arm)

    @app.errorhandler(EmulatorRequestError)
    def _bad_request(exc: EmulatorRequestError):
        return Response(str(exc), status=400, mimetype="text/plain")

    @app.errorhandler(KeyError)
    def _not_found(exc: KeyError):
        return Response(str(exc.args[0] if exc.args else exc), status=404, mimetype="text/plain")

    @app.post("/pose")
    def pose():
        payload = body()
        if not isinstance(payload, dict) or "arr" not in payload:
            raise EmulatorRequestError("/pose expects JSON {\"arr\": [x, y, z, qx, qy, qz, qw]}; field 'arr' missing")
        return text("pose", core.pose, arm, payload["arr"], answer="Moved")

    @app.route("/getstate", methods=["POST", "GET"])
    def getstate():
        return jsonify(state_json("getstate"))

    @app.route("/getpos_euler", methods=["POST", "GET"])
    def getpos_euler():
        pose = np.asarray(state_json("getpos_euler")["pose"])
        return jsonify({"pose": np.concatenate([pose[:3], geo.quat_to_euler(pose[3:])]).tolist()})

    def make_getter(route: str, key: str):
        def getter():
            return jsonify({key: state_json(route)[key]})

        app.add_url_rule(f"/{route}", route, getter, methods=["POST", "GET"])

    for route, key in _GETTERS.items():
        make_getter(route, key)

    @app.route("/get_gripper", methods=["POST", "GET"])
    def get_gripper():
        return jsonify({"gripper": state_json("get_gripper")["gripper_pos"]})

    @app.post("/clearerr")
    def clearerr():
        return text("clearerr", core.clear_error, arm, answer="Clear")

    @app.post("/update_param")
    def update_param():
        core.count("update_param")
        clamped = core.call(core.update_params, arm, body())
        headers = {"X-Clamped-Params": ",".join(clamped)} if clamped else None
        return Response("Updated compliance parameters", mimetype="text/plain", headers=headers)

    @app.post("/jointreset")
    def jointreset():
        return text("jointreset", core.joint_reset, arm, answer="Reset Joint")

    @app.post("/open_gripper")
    def open_gripper():
        return text("open_gripper", core.gripper, arm, False, answer="Opened")

    @app.post("/close_gripper")
    def close_gripper():
        return text("close_gripper", core.gripper, arm, True, answer="Closed")

    @app.post("/close_gripper_slow")
    def close_gripper_slow():
        return text("close_gripper_slow", core.gripper, arm, True, answer="Closed")

    @app.post("/move_gripper")
    def move_gripper():
        payload = body()
        pos = payload.get("gripper_pos") if isinstance(payload, dict) else None
        if not isinstance(pos, int | float) or not 0 <= pos <= 255:
            raise EmulatorRequestError("/move_gripper expects {\"gripper_pos\": 0..255}")
        return text("move_gripper", core.gripper, arm, None, float(pos) / 2550.0, answer="Moved Gripper")

    for route, answer in (("startimp", "Started impedance"), ("stopimp", "Stopped impedance"),
                          ("set_load", "Set Load"), ("activate_gripper", "Activated"), ("reset_gripper", "Reset")):
        app.add_url_rule(f"/{route}", route, (lambda a=answer, r=route: (core.count(r), a)[1]), methods=["POST"])

    # -- emulator-only --------------------------------------------------------------------
    @app.route("/sim/info", methods=["POST", "GET"])
    def sim_info():
        return jsonify(core.call(core.info))

    @app.post("/sim/reset")
    def sim_reset():
        payload = body()
        core.count("sim/reset")
        return jsonify(core.call(core.reset, payload if isinstance(payload, dict) else {}))

    @app.route("/sim/camera/<name>", methods=["POST", "GET"])
    def sim_camera(name: str):
        core.count("sim/camera")
        frame = core.call(core.camera, name, request.args.get("size", type=int))
        if request.args.get("format", "raw") == "png":
            from PIL import Image

            buf = io.BytesIO()
            Image.fromarray(frame).save(buf, format="PNG")
            return Response(buf.getvalue(), mimetype="image/png")
        shape = ",".join(str(s) for s in frame.shape)
        return Response(frame.tobytes(), mimetype="application/octet-stream", headers={"X-Frame-Shape": shape})

    @app.route("/sim/scene_state", methods=["POST", "GET"])
    def sim_scene_state():
        core.count("sim/scene_state")
        return jsonify(core.call(core.scene_state))

    @app.post("/sim/inject_error")
    def sim_inject_error():
        payload = body() or {}
        return text("sim/inject_error", core.inject_error, payload.get("kind", "cartesian_reflex"), answer="Injected")

    @app.post("/sim/estop")
    def sim_estop():
        payload = body() or {}
        return text("sim/estop", core.set_estop, bool(payload.get("engaged", True)), answer="E-stop")

    return app


class _TrackingHandler(WSGIRequestHandler):
    """Remembers open connections so :meth:`RunningServer.kill` can drop them like a crashed process."""

    def setup(self) -> None:
        super().setup()
        self.server.open_connections.add(self.connection)

    def finish(self) -> None:
        self.server.open_connections.discard(self.connection)
        super().finish()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if getattr(self.server, "verbose", False):
            super().log_request(code, size)


@dataclass
class RunningServer:
    """A threaded werkzeug server serving one app in a background thread."""

    server: BaseWSGIServer
    thread: threading.Thread
    stopped: bool = field(default=False)

    @property
    def url(self) -> str:
        """Base URL with the trailing slash the official client expects."""
        return f"http://{self.server.host}:{self.server.port}/"

    def stop(self) -> None:
        """Graceful shutdown; safe to call twice."""
        if not self.stopped:
            self.stopped = True
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=5)

    def kill(self) -> None:
        """Abrupt stop: also reset every open keep-alive connection, as a dead process would."""
        self.stop()
        for conn in list(self.server.open_connections):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


def serve_in_thread(app: Flask, host: str = "127.0.0.1", port: int = 0, verbose: bool = False) -> RunningServer:
    """Serve ``app`` on ``host:port`` (0 = a free port) in a daemon thread; stop it with ``.stop()``."""
    try:
        server = make_server(host, port, app, threaded=True, request_handler=_TrackingHandler)
    except SystemExit:
        raise OSError(f"cannot listen on {host}:{port} (port in use or host not local)") from None
    server.open_connections = set()
    server.verbose = verbose
    if not verbose:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                              name=f"emulator-http-{server.port}")
    thread.start()
    return RunningServer(server, thread)


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
