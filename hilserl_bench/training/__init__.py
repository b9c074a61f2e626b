"""Training loops (actor and learner roles), scripted interventions, checkpoints and evaluation."""
