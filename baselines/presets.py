"""Agent configs as frozen dataclasses and the named presets (data, not per-task folders).

``hilserl`` follows the official HIL-SERL code, ``rlpd`` the RLPD paper code (see
``docs`` / the learning reference). Override single fields with ``dataclasses.replace``
or tyro; the per-task discount should come from the task (``task.discount``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

Activation = Literal["tanh", "relu", "gelu"]


@dataclass(frozen=True)
class SACConfig:
    """The continuous SAC part of RLPD (actor, critic ensemble, temperature)."""

    hidden_dims: tuple[int, ...] = (256, 256)
    """Hidden layer widths of the actor and of every critic head."""
    activation: Activation = "tanh"
    """Hidden activation of actor and critics."""
    critic_layer_norm: bool = True
    """LayerNorm after every hidden Dense of the critics (RLPD's key ingredient)."""
    actor_layer_norm: bool = True
    """LayerNorm after every hidden Dense of the actor."""
    ensemble_size: int = 2
    """Number of critics in the ensemble."""
    subset_size: int = 2
    """Target critics: min over a random subset of this size (== ensemble_size: min over all)."""
    discount: float = 0.97
    """Discount; set it from the task (0.96 to 0.985 in the paper)."""
    tau: float = 0.005
    """Polyak rate of the target critics, applied after every critic step."""
    actor_lr: float = 3e-4
    """Adam learning rate of the actor."""
    critic_lr: float = 3e-4
    """Adam learning rate of the critics (and of a shared image encoder)."""
    temperature_lr: float = 3e-4
    """Adam learning rate of the temperature."""
    init_temperature: float = 0.01
    """Initial temperature (softplus-parameterised Lagrange multiplier)."""
    target_entropy: float | None = None
    """Entropy the temperature aims for; ``None`` means ``-action_dim / 2``."""
    backup_entropy: bool = False
    """Subtract ``temperature * log_prob(next action)`` in the critic target (soft backup)."""
    critic_actor_ratio: int = 2
    """Critic steps per actor+temperature step; the loop passes this many minibatches per ``update``."""
    target_bounds: tuple[float, float] | None = (-1.0, 1.0)
    """TD targets are clipped into the range of possible returns (sparse reward 1 ends the episode); without it
    the USB critic's mean Q climbed to 1.6 by 4k steps while no episode can return more than 1. None: no clip."""
    std_min: float = 1e-5
    """Lower clip of the policy std."""
    std_max: float = 5.0
    """Upper clip of the policy std."""
    share_encoder: bool = True
    """The actor reuses the critic's encoder parameters (stop-gradient): only critic losses train it."""
    scan_updates: bool = True
    """Run the critic steps in ``lax.scan``; turn off for conv encoders (scan is ~12x slower on CPU)."""


@dataclass(frozen=True)
class GripperConfig:
    """The discrete gripper critic (learned-gripper tasks only)."""

    hidden_dims: tuple[int, ...] = (256, 256)
    """Hidden layer widths."""
    activation: Activation = "tanh"
    """Hidden activation."""
    layer_norm: bool = True
    """LayerNorm after every hidden Dense."""
    lr: float = 3e-4
    """Adam learning rate."""
    tau: float = 0.005
    """Polyak rate of the target network, applied after every step."""
    exploration: Literal["boltzmann", "epsilon", "greedy"] = "boltzmann"
    """How ``sample_actions`` explores: softmax over Q / temperature (tries near-equal actions, almost never
    drops a held part), uniform random with probability epsilon, or always greedy."""
    temperature: float = 0.02
    """Boltzmann temperature at the start of training (in return units: a Q gap of 0.05 is then e^-2.5)."""
    final_temperature: float = 0.002
    """Boltzmann temperature after ``explore_decay_steps``."""
    epsilon: float = 0.1
    """Epsilon-greedy probability of a uniformly random joint action at the start of training."""
    final_epsilon: float = 0.01
    """Epsilon after ``explore_decay_steps``."""
    explore_decay_steps: int = 40_000
    """Gripper-critic gradient steps (env steps x utd x critic_actor_ratio) of the linear exploration decay."""
    target_bounds: tuple[float, float] = (-1.0, 1.0)
    """Bellman targets are clipped into the range of possible returns: sparse reward 1 ends the episode, so no
    value exceeds 1; the penalty is bounded by its discounted sum. Stops extrapolated maxima feeding back."""
    init_output_scale: float = 0.01
    """The Q head's initial kernel is scaled by this (bias zero): values start near 0, not at +-0.9."""
    gap_alpha: float = 0.5
    """Advantage-learning weight (Bellemare et al. 2016): the target of a non-greedy action is lowered by
    ``alpha * (max_a Q(s, a) - Q(s, a))``, which widens action gaps while keeping the greedy policy."""


@dataclass(frozen=True)
class RLPDConfig:
    """Full RLPD agent: SAC on the twist dims plus, when the gripper is learned, the gripper critic."""

    sac: SACConfig = SACConfig()
    """Continuous actor/critic settings; ``sac.discount`` is also the gripper critic's discount."""
    gripper: GripperConfig = GripperConfig()
    """Discrete gripper critic settings (ignored when the action has no gripper dims)."""


@dataclass(frozen=True)
class BCConfig:
    """Behaviour cloning (and HG-DAgger, which is the same learner on demos + interventions)."""

    hidden_dims: tuple[int, ...] = (512, 512, 512)
    """Hidden layer widths."""
    activation: Activation = "tanh"
    """Hidden activation."""
    layer_norm: bool = True
    """LayerNorm after every hidden Dense."""
    dropout_rate: float = 0.25
    """Dropout after every hidden Dense (training only)."""
    lr: float = 3e-4
    """Adam learning rate."""
    batch_size: int = 256
    """Transitions per update."""
    train_steps: int = 20_000
    """Updates of the BC run (and of HG-DAgger's pretraining)."""
    std_min: float = 1e-5
    """Lower clip of the policy std."""
    std_max: float = 5.0
    """Upper clip of the policy std."""


PRESETS: dict[str, RLPDConfig] = {
    "hilserl": RLPDConfig(),
    "rlpd": RLPDConfig(
        sac=SACConfig(
            activation="relu",
            actor_layer_norm=False,
            ensemble_size=10,
            subset_size=2,
            discount=0.99,
            init_temperature=1.0,
            critic_actor_ratio=20,
        ),
        gripper=GripperConfig(activation="relu"),
    ),
}
"""``hilserl``: 2 critics (min over both), tanh, LayerNorm everywhere, temperature 0.01, critic:actor 2.
``rlpd``: 10 critics (min over a random 2), ReLU, LayerNorm in the critic only, temperature 1.0,
discount 0.99, 20 critic steps per actor step (RLPD's UTD 20, one ``update`` per env step)."""


def preset(name: str, **sac_overrides: object) -> RLPDConfig:
    """The named preset, with optional ``SACConfig`` field overrides (e.g. ``discount=task.discount``)."""
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; valid: {sorted(PRESETS)}")
    config = PRESETS[name]
    return dataclasses.replace(config, sac=dataclasses.replace(config.sac, **sac_overrides))
