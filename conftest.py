# Shared fixtures live in geo_siac/testing.py so app tests (geo_siac/*/tests) and cross-app tests (tests/) use one set.
pytest_plugins = ["geo_siac.testing"]
