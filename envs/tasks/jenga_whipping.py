"""Jenga whipping: lash one block out of a Jenga tower with a whip held in the hand.

Protocol (paper Appendix A): feed-forward wrench action (Fx, Fz, tau_z), 20 steps at
10 Hz, every episode runs its full length and is judged at its end, discount 0.96. The
scale (13 N, 12 N, 3.5 N m) and the server's clips and timeout are the official wrench
server's; its box is centred on the reset pose (+/-8 cm, +/-6 cm in z) and leaves only
the yaw free, the axis the whip is swung about.

Scene: the whip (:mod:`hilserl_bench.envs.props.whip`) is held level, pointing along
+x, its lash drooping a few centimetres; an 18-layer tower stands 40 degrees to the
left or right of it at the radius of the lash's tip, turned so that the top layer's
blocks lie along the tip's path. Swinging the yaw sweeps the lash through the top layer: the tip
ends inside the footprint of the layer's inner block, so it strikes that block's end
face and drives it out along its length. The target is the inner block of the top
layer (a deviation: the paper does not say which block; a block lower down carries the
weight above it, and the tip speeds reachable under the official wrench limits,
measured by ``benchmarks/dynamic_checks.py``, knock it sideways rather than out).

Success at the last step: the target's centre is outside the tower's footprint, and
every other block is within 1 cm (horizontally) and 5 mm (vertically) of its place
and tilted under 10 degrees. The paper randomises nothing; here, so that one memorised
motion is not enough, the tower stands left or right of the whip (the swing must go
the right way), +/-1.5 cm in distance from the hand (the tip must be re-aimed: the
lash strikes the target's 2.5 cm wide end face), +/-5 degrees in bearing and +/-3 in
yaw; block friction is drawn from [0.35, 0.55]; the whip is held +/-5 mm along its
handle, +/-2 degrees in yaw and pitched 0 to 1.5 degrees down (its tip 0 to 2 cm
lower). A feedback policy sees all of it: ``obs["task"]`` carries the target's
distance, bearing and height from the hand and the tip relative to the target, and
the side camera sees both places the tower can stand. Measured by
``benchmarks/dynamic_checks.py --task jenga_whipping --episodes 100 --noise-episodes 30``:
the scripted expert wins 93% (100 seeds; 87% at action noise 0.05), a random policy 5%
(100), and the expert's seed-0 actions replayed blind 30% (30 seeds; above the "well
under 20%" bar: the strike's capture band, ~8 mm in height and most of the 25 mm face
in range, holds much of the reset's spread on the swing's own side).
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
from hilserl_bench.envs.props.jenga import (
    BLOCK_SIZE,
    LAYERS,
    TowerNames,
    add_tower,
    block_name,
    block_offsets,
)
from hilserl_bench.envs.props.scene_camera import add_look_at_camera
from hilserl_bench.envs.props.whip import GRASP_IN_WHIP, LASH_LENGTH, SEGMENTS, WhipNames, add_whip
from hilserl_bench.registry import register
from hilserl_bench.regression_spec import RegressionThresholds
from hilserl_bench.task import Evaluation, SafetyBox, Task, TaskConfig
from hilserl_bench.wrench import WrenchServerParams

DOWN = np.array([1.0, 0.0, 0.0, 0.0])
RESET_TCP = np.array([0.35, 0.0, 0.33, *DOWN])
WHIP_IN_TCP = geo.pose_compose(np.array([0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]), geo.pose_inverse(GRASP_IN_WHIP))
"""Whip handle frame in the TCP frame: held level, lash pointing along the TCP's x (world +x)."""
TOWER_BEARING = np.radians(40.0)
"""Direction of the tower from the TCP, counter-clockwise from +x (mirrored when it stands on the right)."""
TIP_REACH = 0.678
"""Horizontal distance from the TCP to the lash's tip, held level at rest (m; measured)."""
PITCH_DOWN = 1.0
"""Sign of a pitch (about the handle's y axis) that lowers the tip."""
TARGET = (LAYERS - 1, 0)
"""(layer, slot) of the target: the top layer's inner block."""
FREE_LAYERS = 4
"""Top layers simulated as free blocks; the rest of the tower is one rigid base body."""
TIP_SEGMENT = f"whip_{SEGMENTS - 1:02d}"
IN_PLACE_XY, IN_PLACE_Z, IN_PLACE_TILT = 0.01, 0.005, np.radians(10.0)


