"""Investor tools (docs/protocol.md#investor-tools): watchlists, price alerts and trade ideas, shared by the
nodes (REST), the bot (commands) and the alert engine."""
