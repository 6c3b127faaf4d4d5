"""Repositories: every SQL statement Herald runs lives in this package."""
