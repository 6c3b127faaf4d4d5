"""OAuth tests' fixtures: the X simulator (tests/x_support.py) beside the live server."""

from __future__ import annotations

from x_support import x_sim, x_sim_url

# Imported fixtures are found by pytest through the module's names; __all__ marks them used.
__all__ = ["x_sim", "x_sim_url"]
