"""Transition ring buffer with frames stored once, RLPD's 50/50 mixed sampling, and HIL-SERL routing.

Camera frames live in a separate frame ring; each transition keeps the global ids of its obs and
next_obs frames, so an episode of T steps stores T+1 frames (not 2T), the next_obs frame of step
t being the obs frame of step t+1. State vectors are small and stored twice. A transition
continues the previous one (sharing its frame) when that one did not end and its next state equals
this obs state; otherwise its obs frame is stored fresh. The frame ring holds ``frame_capacity``
frames (default capacity * 9/8 + 1): when many short episodes overflow it, the oldest transitions
whose frames were overwritten stop being sampled. Sampling is fully vectorised (one gather per
array) and writes straight into the batch.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hilserl_bench.data.episode_format import Episode, atomic_savez

Batch = dict[str, Any]
_SCALARS = {"rewards": np.float32, "masks": np.float32, "dones": np.bool_, "grasp_penalty": np.float32}


def transition_from_step(obs: Mapping[str, Any], action: np.ndarray, next_obs: Mapping[str, Any], reward: float,
                         terminated: bool, truncated: bool, info: Mapping[str, Any]) -> dict[str, Any]:
    """One learning-env step as a transition (the executed ``intervene_action`` replaces ``action``)."""
    intervened = bool(info.get("is_intervention", False) or "intervene_action" in info)
    return {"observations": obs, "actions": np.asarray(info.get("intervene_action", action), dtype=np.float32),
            "next_observations": next_obs, "rewards": float(reward), "masks": 0.0 if terminated else 1.0,
            "dones": bool(terminated or truncated), "grasp_penalty": float(info.get("grasp_penalty", 0.0)),
            "intervened": intervened}


class ReplayBuffer:
    """Ring buffer of the last ``capacity`` transitions; ``obs_spec = {"state": D, "images": {cam: shape}}``."""

    def __init__(self, capacity: int, obs_spec: Mapping[str, Any], action_dim: int,
                 frame_capacity: int | None = None) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.capacity, self.action_dim = int(capacity), int(action_dim)
        self.obs_spec = {"state": int(np.prod(obs_spec["state"]))}
        self.cameras = {cam: tuple(int(s) for s in shape) for cam, shape in obs_spec.get("images", {}).items()}
        if self.cameras:
            self.obs_spec["images"] = {cam: list(shape) for cam, shape in self.cameras.items()}
        self.frame_capacity = int(frame_capacity or capacity + capacity // 8 + 1) if self.cameras else 0
        if self.cameras and self.frame_capacity <= self.capacity:
            raise ValueError(f"frame_capacity ({self.frame_capacity}) must exceed capacity ({self.capacity})")
        c, d = self.capacity, self.obs_spec["state"]
        self.arrays: dict[str, np.ndarray] = {
            "state": np.zeros((c, d), np.float32), "next_state": np.zeros((c, d), np.float32),
            "actions": np.zeros((c, self.action_dim), np.float32),
            **{k: np.zeros(c, dtype) for k, dtype in _SCALARS.items()},
            "obs_frame": np.zeros(c, np.int64), "next_frame": np.zeros(c, np.int64),
        }
        self.frames = {cam: np.zeros((self.frame_capacity, *shape), np.uint8) for cam, shape in self.cameras.items()}
        self.n_inserted = self.n_frames = self.first_valid = 0
        self._open_frame = -1
        self._open_state = np.zeros(d, np.float32)

    def __len__(self) -> int:
        return self.n_inserted - self.first_valid

    @property
    def frames_stored(self) -> int:
        """Camera frames held (per camera): one per step plus one per episode start."""
        return min(self.n_frames, self.frame_capacity)

    # -- inserting ---------------------------------------------------------------------------------------
    def insert(self, transition: Mapping[str, Any]) -> None:
        """Add one transition (keys as :func:`transition_from_step` makes; ``dones`` defaults to ``1 - masks``)."""
        obs, nxt = transition["observations"], transition["next_observations"]
        obs_state = np.asarray(obs["state"], np.float32).reshape(-1)
        continues = self._open_frame >= 0 and np.array_equal(obs_state, self._open_state)
        masks = float(transition["masks"])
        self._insert_block(
            np.stack([obs_state, np.asarray(nxt["state"], np.float32).reshape(-1)]),
            {cam: np.stack([obs["images"][cam], nxt["images"][cam]]) for cam in self.cameras},
            np.asarray(transition["actions"], np.float32)[None], np.array([transition["rewards"]]),
            np.array([masks]), np.array([transition.get("dones", masks == 0.0)]),
            np.array([transition.get("grasp_penalty", 0.0)]), continues)

    def insert_episode(self, episode: Episode) -> None:
        """Add every step of an episode (its frames once each)."""
        missing = [cam for cam in self.cameras if cam not in episode.images]
        if missing:
            raise ValueError(f"episode {episode.path or ''} lacks cameras {missing} that this buffer stores")
        self._insert_block(episode.state, {cam: episode.images[cam] for cam in self.cameras}, episode.actions,
                           episode.rewards, 1.0 - episode.terminated, episode.terminated | episode.truncated,
                           episode.grasp_penalty, continues=False)

    def _insert_block(self, states: np.ndarray, images: dict[str, np.ndarray], actions: np.ndarray,
                      rewards: np.ndarray, masks: np.ndarray, dones: np.ndarray, penalty: np.ndarray,
                      continues: bool) -> None:
        n = len(actions)
        if states.shape != (n + 1, self.obs_spec["state"]) or actions.shape != (n, self.action_dim):
            raise ValueError(f"states {states.shape} / actions {actions.shape} do not fit this buffer "
                             f"(state dim {self.obs_spec['state']}, action dim {self.action_dim})")
        if n > self.capacity:
            cut = n - self.capacity
            states, actions, rewards, masks, dones, penalty = (states[cut:], actions[cut:], rewards[cut:],
                                                               masks[cut:], dones[cut:], penalty[cut:])
            images, continues, n = {c: f[cut:] for c, f in images.items()}, False, self.capacity
        first_new = 1 if continues else 0
        frame_ids = self.n_frames - first_new + np.arange(n + 1)
        if continues:
            frame_ids[0] = self._open_frame
        for cam, frames in images.items():
            if frames.shape[1:] != self.cameras[cam]:
                raise ValueError(f"camera {cam} frames {frames.shape[1:]} do not fit {self.cameras[cam]}")
            self.frames[cam][frame_ids[first_new:] % self.frame_capacity] = frames[first_new:]
        pos = (self.n_inserted + np.arange(n)) % self.capacity
        a = self.arrays
        a["state"][pos], a["next_state"][pos], a["actions"][pos] = states[:-1], states[1:], actions
        a["rewards"][pos], a["masks"][pos], a["dones"][pos], a["grasp_penalty"][pos] = rewards, masks, dones, penalty
        a["obs_frame"][pos], a["next_frame"][pos] = frame_ids[:-1], frame_ids[1:]
        self.n_inserted += n
        if self.cameras:
            self.n_frames += n + 1 - first_new
        self.first_valid = max(self.first_valid, self.n_inserted - self.capacity)
        oldest_frame = self.n_frames - self.frame_capacity
        while self.cameras and len(self) and a["obs_frame"][self.first_valid % self.capacity] < oldest_frame:
            self.first_valid += 1
        self._open_frame = -1 if bool(dones[-1]) else int(frame_ids[-1])
        self._open_state = np.array(states[-1], np.float32)

    # -- sampling ----------------------------------------------------------------------------------------
    def positions(self, rng: np.random.Generator, shape: int | tuple[int, ...]) -> np.ndarray:
        """Uniform ring positions of valid transitions."""
        if len(self) == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        return (self.first_valid + rng.integers(0, len(self), shape)) % self.capacity

    def empty_batch(self, shape: tuple[int, ...]) -> Batch:
        """Uninitialised batch arrays of leading shape ``shape`` in the agents' format."""
        def obs() -> dict[str, Any]:
            out: dict[str, Any] = {"state": np.empty((*shape, self.obs_spec["state"]), np.float32)}
            if self.cameras:
                out["images"] = {cam: np.empty((*shape, *s), np.uint8) for cam, s in self.cameras.items()}
            return out
        batch: Batch = {"observations": obs(), "next_observations": obs(),
                        "actions": np.empty((*shape, self.action_dim), np.float32)}
        batch.update({k: np.empty(shape, dtype) for k, dtype in _SCALARS.items()})
        return batch

    def gather(self, pos: np.ndarray, out: Batch) -> Batch:
        """Fill ``out`` (views allowed) with the transitions at ring positions ``pos``."""
        a = self.arrays
        take = lambda src, idx, dst: np.take(src, idx, axis=0, out=dst, mode="clip")  # noqa: E731
        take(a["state"], pos, out["observations"]["state"])
        take(a["next_state"], pos, out["next_observations"]["state"])
        for key in ("actions", *_SCALARS):
            take(a[key], pos, out[key])
        if self.cameras:
            obs_f, next_f = a["obs_frame"][pos] % self.frame_capacity, a["next_frame"][pos] % self.frame_capacity
            for cam, frames in self.frames.items():
                take(frames, obs_f, out["observations"]["images"][cam])
                take(frames, next_f, out["next_observations"]["images"][cam])
        return out

    def sample(self, rng: np.random.Generator, batch_size: int | tuple[int, ...]) -> Batch:
        """A uniform batch ``{"observations", "actions", "rewards", "masks", "dones", "next_observations",
        "grasp_penalty"}``; ``masks`` is 0 only on terminated steps. A tuple size adds leading axes."""
        shape = (batch_size,) if isinstance(batch_size, int) else tuple(batch_size)
        return self.gather(self.positions(rng, shape), self.empty_batch(shape))

    # -- checkpointing -----------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the whole buffer (contents, pointers) atomically to an uncompressed ``.npz``."""
        rows, frames = min(self.n_inserted, self.capacity), self.frames_stored
        meta = {"version": 1, "capacity": self.capacity, "frame_capacity": self.frame_capacity,
                "obs_spec": self.obs_spec, "action_dim": self.action_dim, "n_inserted": self.n_inserted,
                "n_frames": self.n_frames, "first_valid": self.first_valid, "open_frame": self._open_frame}
        arrays = {k: v[:rows] for k, v in self.arrays.items()}
        arrays.update({f"frames/{cam}": f[:frames] for cam, f in self.frames.items()})
        arrays.update(open_state=self._open_state, meta=np.array(json.dumps(meta)))
        return atomic_savez(path, arrays, compress=False)

    @classmethod
    def load(cls, path: str | Path) -> ReplayBuffer:
        """A buffer exactly as :meth:`save` left it."""
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"]))
            buf = cls(meta["capacity"], meta["obs_spec"], meta["action_dim"], meta["frame_capacity"] or None)
            for key, arr in buf.arrays.items():
                arr[: len(npz[key])] = npz[key]
            for cam, f in buf.frames.items():
                f[: len(npz[f"frames/{cam}"])] = npz[f"frames/{cam}"]
            buf._open_state = npz["open_state"].copy()
        buf.n_inserted, buf.n_frames, buf.first_valid = meta["n_inserted"], meta["n_frames"], meta["first_valid"]
        buf._open_frame = meta["open_frame"]
        return buf


