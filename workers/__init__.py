"""What the worker processes (bot, archiver) share beyond core: their small health and metrics server."""
