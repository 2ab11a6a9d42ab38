"""The README's first command, run in a fresh clone: installs, sets up and serves the demo."""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode("utf-8")


@pytest.mark.slow
def test_readme_first_command_serves_demo_catalogue_from_fresh_clone(tmp_path):
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    command = re.search(r"```sh\n(\S+)", readme).group(1)
    assert command == "scripts/serve"
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGISTRY_", "VIRTUAL_ENV"))}
    env.update(REGISTRY_PORT=str(port), PIP_DISABLE_PIP_VERSION_CHECK="1")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if ".venv" not in p)
    log = (tmp_path / "serve.log").open("w")
    # No intermediate shell: the signal goes to scripts/serve as from a terminal.
    process = subprocess.Popen([str(clone / command)], cwd=clone, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 900
        while True:
            if process.poll() is not None:
                pytest.fail("scripts/serve exited: "
                            + _worker_errors((tmp_path / "serve.log").read_text()))
            try:
                status, _ = _get(f"http://127.0.0.1:{port}/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("not serving after 15 minutes: "
                            + (tmp_path / "serve.log").read_text()[-3000:])
            time.sleep(2)
        status, page = _get(f"http://127.0.0.1:{port}/practices")
        assert status == 200
        assert "Dữ liệu trình diễn" in page  # the demo banner
        total = int(re.search(r"(\d[\d.]*)\s+mô hình", page).group(1).replace(".", ""))
        assert 700 <= total <= 800
        assert (clone / "instance" / "registry.sqlite3").exists()
        # Served by gunicorn, and the address printed is the one given by REGISTRY_PORT.
        output = (tmp_path / "serve.log").read_text()
        assert "Starting gunicorn" in output
        assert f"Đang phục vụ tại http://127.0.0.1:{port} " in output
        assert "127.0.0.1:5000" not in output or port == 5000
        # Ctrl-C in a terminal, once every worker has loaded the app (a worker still
        # importing it when SIGINT lands exits as "failed to boot" and gunicorn exits 1).
        _wait_for_workers(tmp_path / "serve.log")
        # Ctrl-C in a terminal: SIGINT to the whole process group (master and workers).
        os.killpg(process.pid, signal.SIGINT)
        try:
            returncode = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("scripts/serve did not stop within 30 s of SIGINT")
        stopped = (tmp_path / "serve.log").read_text()
        assert returncode == 0, _worker_errors(stopped)
        assert "Traceback" not in stopped, stopped[-3000:]
        with pytest.raises(OSError):
            _get(f"http://127.0.0.1:{port}/healthz")
        _assert_group_gone(process.pid)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        log.close()


def _assert_group_gone(pgid: int) -> None:
    """No process of the server's group (no stray worker) is left a few seconds after."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    pytest.fail("worker processes still running after the server stopped")


def _wait_for_workers(log_path: Path) -> None:
    """Until each booted worker has said it is ready (registry.gunicorn_conf.post_worker_init)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        text = log_path.read_text()
        if text.count("Worker ready") >= text.count("Booting worker") > 0:
            return
        time.sleep(0.5)
    pytest.fail("workers not ready after 2 minutes: " + _worker_errors(log_path.read_text()))


def _worker_errors(log: str) -> str:
    """The server's own lines (no pip or setup output), the worker's exception last, short."""
    lines = [line for line in log.splitlines() if "[gunicorn" not in line]
    start = next((i for i, line in enumerate(lines) if "Starting gunicorn" in line), 0)
    served = lines[start:]
    errors = [i for i, line in enumerate(served) if "Exception in worker" in line]
    if errors:
        served = served[:20] + ["…"] + served[errors[0]:errors[0] + 60]
    return "\n".join(served)[-6000:]