def tower_pose(radial: float = 0.0, bearing: float = 0.0, yaw: float = 0.0, side: int = 1) -> np.ndarray:
    """Tower frame (footprint centre on the table) on ``side`` (+1 left of the whip, -1 right), moved ``radial``
    away from the hand and turned ``bearing`` about it from the nominal place, and ``yaw`` about its own axis;
    the top layer's blocks stay tangent to the tip's circle and the inner block (slot 0) nearest the hand."""
    radius = TIP_REACH + BLOCK_SIZE[1] + radial
    angle = side * TOWER_BEARING + bearing
    xy = RESET_TCP[:2] + radius * np.array([np.cos(angle), np.sin(angle)])
    return np.array([xy[0], xy[1], 0.0, *geo.euler_to_quat(np.array([0.0, 0.0, angle + yaw]))])


def nominal_tower_pose() -> np.ndarray:
    """Tower frame with the inner block of the top layer under the tip's circle at rest."""
    return tower_pose()


@dataclass(frozen=True)
class JengaWhippingConfig(TaskConfig):
    """Jenga whipping preset (paper protocol; the randomisation is ours)."""

    max_steps: int = 20
    discount: float = 0.96
    random_xy: float = 0.0
    random_yaw: float = 0.0
    wrench_scale: tuple[float, ...] = (13.0, 12.0, 3.5)
    """N, N, N m per unit action on (Fx, Fz, tau_z)."""
    sides: tuple[int, ...] = (1, -1)
    """Sides the tower may stand on, drawn uniformly: +1 left of the whip (swing counter-clockwise), -1 right."""
    tower_radial: float = 0.015
    """Half-width (m) of the tower's uniform offset in distance from the hand (the tip must be re-aimed)."""
    tower_bearing: float = np.radians(5.0)
    """Half-width (rad) of the tower's uniform offset in bearing from the hand (the tower turns with it)."""
    tower_yaw: float = np.radians(3.0)
    """Half-width (rad) of the tower's uniform yaw offset on top of its bearing."""
    friction: tuple[float, float] = (0.35, 0.55)
    """Range of the blocks' sliding friction, drawn once per episode."""
    grasp_offset: float = 0.005
    """Half-width (m) of the whip's grasp offset along its handle."""
    grasp_yaw: float = np.radians(2.0)
    """Half-width (rad) of the whip's yaw in the hand."""
    grasp_pitch: tuple[float, float] = (0.0, np.radians(1.5))
    """Range (rad) of the whip's downward pitch in the hand: lowers the tip 0 to ~2 cm. One-sided because the
    wrench server clamps Fz >= -1 N, so the hand can rise to re-aim the tip but barely sink."""


