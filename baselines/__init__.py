"""JAX baselines (RLPD, BC, HG-DAgger) arrive with the baselines issue."""
