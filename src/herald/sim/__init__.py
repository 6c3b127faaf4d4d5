"""Platform simulators for tests, benchmarks and `herald sim`."""
