"""The Publora-compatible HTTP API under /api/v1."""
