"""An import killed with SIGKILL mid-way leaves whole models only, and a re-run completes it.

`registry import` runs as a real process on a generated file (../shared/bench/gen_practices.py)
against the test database, once uninterrupted and once killed after its first batches.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from registry.models.practices import Practice

GENERATOR = Path(__file__).resolve().parents[2] / "shared" / "bench" / "gen_practices.py"
ROWS, BATCH = 1500, 100


def registry(app, *args, check=True, **kwargs):
    env = dict(os.environ, REGISTRY_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"])
    env.pop("REGISTRY_ELASTICSEARCH_URL", None)
    command = [sys.executable, "-c", "from registry.cli import main; main()", *args]
    if kwargs.pop("background", False):
        return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    return subprocess.run(command, env=env, check=check, capture_output=True, text=True,
                          timeout=600)


def search_rows(engine) -> dict[str, tuple]:
    """external_id -> its practice_text row (the words search sees)."""
    key = "rowid" if engine.dialect.name == "sqlite" else "practice_id"
    with engine.connect() as conn:
        return {ext: tuple(rest) for ext, *rest in conn.execute(text(
            f"SELECT p.external_id, t.name_exact, t.name_folded, t.body_exact, t.body_folded "
            f"FROM practice p JOIN practice_text t ON t.{key} = p.id"))}


def counts(engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        practices = conn.scalar(select(func.count()).select_from(Practice))
        revisions = conn.scalar(text("SELECT count(DISTINCT practice_id) FROM revision"))
        logged = conn.scalar(text("SELECT count(*) FROM practice p WHERE EXISTS (SELECT 1 "
                                  "FROM search_change c WHERE c.practice_id = p.id)"))
        return practices, revisions, logged


@pytest.mark.slow
def test_sigkill_mid_import_leaves_whole_models_and_a_rerun_completes(app, tmp_path):
    from tests.conftest import reset_database
    if not GENERATOR.is_file():
        pytest.skip(f"benchmark generator missing: {GENERATOR}")
    data = tmp_path / "practices.jsonl"
    with open(data, "w", encoding="utf-8") as out:
        subprocess.run([sys.executable, str(GENERATOR), str(ROWS), "7"], stdout=out, check=True)
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        # The reference: one uninterrupted import.
        assert registry(app, "import", str(data)).returncode == 0
        registry(app, "export", str(tmp_path / "whole.jsonl"))
        whole_text = search_rows(engine)
        assert len(whole_text) == ROWS
        reset_database(app)

        process = registry(app, "import", str(data), "--batch-size", str(BATCH),
                           background=True)
        deadline = time.monotonic() + 300
        done = 0
        while time.monotonic() < deadline and process.poll() is None:
            done = counts(engine)[0]
            if done >= 2 * BATCH:
                break
            time.sleep(0.005)
        assert process.poll() is None, "the import ended before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait()
        practices, revisions, logged = counts(engine)
        assert 0 < practices < ROWS, practices
        assert practices % BATCH == 0  # whole batches only: each is one transaction
        assert revisions == logged == practices  # each model with its revision, logged
        partial = search_rows(engine)
        assert partial == {ext: whole_text[ext] for ext in partial}  # words complete
        registry(app, "export", str(tmp_path / "partial.jsonl"))
        whole_lines = (tmp_path / "whole.jsonl").read_text(encoding="utf-8").splitlines()
        partial_lines = (tmp_path / "partial.jsonl").read_text(encoding="utf-8").splitlines()
        assert partial_lines == whole_lines[:len(partial_lines)]  # no half model anywhere

        rerun = registry(app, "import", str(data), check=False)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        assert f"không đổi: {practices}," in rerun.stdout
        registry(app, "export", str(tmp_path / "rerun.jsonl"))
        assert (tmp_path / "rerun.jsonl").read_bytes() == (tmp_path / "whole.jsonl").read_bytes()
        assert search_rows(engine) == whole_text
        assert counts(engine) == (ROWS, ROWS, ROWS)
    finally:
        engine.dispose()
