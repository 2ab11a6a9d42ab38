"""Gunicorn settings for `scripts/serve`: workers from the core count, the real address printed."""
from __future__ import annotations

import os
import sys

# Slow phone links hold a connection for long; threads keep a worker answering meanwhile and
# the worker's heartbeat does not depend on a request finishing (no timeout mid-upload).
worker_class = "gthread"
threads = int(os.environ.get("REGISTRY_THREADS", "4"))
workers = int(os.environ.get("REGISTRY_WORKERS") or 2 * (os.cpu_count() or 1) + 1)
bind = [f"{os.environ.get('REGISTRY_HOST', '127.0.0.1')}:{os.environ.get('REGISTRY_PORT', '5000')}"]
accesslog = "-"
# The longest request line gunicorn accepts (its maximum; the default is 4094). The API's own
# limit (registry/api/errors.MAX_URL_BYTES, 4096) is below it, so an over-long API URL gets
# the API's JSON 414; only lines past this one get gunicorn's plain-text 414.
limit_request_line = 8190
# Never preload: wsgi.py opens database connections and warms the search in each worker, and
# connections must not be shared across the fork.
preload_app = False
graceful_timeout = 10
# No control socket: its default path (~/.gunicorn/gunicorn.ctl) is shared by every instance.
control_socket_disable = True


def when_ready(server) -> None:
    """Print where the sockets really listen (the port given may be 0: any free port)."""
    for listener in server.LISTENERS:
        print(f"Đang phục vụ tại {listener} (đăng nhập: {listener}/login; Ctrl-C để dừng)",
              file=sys.stdout, flush=True)


def post_worker_init(worker) -> None:
    """Say when a worker has loaded the application and is about to accept requests."""
    worker.log.info("Worker ready (pid: %s)", worker.pid)
