"""Outbound network rules shared by every client that calls a tenant-supplied address."""
