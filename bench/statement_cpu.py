"""The PostgreSQL server's CPU per statement: one statement sent N times, each its own transaction, in one session.

    .venv/bin/python bench/statement_cpu.py STATEMENT.sql [--count 1000] [--setup "SET ..."]...

STATEMENT.sql is the statement's text, `{n}` where each execution needs a value of its own (a tracking code, a
token). Each run opens a new session (PGDATABASE and the other libpq variables), runs the --setup statements, sends
the statement 30 times uncounted, then --count times in autocommit, and prints the CPU per statement of the session's
server process (user plus system time from /proc/PID/stat: PostgreSQL on this machine, read in 10 ms ticks) and the
wall time, with the load average. docs/performance.md, "A submission's PostgreSQL time, piece by piece", used it on a
submission's statements as the app sent them (captured with CaptureQueriesContext).
"""

import argparse
import os
import random
import time
from pathlib import Path

import psycopg2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("statement", type=Path)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--setup", action="append", default=[], help="a statement run first in the session")
    options = parser.parse_args()
    template = options.statement.read_text()
    connection = psycopg2.connect("")
    connection.autocommit = True
    cursor = connection.cursor()
    for statement in options.setup:
        cursor.execute(statement)
    pid = connection.info.backend_pid

    def cpu() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    base = random.randrange(10**9)
    for n in range(30):
        cursor.execute(template.replace("{n}", f"{base}w{n}"))
    load = Path("/proc/loadavg").read_text().split()[0]
    started, wall = cpu(), time.perf_counter()
    for n in range(options.count):
        cursor.execute(template.replace("{n}", f"{base}x{n}"))
    spent, wall = cpu() - started, time.perf_counter() - wall
    print(
        f"{options.statement} {' '.join(options.setup)}: backend CPU {spent / options.count * 1000:.3f} ms, wall"
        f" {wall / options.count * 1000:.3f} ms per statement (n={options.count}), load"
        f" {load}-{Path('/proc/loadavg').read_text().split()[0]}"
    )


if __name__ == "__main__":
    main()
