"""Database plumbing: engine and session factories, the unit of work, column types."""
