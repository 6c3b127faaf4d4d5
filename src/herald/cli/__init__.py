"""The `herald` command line."""
