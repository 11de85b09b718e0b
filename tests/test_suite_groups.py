"""Which tests share one pytest-xdist worker (geo_siac.testing.xdist_group, docs/testing.md)."""

import pytest

from geo_siac.testing import xdist_group


@pytest.fixture(scope="module")
def module_resource():
    return object()


def test_a_test_asking_for_a_module_scoped_fixture_is_grouped_with_its_module(request, module_resource):
    assert xdist_group(request.node) == "tests/test_suite_groups.py"


def test_a_test_without_shared_fixtures_goes_to_any_worker(request, tmp_path):
    assert xdist_group(request.node) is None


@pytest.mark.xdist_group("mapa")
def test_an_explicit_group_mark_wins(request, module_resource):
    assert xdist_group(request.node) == "mapa"
