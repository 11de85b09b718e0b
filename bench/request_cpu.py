"""The workers' CPU per request type inside a load run (issues #23 and #27 point 4): a gunicorn configuration that
is the project's own plus `pre_request`/`post_request` hooks timing each request with `time.process_time`, and the
summary `bench/load.py --request-cpu DIR` prints from what the workers wrote.

    GEO_SIAC_BENCH_REQUEST_CPU=<dir> gunicorn -c bench/request_cpu.py geo_siac.wsgi   (bench/load.py does this)

Each worker counts once `<dir>/counting` exists (bench/load.py makes it when its warm-up ends), by the request's
name in bench/load.py's report, and writes `<dir>/<pid>.json` when it exits: per name the requests and their CPU
between the hooks (the WSGI call, writing the answer and the access log), and the worker's whole CPU over the same
time (`os.times`), whose rest is what gunicorn does outside the hooks (accepting, parsing, `close_graceful`).
With GEO_SIAC_BENCH_REQUEST_PROFILE=1 each name also gets a cProfile on the CPU clock (`<dir>/<pid>-<n>.prof`).
"""

import cProfile
import json
import os
import re
import time
from pathlib import Path

# The project's own settings, then the hooks (gunicorn reads this file's module-level names as its settings).
_PROJECT = Path(__file__).resolve().parent.parent / "geo_siac" / "gunicorn.conf.py"
exec(compile(_PROJECT.read_text(), str(_PROJECT), "exec"))

# (method, path pattern, name), as bench/load.py names its requests; anything else is named by method and path.
NAMES = [
    ("POST", r"/", "POST / (web form)"),
    ("POST", r"/open311/v2/requests\.json", "POST open311"),
    ("POST", r"/solicitud/([a-z-]+)/", "POST /solicitud/{}/"),
    ("POST", r"/buzon/\d+/", "POST /buzon/[id]/ (sugerencia)"),
    ("GET", r"/seguimiento/[^/]+/", "GET /seguimiento/[code]/"),
    ("GET", r"/transparencia/mapa/", "GET public map (page)"),
    ("GET", r"/transparencia/celdas\.geojson", "GET public map (cells)"),
    ("GET", r"/api/reports/", "GET GeoJSON API (bbox, 100)"),
    ("GET", r"/cuadrilla/", "GET /cuadrilla/ (queue)"),
    ("GET", r"/cuadrilla/solicitud/[^/]+/", "GET /cuadrilla/solicitud/[code]/"),
    ("POST", r"/cuadrilla/solicitud/[^/]+/estado/", "POST crew status update"),
]
_PATTERNS = [(method, re.compile(pattern + r"\Z"), name) for method, pattern, name in NAMES]
_DIRECTORY = os.environ.get("GEO_SIAC_BENCH_REQUEST_CPU", "")
_PROFILE = os.environ.get("GEO_SIAC_BENCH_REQUEST_PROFILE") == "1"
_state = {"counting": False, "started": 0.0, "request": 0.0, "name": "", "totals": {}, "profiles": {}}


def request_name(method: str, path: str) -> str:
    for expected, pattern, name in _PATTERNS:
        match = pattern.match(path)
        if match and method == expected:
            return name.format(*match.groups())
    return f"{method} {path}"


def _process_cpu() -> float:
    times = os.times()
    return times.user + times.system


def pre_request(worker, req):
    if not _state["counting"] and _DIRECTORY and os.path.exists(os.path.join(_DIRECTORY, "counting")):
        _state.update(counting=True, started=_process_cpu())
    if _state["counting"]:
        _state["name"] = request_name(req.method, req.path)
        if _PROFILE:
            profile = _state["profiles"].get(_state["name"])
            if profile is None:
                profile = _state["profiles"][_state["name"]] = cProfile.Profile(time.process_time)
            profile.enable()
        _state["request"] = time.process_time()


def post_request(worker, req, environ, resp):
    if not _state["counting"]:
        return
    spent = time.process_time() - _state["request"]
    if _PROFILE:
        _state["profiles"][_state["name"]].disable()
    count, cpu = _state["totals"].get(_state["name"], (0, 0.0))
    _state["totals"][_state["name"]] = (count + 1, cpu + spent)


def worker_exit(server, worker):
    if not _state["counting"]:
        return
    pid = os.getpid()
    names = {}
    for n, (name, profile) in enumerate(_state["profiles"].items()):
        profile.dump_stats(os.path.join(_DIRECTORY, f"{pid}-{n}.prof"))
        names[name] = f"{pid}-{n}.prof"
    Path(_DIRECTORY, f"{pid}.json").write_text(
        json.dumps({"worker": _process_cpu() - _state["started"], "totals": _state["totals"], "profiles": names})
    )


def summary(directory: str, submission_names, *, top: int = 0) -> None:
    """Prints, per request name over every worker: requests, CPU per request between the hooks, and that CPU per
    submission of the run (its share of the mix), then the workers' CPU outside the hooks."""
    import pstats

    totals: dict[str, list] = {}
    worker, profiles = 0.0, {}
    for path in Path(directory).glob("*.json"):
        written = json.loads(path.read_text())
        worker += written["worker"]
        for name, (count, cpu) in written["totals"].items():
            totals.setdefault(name, [0, 0.0])
            totals[name][0] += count
            totals[name][1] += cpu
        for name, file in written["profiles"].items():
            profiles.setdefault(name, []).append(str(Path(directory, file)))
    submissions = sum(totals[name][0] for name in submission_names if name in totals)
    hooked = sum(cpu for _count, cpu in totals.values())
    print(f"workers' CPU per request type (between gunicorn's hooks), {submissions} submissions counted")
    print(f"{'request':38} {'count':>7} {'ms/request':>11} {'ms/submission':>14} {'share':>6}")
    for name, (count, cpu) in sorted(totals.items(), key=lambda item: -item[1][1]):
        print(
            f"{name:38} {count:7d} {cpu / count * 1000:11.2f} {cpu / max(submissions, 1) * 1000:14.2f} "
            f"{cpu / max(worker, 1e-9):6.1%}"
        )
    print(
        f"{'between the hooks':38} {'':7} {'':11} {hooked / max(submissions, 1) * 1000:14.2f} "
        f"{hooked / max(worker, 1e-9):6.1%}"
    )
    print(
        f"{'outside them (accept, parse, close)':38} {'':7} {'':11} "
        f"{(worker - hooked) / max(submissions, 1) * 1000:14.2f} {(worker - hooked) / max(worker, 1e-9):6.1%}"
    )
    print(f"{'the workers in all':38} {'':7} {'':11} {worker / max(submissions, 1) * 1000:14.2f}")
    for name, files in sorted(profiles.items()) if top else ():
        print(f"\n--- profile: {name} ({totals[name][0]} requests; CPU clock) ---")
        stats = pstats.Stats(*files)
        stats.sort_stats("cumulative").print_stats(top)
        stats.sort_stats("tottime").print_stats(top)
