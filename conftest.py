# Shared fixtures live in geo_siac/testing.py so app tests (geo_siac/*/tests) and cross-app tests (tests/) use one set.
pytest_plugins = ["geo_siac.testing"]

import os  # noqa: E402

from hypothesis import settings  # noqa: E402

# Property tests draw the same examples on every run, so the suite that gates a merge cannot fail on a draw it never
# made before. `GEO_SIAC_HYPOTHESIS=explore` draws new examples (and replays failures kept in .hypothesis/): run it
# when changing an entry point, and keep what it finds as a plain example (tests/test_geometry_properties.py).
settings.register_profile("gate", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("GEO_SIAC_HYPOTHESIS", "gate"))
