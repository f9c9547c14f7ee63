"""gunicorn's settings for `web` (Procfile, Dockerfile): processes, graceful shutdown, metrics.

gunicorn reads this file with `-c gunicorn.conf.py`. Every value can still be overridden on the
command line or with GUNICORN_CMD_ARGS.

Shutdown: on SIGTERM the arbiter stops accepting, and each worker finishes the requests it has
(a webhook's events, then the pushes they queued, sent once the response is closed) for up to
`graceful_timeout` seconds; pushes not sent by then stay in the outbox, leased for at most 20 s,
and the worker process sends them (nothing is lost, LINE's retry key stops doubles).

Metrics: every worker writes its counters to files in PROMETHEUS_MULTIPROC_DIR and /metrics adds
them up (bot/metrics.py). This file sets that variable to a fresh folder when the environment has
none: it is read here, in gunicorn's master, before any worker imports the bot. As
prometheus_client documents: the folder must be empty when gunicorn starts (on_starting below)
and a dead worker's files are marked in `child_exit`. Only gunicorn gets the variable: the
`khabuan worker` process counts in its own memory and serves its own /metrics.
"""
import os
import shutil
import tempfile

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="khabuan-metrics-")

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "8"))
worker_class = "gthread"
timeout = 30  # a request (a webhook's events and their replies) never takes this long
graceful_timeout = 25  # in-flight webhooks finish within this after SIGTERM (under Docker's 30 s stop)
keepalive = 5  # behind a proxy that keeps connections open
accesslog = None  # one line per webhook event comes from bot.webhook instead (no request bodies)


def on_starting(server):
    # Values left by an earlier run in a folder given by the environment would add to this one's.
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
