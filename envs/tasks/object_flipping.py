"""Object flipping: turn an egg over in a pan held in the hand, using wrench control.

Protocol (paper Appendix A, official egg-flip code): wrench control, action
(Fx, Fz, tau_y) scaled by (13 N, 12 N, 3.5 N m), 100 steps at 10 Hz, discount 0.985,
human interventions held 0.5 s after the last input. The server is the official
wrench server: box [0.4, 0.7] x [-0.08, 0.08] x [0.45, 0.6] m, z and y-rotation free,
Fz >= -1 N and tau_y <= 1.5 N m (so the pan is flicked up hard, and pushed down gently).

How the egg turns over: under these limits the pan cannot fall away from the egg
faster than gravity (Fz >= -1 N and a 6 N box PD on an end effector whose measured
effective mass is ~5.5 kg give < 2 m/s^2 of downward braking; tau_y <= 1.5 N m gives
the far edge ~2 m/s^2), so an egg is never thrown clear of the floor; it is turned over
by tilting and shaking the pan so it rolls half a turn about its long axis (7 cm of
rolling) and then stopping it (``benchmarks/dynamic_checks.py`` prints the braking figures).

The paper randomises nothing; here the egg is put back in the pan at a random spot
(+/-1.5 cm) and yaw (+/-0.3 rad), as a person resetting the cell would. The official
reward is a 3-way image classifier (object up / flipped / lost);
:meth:`ObjectFlipping.evaluate` computes that class from the egg's pose in the pan
frame (``info["object_class"]``: 0 up, 1 flipped, 2 lost; :data:`OBJECT_CLASSES`) so a
classifier can be trained on it. Success is stricter than one flipped frame: the egg
lies on its side on the floor with its mark within 45 degrees of straight down, at
least 1 cm clear of every wall (an egg propped in a corner is not resting in the pan),
and still (moved < 2 mm and turned < 0.05 rad since the previous
observation), for at least 0.5 s of consecutive observations.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from hilserl_bench import disturbances as dist
from hilserl_bench import geometry as geo
from hilserl_bench.backend import ResetPlan, SceneState
from hilserl_bench.benchmark_spec import TaskBenchmark
from hilserl_bench.envs.props.held_tool import add_grip_weld
from hilserl_bench.envs.props.pan import EGG_SEMI_AXES, HANDLE_GRASP_IN_PAN, PAN_HALF, WALL_HEIGHT, PanNames, add_pan
from hilserl_bench.envs.props.scene_camera import add_look_at_camera
from hilserl_bench.registry import register
from hilserl_bench.regression_spec import RegressionThresholds
from hilserl_bench.task import Evaluation, SafetyBox, Task, TaskConfig
from hilserl_bench.wrench import WrenchServerParams

OBJECT_CLASSES = ("up", "flipped", "lost")
"""Names of ``info["object_class"]`` codes 0, 1, 2 (the official classifier's three classes)."""
DOWN = np.array([1.0, 0.0, 0.0, 0.0])
"""TCP orientation with the gripper pointing down (x-y-z-w)."""
PAN_IN_TCP = geo.pose_compose(np.array([0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]), geo.pose_inverse(HANDLE_GRASP_IN_PAN))
"""Pan frame in the TCP frame: the TCP points down, the pan floor faces up."""
EGG_RADIUS = EGG_SEMI_AXES[1]
REST_HEIGHT_TOL = 0.004
FLIPPED_COS = float(np.cos(np.radians(45.0)))
REST_MOVE, REST_TURN = 0.002, 0.05
REST_HOLD_S = 0.5
WALL_CLEARANCE = 0.01
FREE_OF_WALLS = np.array([PAN_HALF - EGG_RADIUS - WALL_CLEARANCE, PAN_HALF - EGG_SEMI_AXES[0] - WALL_CLEARANCE])
"""Largest |x|, |y| (pan frame) of a resting egg that is not propped against a wall (1 cm clear)."""


@dataclass(frozen=True)
class ObjectFlippingConfig(TaskConfig):
    """Object flipping preset (paper and official egg-flip numbers)."""

    max_steps: int = 100
    discount: float = 0.985
    random_xy: float = 0.0
    random_yaw: float = 0.0
    wrench_scale: tuple[float, ...] = (13.0, 12.0, 3.5)
    """N, N, N m per unit action on (Fx, Fz, tau_y) (the official scale)."""
    egg_offset: float = 0.015
    """Half-width (m) of the egg's uniform placement in the pan, x and y."""
    egg_yaw: float = 0.3
    """Half-width (rad) of the egg's uniform yaw about its nominal (long axis along the pan's y)."""


@register
class ObjectFlipping(Task):
    """Turn the egg over in the pan and let it come to rest, mark down, for 0.5 s."""

    task_id = "object_flipping"
    description = "Turn an egg over in a hand-held pan (wrench control: Fx, Fz, tau_y)"
    benchmark = TaskBenchmark(paper_env_steps=25000, quick_env_steps=250, paper_hours=1.0, paper_success=1.0,
                              paper_bc_success=0.46, paper_cycle_time_s=3.8, paper_bc_cycle_time_s=3.9,
                              position_noise_m=0.005, rotation_noise_rad=0.035)
    cameras = ("wrist_1", "side")
    disturbances = {
        "push_ee": dist.ForcePulse(bodies=("hand",), magnitude_n=(10.0, 20.0), duration_s=0.1, window_s=(0.5, 2.5)),
        "move_object": dist.MoveBody(body="egg", distance_mm=(5.0, 15.0), window_s=(0.5, 2.5)),
        "lighting": dist.VisualChange(window_s=(0.5, 2.5)),
    }
    """Disturbance kinds (name -> spec) for `--disturb`; see hilserl_bench.disturbances and docs/robustness.md."""
    control_mode = "wrench"
    wrench_axes = (0, 2, 4)
    joint_proprio = True
    intervention_hold_s = 0.5
    regression = RegressionThresholds(
        min_expert_success=0.8, max_random_success=0.0, min_bc_success=None, max_physics_ratio=4.5, episodes=5,
        bc_skip_reason="0/5 after 600 BC steps on 10 demos (2/5 at 1000): the toss needs precise timing")
    config_cls = ObjectFlippingConfig

    def __init__(self, config: TaskConfig | None = None) -> None:
        super().__init__(config)
        self._names: PanNames | None = None
        self._flipped_since: float | None = None
        self._previous: np.ndarray | None = None

    @property
    def wrench_server(self) -> WrenchServerParams:
        return WrenchServerParams()

    @property
    def reset_pose(self) -> np.ndarray:
        return np.concatenate([self.wrench_server.box_centre, DOWN])

    @property
    def target_pose(self) -> np.ndarray:
        return self.reset_pose

    @property
    def safety_box(self) -> SafetyBox:
        server = self.wrench_server
        return SafetyBox(np.array([*server.box_low, -np.pi, -1.0, -0.5]), np.array([*server.box_high, np.pi, 1.0, 0.5]))

    # -- episode logic ------------------------------------------------------------------
    def reset_plan(self, rng: np.random.Generator) -> ResetPlan:
        self._flipped_since, self._previous = None, None
        tcp = self.sample_reset_pose(rng)
        pan = geo.pose_compose(tcp, PAN_IN_TCP)
        cfg = self.config
        off = rng.uniform(-cfg.egg_offset, cfg.egg_offset, size=2)
        yaw = np.pi / 2 + rng.uniform(-cfg.egg_yaw, cfg.egg_yaw)
        egg_in_pan = np.concatenate([[off[0], off[1], EGG_RADIUS + 0.0005],
                                     geo.euler_to_quat(np.array([0.0, 0.0, yaw]))])
        return ResetPlan(tcp_pose=tcp, gripper_closed=True, held_objects={"pan": PAN_IN_TCP},
                         object_poses={"egg": geo.pose_compose(pan, egg_in_pan)})

    def egg_in_pan(self, scene: SceneState) -> np.ndarray:
        """The egg's pose in the pan frame."""
        return geo.pose_compose(geo.pose_inverse(scene.poses["pan"]), scene.poses["egg"])

    def object_class(self, scene: SceneState) -> int:
        """0 up, 1 flipped (mark facing the floor's half-space), 2 lost (out over the walls, or below the floor)."""
        rel = self.egg_in_pan(scene)
        outside = bool(np.any(np.abs(rel[:2]) > PAN_HALF))
        if (outside and rel[2] < WALL_HEIGHT + EGG_RADIUS) or rel[2] < -0.02:
            return 2
        return 1 if geo.quat_to_mat(rel[3:])[2, 2] < 0 else 0

    def evaluate(self, scene: SceneState | None, arms) -> Evaluation:
        """Lying on its side, mark within 45 degrees of down, inside the walls and still, for >= 0.5 s."""
        if scene is None:
            return Evaluation(False)
        rel = self.egg_in_pan(scene)
        rot = geo.quat_to_mat(rel[3:])
        cls = self.object_class(scene)
        still = self._previous is not None and bool(
            np.linalg.norm(rel[:3] - self._previous[:3]) < REST_MOVE
            and np.linalg.norm(geo.orientation_error(self._previous[3:], rel[3:])) < REST_TURN)
        self._previous = rel
        resting = (cls == 1 and still and -rot[2, 2] > FLIPPED_COS and abs(rot[2, 0]) < 0.3
                   and abs(rel[2] - EGG_RADIUS) < REST_HEIGHT_TOL
                   and bool(np.all(np.abs(rel[:2]) < FREE_OF_WALLS)))
        now = float(arms[0].timestamp) if arms else 0.0
        if not resting:
            self._flipped_since = None
        elif self._flipped_since is None:
            self._flipped_since = now
        held = 0.0 if self._flipped_since is None else now - self._flipped_since
        return Evaluation(bool(resting and held >= REST_HOLD_S - 1e-6), {
            "object_class": float(cls), "mark_down_cos": float(-rot[2, 2]), "flipped_rest_s": float(held)})

    def task_state(self, scene: SceneState, arms) -> dict[str, np.ndarray]:
        """Egg position and orientation (rotation vector) in the pan frame."""
        rel = self.egg_in_pan(scene)
        return {"egg_in_pan": rel[:3], "egg_rotation": geo.quat_to_rotvec(rel[3:])}

    def task_state_dims(self) -> dict[str, int]:
        return {"egg_in_pan": 3, "egg_rotation": 3}

    def task_state_units(self) -> dict[str, float]:
        return {"egg_rotation": 1.0}

    # -- simulator only ---------------------------------------------------------------
    def build_scene(self, spec: mujoco.MjSpec) -> None:
        pan = geo.pose_compose(self.reset_pose, PAN_IN_TCP)
        egg = geo.pose_compose(pan, np.array([0.0, 0.0, EGG_RADIUS, 0.0, 0.0, 0.0, 1.0]))
        self._names = add_pan(spec, pan, egg)
        add_grip_weld(spec, "pan")
        add_look_at_camera(spec, "side", pos=[0.85, -0.55, 0.75], target=[0.75, 0.0, 0.52], fovy=45)
        add_look_at_camera(spec, "overview", pos=[1.35, -0.75, 0.95], target=[0.62, 0.0, 0.45], fovy=45)

    def tracked_bodies(self) -> tuple[str, ...]:
        return ("pan", "egg")

    def tight_fit_geoms(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The egg against the pan: its sinking into the floor is the penetration reported."""
        if self._names is None:
            return ((), ())
        return (("egg",), self._names.contact_geoms)
