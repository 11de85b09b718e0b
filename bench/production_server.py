"""The production server as the load benchmarks run it: gunicorn with the project's configuration on a free loopback
port, DEBUG off, its own empty cache directory, started once `/salud/` answers."""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/load.py's own crew zone in Puente Alto (west, south, east, north): bench/region.py keeps its grid out of it.
LOAD_ZONE_BOX = (-70.59, -33.625, -70.56, -33.60)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_settings(*, host: str, cache_prefix: str, **extra: str) -> dict:
    """Production settings for a bench, in the server or in process: DEBUG off, a throwaway secret key, no TLS on
    loopback, `host` allowed, an empty cache directory of the run's own, and `extra` variables on top."""
    return {
        "GEO_SIAC_PRODUCTION": "1",
        "SECRET_KEY": "bench-only-" + "k" * 50,
        "ALLOWED_HOSTS": host,
        "SECURE_SSL_REDIRECT": "0",
        "GEO_SIAC_INSECURE_COOKIES": "1",
        "LOG_LEVEL": "WARNING",
        "CACHE_LOCATION": tempfile.mkdtemp(prefix=cache_prefix),
        **extra,
    }


def server_environment(port: int, *, cache_prefix: str, **extra: str) -> dict:
    """Production settings on 127.0.0.1:`port` (production_settings), over this process's environment."""
    bind = {"GUNICORN_BIND": f"127.0.0.1:{port}"}
    return {**os.environ, **production_settings(host="127.0.0.1", cache_prefix=cache_prefix, **bind, **extra)}


def manage(env: dict, *args: str) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def start_server(env: dict, base: str, config: str = "geo_siac/gunicorn.conf.py") -> subprocess.Popen:
    """gunicorn with the project's configuration, or `config` (bench/request_cpu.py: the same plus hooks)."""
    manage(env, "collectstatic", "--noinput", "-v", "0")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            config,
            "--access-logfile",
            "/dev/null",
            "geo_siac.wsgi",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(300):
        try:
            with urllib.request.urlopen(base + "/salud/", timeout=5) as answer:
                if answer.status == 200:
                    return process
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit("the server did not answer /salud/")


def psql(env: dict, sql: str) -> str:
    return subprocess.run(["psql", "-tAc", sql], capture_output=True, text=True, env=env, check=True).stdout


def stored_reports(env: dict) -> int:
    return int(psql(env, "SELECT count(*) FROM reports_report"))


def top_up(env: dict, reports: int, *, source: str) -> None:
    """Add synthetic reports through the bulk importer until the table holds `reports` (source `<source><stored>`)."""
    stored = stored_reports(env)
    if reports <= stored:
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "more.csv"
        manage(
            env,
            "shell",
            "-c",
            "from pathlib import Path; from geo_siac.reports.importers import CommuneIndex;"
            "from geo_siac.reports.synthetic import write_synthetic_csv;"
            f"write_synthetic_csv(Path('{path}'), {reports - stored}, CommuneIndex.load().geometries, "
            f"seed={stored}, prefix='{source}{stored}')",
        )
        started = time.monotonic()
        manage(env, "import_reports", str(path), "--commit", "--no-progress", "--source", f"{source}{stored}")
        print(f"topped up to {reports:,} reports in {time.monotonic() - started:.0f} s")
