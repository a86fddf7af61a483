"""The holdfast command: serve, worker, migrate, check, policy test, audit, jobs, demo and sandbox. demo and devstack are the only modules of bot/ that import sandbox/."""
