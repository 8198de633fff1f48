"""Shared test configuration: hypothesis profiles.

The default profile keeps property-based tests small and reproducible (the machine is
shared; every test file must stay fast). Run more examples locally with
``HYPOTHESIS_PROFILE=thorough pytest tests``.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    max_examples=25,
    deadline=None,  # timings vary on a loaded machine; speed lives in benchmarks/
    derandomize=True,  # the same examples on every run: CI failures reproduce locally
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("thorough", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
