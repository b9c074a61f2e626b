"""Tight-fit penetration at every physics step, from MuJoCo contact sensors with sample history.

Reading the contact array only between chunks of physics steps samples one state in
25 and misses impact transients, which last a few milliseconds. Contact sensors
(``mjSENS_CONTACT`` reporting ``dist`` of the nearest contact) are computed in C from
the contacts MuJoCo finds anyway, and each keeps a ring buffer of its last ``nsample``
values with their times (``mjData.history``). So physics still runs in chunks of
``mj_step(nstep=n)`` and one read after a chunk sees every step of it; ``bench env``
reports what that costs.

One sensor covers a whole body when every colliding geom of that body belongs to the
group (the RAM stick, the USB port block); otherwise each geom of the group gets its
own, so the pairs measured are exactly the task's tight-fit pairs. The deepest
penetration is minus the smallest reported distance (sensors read 0 without contact).

Sensors sample the state a step starts from, so ``n`` steps measure the states the
chunk visits before its last one; that one is the first state of the next chunk, and
``mj_forward`` after setting a state makes :meth:`PenetrationMeter.current` measure it.
"""

from __future__ import annotations

from collections.abc import Sequence

import mujoco
import numpy as np

SENSOR_PREFIX = "tight_fit_penetration_"
_REDUCE_MINDIST = 1
"""The contact sensor's ``reduce="mindist"`` (keep the nearest contacts)."""


def add_penetration_sensors(spec: mujoco.MjSpec, group_a: Sequence[str], group_b: Sequence[str], samples: int,
                            ) -> tuple[str, ...]:
    """Add contact sensors whose smallest distance is the deepest penetration between two geom groups.

    Each keeps its last ``samples`` values (the most physics steps read at once).
    Returns the sensor names (empty when either group is empty).
    """
    if samples < 1:
        raise ValueError(f"samples={samples} must be >= 1 (physics steps kept between reads)")
    if not group_a or not group_b:
        return ()
    names = []
    for objtype, objname in _cover(spec, group_a):
        for reftype, refname in _cover(spec, group_b):
            name = f"{SENSOR_PREFIX}{len(names)}"
            sensor = spec.add_sensor(name=name, type=mujoco.mjtSensor.mjSENS_CONTACT, objtype=objtype,
                                     objname=objname, reftype=reftype, refname=refname,
                                     intprm=[1 << int(mujoco.mjtConDataField.mjCONDATA_DIST), _REDUCE_MINDIST, 1])
            sensor.nsample = samples
            names.append(name)
    return tuple(names)


def _cover(spec: mujoco.MjSpec, group: Sequence[str]) -> list[tuple[mujoco.mjtObj, str]]:
    """(object type, name) pairs matching exactly the group's geoms: whole bodies where possible."""
    members, out, seen = set(group), [], set()
    for name in group:
        geom = spec.geom(name)
        if geom is None:
            raise ValueError(f"tight-fit geom {name!r} is not in the model; check the task's tight_fit_geoms()")
        body = geom.parent
        colliding = {g.name for g in body.geoms if g.contype or g.conaffinity}
        if body.name and body.name != "world" and colliding <= members:
            if body.name not in seen:
                seen.add(body.name)
                out.append((mujoco.mjtObj.mjOBJ_BODY, body.name))
        else:
            out.append((mujoco.mjtObj.mjOBJ_GEOM, name))
    return out


class PenetrationMeter:
    """Steps physics in chunks and reads the deepest penetration of every step from the sensors' history.

    History layout per sensor (``mjModel.sensor_historyadr``): two bookkeeping slots,
    ``nsample`` sample times, then ``nsample`` values (the sensors here have dim 1).
    Every sensor is sampled at the same steps, so the first one's times select the
    values of the last chunk (a reset clears the ring; samples outside the chunk's time
    span are ignored either way).
    """

    def __init__(self, model: mujoco.MjModel, sensor_names: Sequence[str]) -> None:
        if not sensor_names:
            raise ValueError("PenetrationMeter needs at least one sensor")
        ids = [int(model.sensor(n).id) for n in sensor_names]
        samples = {int(model.sensor_history[i, 0]) for i in ids}
        if len(samples) != 1 or min(samples) < 1 or any(model.sensor_dim[i] != 1 for i in ids):
            raise ValueError("penetration sensors need dim 1 and one shared nsample >= 1")
        self.samples = samples.pop()
        """Physics steps one read covers; longer advances are split."""
        adr = np.array([int(model.sensor_historyadr[i]) for i in ids])
        self._times = int(adr[0]) + 2 + np.arange(self.samples)
        self._values = (adr[:, None] + 2 + self.samples + np.arange(self.samples)[None, :])
        self._now = np.array([int(model.sensor_adr[i]) for i in ids])
        self._half_dt = 0.5 * float(model.opt.timestep)

    def current(self, data: mujoco.MjData) -> float:
        """Deepest penetration (m) among the contacts of the last ``mj_step``/``mj_forward``."""
        return max(0.0, -float(data.sensordata[self._now].min()))

    def step(self, model: mujoco.MjModel, data: mujoco.MjData, nstep: int) -> float:
        """Run ``nstep`` physics steps; returns the deepest penetration (m) over the states they start from."""
        low = 0.0
        while nstep > 0:
            n = min(nstep, self.samples)
            start = data.time - self._half_dt
            mujoco.mj_step(model, data, nstep=n)
            history, times = data.history, data.history[self._times]
            fresh = (times > start) & (times < data.time)
            low = min(low, float(history[self._values[:, fresh]].min()))
            nstep -= n
        return max(0.0, -low)


def deepest_in_contacts(data: mujoco.MjData, mask_a: np.ndarray, mask_b: np.ndarray) -> float:
    """Deepest penetration (m) between two geom masks in the current contact array.

    The reference the sensors are checked against in tests; too slow to run every step. Flex
    contacts (a belt's vertices) carry geom id -1, which would index the last geom: they are skipped.
    """
    if data.ncon == 0:
        return 0.0
    g = data.contact.geom[: data.ncon]
    geoms = (g >= 0).all(axis=1)
    hit = geoms & ((mask_a[g[:, 0]] & mask_b[g[:, 1]]) | (mask_b[g[:, 0]] & mask_a[g[:, 1]]))
    if not hit.any():
        return 0.0
    return max(0.0, -float(data.contact.dist[: data.ncon][hit].min()))
