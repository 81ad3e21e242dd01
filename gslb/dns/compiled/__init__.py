"""The compiled answer path: ordinary queries answered from ready bytes (see `path.py`)."""
