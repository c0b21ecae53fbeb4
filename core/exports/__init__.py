"""Compliance exports (docs/compliance.md#export): the journal of a date range as JSON Lines, CSV or emails,
with a manifest of every file's sha256 and each channel's chain head, written as it is read."""
