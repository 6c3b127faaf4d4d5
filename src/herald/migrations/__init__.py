"""Alembic migrations; applied at start by herald.db.migrate."""
