"""Simulated world: the Franka model and controller, arena, props, tasks, experts."""
