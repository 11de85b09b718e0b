"""gunicorn settings for production: `gunicorn -c geo_siac/gunicorn.conf.py geo_siac.wsgi` (see docs/deployment.md)."""

import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: requests are short database round trips; (2 x cores) + 1 is gunicorn's documented default.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
# Load the application (and every view) once in the master and fork ready workers from it: a worker costs no
# import time when it starts or is recycled, and the workers share the imported code's memory.
preload_app = True


def when_ready(server):
    from geo_siac.wsgi import warm_up  # the application is loaded by now (preload_app)

    warm_up()
    # Everything loaded so far (Django, GeoDjango, pandas) lives as long as the process. Frozen, the workers forked
    # from here never scan it again in their full garbage collections, and their pages stay shared with the master.
    gc.freeze()


# Recycle workers now and then so a slow leak (GDAL, matplotlib) cannot grow without bound. Not too often: a new
# worker starts in milliseconds (preloaded), but then warms its own caches and database connection while the
# others carry its share, which showed in the tail latency at 10,000 (docs/performance.md).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 100_000))
max_requests_jitter = max_requests // 10
accesslog = "-"
access_log_format = '{"remote": "%(h)s", "request": "%(r)s", "status": %(s)s, "bytes": "%(B)s", "ms": %(M)s}'
# gunicorn's logger, the access line built from the five atoms it names instead of every header and environ entry
# (it replaces gunicorn's automatic switch to its statsd logger, which this deployment does not use).
logger_class = "geo_siac.web.logs.AccessLogger"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn 27's control socket sits at one path per user, which several instances (tests, bench) would share;
# systemd does the process control here.
control_socket_disable = True
