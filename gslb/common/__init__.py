"""Pieces every other package may use and that use nothing of gslb: YAML with line marks,
collected problems, durations, endpoints, atomic state files, logging set-up, task helpers."""
