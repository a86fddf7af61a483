"""The pure core: order facts, policy matching and the approval state machine (no I/O, no clock)."""
