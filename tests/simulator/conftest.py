"""The simulator suite's fixtures live in tests/sim_fixtures.py (the driver suite uses the same ones)."""

from tests.sim_fixtures import UNLOCK, make_sim, no_leftover_threads, vclock  # noqa: F401
