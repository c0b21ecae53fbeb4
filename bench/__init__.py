"""The side-by-side benchmark against the Node Socket.IO reference (see bench/run.py)."""