def _batch_view(batch: Any, index: tuple) -> Any:
    if isinstance(batch, dict):
        return {k: _batch_view(v, index) for k, v in batch.items()}
    return batch[index]


class MixedSampler:
    """RLPD's symmetric sampling: every batch is exactly half online, half prior (demos + interventions)."""

    def __init__(self, online: ReplayBuffer, prior: ReplayBuffer) -> None:
        if online.obs_spec != prior.obs_spec or online.action_dim != prior.action_dim:
            raise ValueError(f"online {online.obs_spec}/{online.action_dim} and prior {prior.obs_spec}/"
                             f"{prior.action_dim} buffers hold different observations or actions")
        self.online, self.prior = online, prior

    def sample(self, rng: np.random.Generator, batch: int, utd: int | None = None) -> Batch:
        """``batch`` transitions, the first half online, the second prior; ``utd=k`` adds a leading
        axis of ``k`` independent batches (shape ``(k, batch, ...)``) for several updates per call."""
        if batch < 2 or batch % 2:
            raise ValueError(f"batch must be even and >= 2 for a 50/50 split, got {batch}")
        for name, buf in (("online", self.online), ("prior", self.prior)):
            if len(buf) == 0:
                raise ValueError(f"the {name} buffer is empty; fill it before sampling")
        lead = () if utd is None else (int(utd),)
        out = self.online.empty_batch((*lead, batch))
        half = batch // 2
        for buf, sl in ((self.online, slice(0, half)), (self.prior, slice(half, batch))):
            index = (*[slice(None)] * len(lead), sl)
            buf.gather(buf.positions(rng, (*lead, half)), _batch_view(out, index))
        return out


def route_transition(transition: Mapping[str, Any], online: ReplayBuffer, prior: ReplayBuffer | None) -> None:
    """HIL-SERL routing: every transition goes online; intervened ones also go to the prior buffer.

    ``prior=None`` keeps interventions online only (agents that do not learn from them).
    """
    online.insert(transition)
    if prior is not None and transition.get("intervened", False):
        prior.insert(transition)
