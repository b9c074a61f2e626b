"""Data layer: the training env stack, the on-disk episode format, demo recording, replay buffers,
and safe import of official HIL-SERL data.

- :func:`make_learning_env` / :func:`describe_stack`: the one observation/action stack learners,
  recorders and evaluation share, and its JSON description stored with every episode.
- :func:`save_episode` / :func:`load_episode` / :func:`load_dataset`: one ``.npz`` per episode
  (format in :mod:`hilserl_bench.data.episode_format`), written atomically, validated on load.
- :func:`record_episodes` / :class:`RecordCmd`: scripted-expert demos through the training stack.
- :class:`ReplayBuffer` / :class:`MixedSampler` / :func:`route_transition`: frames stored once,
  RLPD 50/50 batches, interventions routed to both buffers.
- :func:`import_official_demos` / :func:`load_restricted_pickle`: official pickles without running code.
"""

from hilserl_bench.data.episode_format import (
    FORMAT_VERSION,
    Episode,
    EpisodeFormatError,
    atomic_savez,
    episode_files,
    load_dataset,
    load_episode,
    read_metadata,
    save_episode,
    stack_mismatches,
    to_dataframe,
)
from hilserl_bench.data.learning_env import describe_stack, make_learning_env, obs_spec, wrap_learning_stack
from hilserl_bench.data.official_import import (
    RestrictedUnpickler,
    UnsafePickleError,
    import_official_demos,
    load_restricted_pickle,
    loads_restricted,
)
from hilserl_bench.data.recorder import EpisodeBuilder, ExpertDriver, RecordCmd, RecordError, record_episodes
from hilserl_bench.data.replay_buffer import MixedSampler, ReplayBuffer, route_transition, transition_from_step

__all__ = [
    "FORMAT_VERSION",
    "Episode",
    "EpisodeBuilder",
    "EpisodeFormatError",
    "ExpertDriver",
    "MixedSampler",
    "RecordCmd",
    "RecordError",
    "ReplayBuffer",
    "RestrictedUnpickler",
    "UnsafePickleError",
    "atomic_savez",
    "describe_stack",
    "episode_files",
    "import_official_demos",
    "load_dataset",
    "load_episode",
    "load_restricted_pickle",
    "loads_restricted",
    "make_learning_env",
    "obs_spec",
    "read_metadata",
    "record_episodes",
    "route_transition",
    "save_episode",
    "stack_mismatches",
    "to_dataframe",
    "transition_from_step",
    "wrap_learning_stack",
]
