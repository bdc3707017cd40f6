"""Fixtures shared with the platform-fault tests: `live_call` (a ringing call a handler took)."""
from tests.test_platform_faults import live_call  # noqa: F401  (fixture)
