"""The archiver: consumes chat:archive in a consumer group and writes every message to the store."""
