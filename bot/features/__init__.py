"""Features: one folder each, holding its service (what handlers and other features call), its job executors and its job kinds (jobs.py). bot/features/jobs.py gathers every kind into the registry."""
