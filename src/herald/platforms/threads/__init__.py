"""Threads profiles through the Threads API."""