@register
class JengaWhipping(Task):
    """Whip the top layer's inner block out of the tower, leaving every other block in place."""

    task_id = "jenga_whipping"
    description = "Lash a block out of an 18-layer Jenga tower with a hand-held whip (wrench control: Fx, Fz, tau_z)"
    benchmark = TaskBenchmark(paper_env_steps=10000, quick_env_steps=100, paper_hours=1.25, paper_success=1.0,
                              paper_bc_success=0.08, paper_cycle_time_s=None, paper_bc_cycle_time_s=None,
                              num_demos=30, position_noise_m=0.005, rotation_noise_rad=0.035)
    cameras = ("wrist_1", "side")
    disturbances = {
        "push_ee": dist.ForcePulse(bodies=("hand",), magnitude_n=(10.0, 20.0), duration_s=0.1, window_s=(0.2, 1.0)),
        "push_whip": dist.CablePush(bodies=("whip_03", "whip_05", "whip_07"), magnitude_n=(1.0, 3.0),
            duration_s=0.1, window_s=(0.2, 1.0)),
        "lighting": dist.VisualChange(window_s=(0.2, 1.0)),
    }
    """Disturbance kinds (name -> spec) for `--disturb`; see hilserl_bench.disturbances and docs/robustness.md."""
    control_mode = "wrench"
    wrench_axes = (0, 2, 5)
    joint_proprio = True
    full_length = True
    regression = RegressionThresholds(
        min_expert_success=0.4, max_random_success=0.2, min_bc_success=None, max_physics_ratio=3.5, episodes=5,
        bc_skip_reason="1/5 after 600 BC steps on demos of an expert that succeeds 58% (issue 10)")
    config_cls = JengaWhippingConfig

    def __init__(self, config: TaskConfig | None = None) -> None:
        super().__init__(config)
        self._tower: TowerNames | None = None
        self._whip: WhipNames | None = None
        self._offsets = block_offsets()

    @property
    def wrench_server(self) -> WrenchServerParams:
        centre = RESET_TCP[:3]
        half = np.array([0.08, 0.08, 0.06])
        return WrenchServerParams(box_low=tuple(centre - half), box_high=tuple(centre + half),
                                  box_rotation=tuple(DOWN), free_axes=(5,))

    @property
    def reset_pose(self) -> np.ndarray:
        return RESET_TCP.copy()

    @property
    def target_pose(self) -> np.ndarray:
        return RESET_TCP.copy()

    @property
    def safety_box(self) -> SafetyBox:
        server = self.wrench_server
        return SafetyBox(np.array([*server.box_low, -np.pi, -0.5, -np.pi]),
                         np.array([*server.box_high, np.pi, 0.5, np.pi]))

    # -- episode logic ------------------------------------------------------------------
    def reset_plan(self, rng: np.random.Generator) -> ResetPlan:
        cfg = self.config
        tower = tower_pose(rng.uniform(-cfg.tower_radial, cfg.tower_radial),
                           rng.uniform(-cfg.tower_bearing, cfg.tower_bearing),
                           rng.uniform(-cfg.tower_yaw, cfg.tower_yaw), int(rng.choice(cfg.sides)))
        shift = np.array([rng.uniform(-cfg.grasp_offset, cfg.grasp_offset), 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])
        yaw = rng.uniform(-cfg.grasp_yaw, cfg.grasp_yaw)
        pitch = PITCH_DOWN * rng.uniform(*cfg.grasp_pitch)
        turn = np.array([0.0, 0.0, 0.0, *geo.euler_to_quat(np.array([0.0, pitch, yaw]))])
        whip = geo.pose_compose(geo.pose_compose(WHIP_IN_TCP, turn), shift)
        friction = float(rng.uniform(*cfg.friction))
        poses = {"jenga_base": tower}
        poses.update({name: geo.pose_compose(tower, self._offsets[key]) for key, name in self._free_keys()})
        return ResetPlan(tcp_pose=self.reset_pose, gripper_closed=True, held_objects={"whip": whip},
                         object_poses=poses,
                         friction={block_name(*key): friction for key in self._offsets})

    def _free_keys(self) -> list[tuple[tuple[int, int], str]]:
        first = LAYERS - FREE_LAYERS
        return [(key, block_name(*key)) for key in self._offsets if key[0] >= first]

    def block_poses(self, scene: SceneState) -> dict[tuple[int, int], np.ndarray]:
        """Every block's pose (base blocks through the base body), keyed (layer, slot)."""
        base = scene.poses["jenga_base"]
        out = {key: geo.pose_compose(base, rel) for key, rel in self._offsets.items() if key[0] < LAYERS - FREE_LAYERS}
        out.update({key: scene.poses[name] for key, name in self._free_keys()})
        return out

    def evaluate(self, scene: SceneState | None, arms) -> Evaluation:
        """Target out of the footprint, every other block in place (relative to the tower's base)."""
        if scene is None:
            return Evaluation(False)
        base = scene.poses["jenga_base"]
        inverse = geo.pose_inverse(base)
        half = BLOCK_SIZE[0] / 2
        worst_xy = worst_z = worst_tilt = 0.0
        target_out = False
        for key, pose in self.block_poses(scene).items():
            rel = geo.pose_compose(inverse, pose)
            if key == TARGET:
                target_out = bool(np.any(np.abs(rel[:2]) > half))
                continue
            nominal = self._offsets[key]
            worst_xy = max(worst_xy, float(np.linalg.norm(rel[:2] - nominal[:2])))
            worst_z = max(worst_z, float(abs(rel[2] - nominal[2])))
            worst_tilt = max(worst_tilt, float(np.linalg.norm(geo.orientation_error(nominal[3:], rel[3:]))))
        base_tilt = float(np.arccos(np.clip(geo.quat_to_mat(base[3:])[2, 2], -1.0, 1.0)))
        in_place = worst_xy < IN_PLACE_XY and worst_z < IN_PLACE_Z and worst_tilt < IN_PLACE_TILT and base_tilt < 0.05
        target = geo.pose_compose(inverse, scene.poses[block_name(*TARGET)])
        shift = float(np.linalg.norm(target[:2] - self._offsets[TARGET][:2]))
        return Evaluation(bool(target_out and in_place), {
            "target_out": float(target_out), "target_shift_cm": shift * 100,
            "others_worst_shift_mm": float(worst_xy * 1e3), "others_worst_drop_mm": float(worst_z * 1e3)})

    def tip_position(self, scene: SceneState) -> np.ndarray:
        """World position of the lash's tip."""
        node = scene.poses[TIP_SEGMENT]
        return geo.pose_compose(node, np.array([LASH_LENGTH / SEGMENTS, 0, 0, 0, 0, 0, 1.0]))[:3]

    def task_state(self, scene: SceneState, arms) -> dict[str, np.ndarray]:
        """Tip relative to the target block's centre (tower frame), the target's offset from its place, and the
        target's distance, bearing (from the hand's yaw) and height from the hand (what a camera sees)."""
        base = scene.poses["jenga_base"]
        inverse = geo.pose_inverse(base)
        tip = geo.pose_compose(inverse, np.array([*self.tip_position(scene), 0, 0, 0, 1.0]))[:3]
        target = geo.pose_compose(inverse, scene.poses[block_name(*TARGET)])
        nominal = self._offsets[TARGET]
        hand = arms[0].pose if arms else self.reset_pose
        world = scene.poses[block_name(*TARGET)][:3] - hand[:3]
        bearing = np.arctan2(world[1], world[0]) - geo.quat_to_euler(hand[3:])[2]
        bearing = (bearing + np.pi) % (2 * np.pi) - np.pi
        return {"tip_to_target": tip - nominal[:3], "target_shift": target[:3] - nominal[:3],
                "target_from_hand": np.array([np.linalg.norm(world[:2]), bearing, world[2]])}

    def task_state_dims(self) -> dict[str, int]:
        return {"tip_to_target": 3, "target_shift": 3, "target_from_hand": 3}

    # -- simulator only ---------------------------------------------------------------
    def build_scene(self, spec: mujoco.MjSpec) -> None:
        self._tower = add_tower(spec, nominal_tower_pose(), target=TARGET, free_layers=FREE_LAYERS)
        self._whip = add_whip(spec, geo.pose_compose(RESET_TCP, WHIP_IN_TCP))
        add_grip_weld(spec, "whip")
        spec.option.cone = mujoco.mjtCone.mjCONE_PYRAMIDAL
        spec.option.impratio = 1.0
        add_look_at_camera(spec, "side", pos=[1.6, 0.0, 0.7], target=[0.85, 0.0, 0.2], fovy=75)
        add_look_at_camera(spec, "overview", pos=[1.45, -0.85, 0.85], target=[0.65, 0.0, 0.25], fovy=50)

    def tight_fit_geoms(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Free blocks against every block: how far stacked blocks sink into each other."""
        if self._tower is None:
            return ((), ())
        return (self._tower.free_blocks, tuple(block_name(*key) for key in self._offsets))

    def lash_geoms(self) -> tuple[str, ...]:
        """The whip's lash geoms (for contact probes)."""
        return self._whip.geoms if self._whip is not None else ()

    def tracked_bodies(self) -> tuple[str, ...]:
        return ("jenga_base", *(name for _, name in self._free_keys()), TIP_SEGMENT, "whip")
