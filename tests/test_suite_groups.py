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


def test_a_server_started_by_a_test_process_dies_with_it(tmp_path):
    """A killed test process (Ctrl-C on an xdist worker, a cancelled CI job) leaves no server behind."""
    import os
    import signal
    import subprocess
    import sys
    import time

    pid_file = tmp_path / "server.pid"
    # The "test process": starts a long-lived "server" as the fixtures do, writes its pid, then waits.
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import django, os, subprocess, sys, time; "
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'geo_siac.settings'); django.setup(); "
            "from geo_siac.testing import die_with_parent; "
            "server = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], "
            "preexec_fn=die_with_parent); "
            f"open({str(pid_file)!r} + '.tmp', 'w').write(str(server.pid)); "
            f"os.rename({str(pid_file)!r} + '.tmp', {str(pid_file)!r}); time.sleep(600)",
        ]
    )
    try:
        deadline = time.monotonic() + 60
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        server_pid = int(pid_file.read_text())
        os.kill(server_pid, 0)  # running while its parent runs
        parent.send_signal(signal.SIGKILL)  # no finalizer can run
        parent.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(server_pid, 0)
            except ProcessLookupError:
                break
            # The orphan is re-parented to init, which reaps it; until then it may linger as a zombie.
            with open(f"/proc/{server_pid}/stat") as stat:
                if stat.read().split()[2] == "Z":
                    break
            time.sleep(0.05)
        else:
            os.kill(server_pid, signal.SIGKILL)
            raise AssertionError("the server outlived the killed test process")
    finally:
        if parent.poll() is None:
            parent.kill()
