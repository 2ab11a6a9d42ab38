"""The hostile API test: the app served on a real port, schemathesis run against its OpenAPI
document as three callers (anonymous, an officer, an administrator).

Used by tests/test_api_fuzz.py (bounded, part of the suite) and scripts/fuzz (longer, writes a
report). `python tests/api_fuzz.py serve DIR` builds a throwaway SQLite database in DIR (demo
data, the two users and their tokens), serves it on 127.0.0.1 on a free port and prints one
JSON line {"url", "tokens"} once it listens; it serves until killed.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCHEMATHESIS = ROOT / ".venv" / "bin" / "schemathesis"
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance")
ROLES = ("anonymous", "officer", "admin")
DEMO_MODELS = 40


def build(directory: Path) -> tuple[object, dict[str, str]]:
    """A migrated SQLite application in `directory` with demo models, an officer of the
    commune of the first demo model, an administrator, and a token for each."""
    sys.path.insert(0, str(ROOT))
    from flask_migrate import upgrade
    from sqlalchemy import select

    from registry import create_app
    from registry.accounts.services import add_grant, create_user
    from registry.accounts.tokens import create_token
    from registry.demo import generate_demo
    from registry.extensions import db
    from registry.models.practices import Practice
    from registry.services.uow import unit_of_work
    from registry.units import load_units
    from registry.vocabularies import load_seed_vocabularies

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'fuzz.sqlite3'}",
        "SECRET_KEY": "fuzz-secret", "REGISTRY_UPLOAD_DIR": str(directory / "uploads"),
        "REGISTRY_ENGINE": "sqlite", "REGISTRY_ELASTICSEARCH_URL": None,
        "REGISTRY_OPENSEARCH_URL": None,
    })
    tokens = {}
    with app.app_context():
        upgrade()
        load_seed_vocabularies()
        load_units()
        db.session.commit()
        with unit_of_work(source="demo"):
            generate_demo(DEMO_MODELS, 1)
        commune = db.session.scalar(select(Practice.commune_code).order_by(Practice.id))
        for role, unit in (("officer", commune), ("admin", "national")):
            user = create_user(f"{role}@fuzz.example.vn", f"Người dùng {role}",
                               "Mật-khẩu-thử-dài-2025")
            add_grant(user, role, unit)
            _, tokens[role] = create_token(user, "fuzz")
        db.session.commit()
    return app, tokens


def serve(directory: Path) -> None:
    from werkzeug.serving import make_server
    app, tokens = build(directory)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(json.dumps({"url": f"http://127.0.0.1:{server.server_port}", "tokens": tokens}),
          flush=True)
    server.serve_forever()


class Server:
    """`with Server(directory) as s:` the served app (s.url, s.tokens), stopped on exit."""

    def __init__(self, directory: Path):
        self.directory = directory

    def __enter__(self):
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, __file__, "serve", str(self.directory)], env=env,
            stdout=subprocess.PIPE, stderr=open(self.directory / "server.log", "w"), text=True)
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=10)
            raise RuntimeError("fuzz server did not start: "
                               + (self.directory / "server.log").read_text()[-2000:])
        started = json.loads(line)
        self.url, self.tokens = started["url"], started["tokens"]
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def run_schemathesis(url: str, token: str | None, max_examples: int, report: Path | None = None,
                     seed: int | None = 1, timeout: float = 600) -> subprocess.CompletedProcess:
    """schemathesis run against the served document as one caller; the completed process
    (returncode 0: no failure)."""
    command = [str(SCHEMATHESIS), "--no-color", "run", f"{url}/api/v1/openapi.json", "--url", url,
               "--checks", ",".join(CHECKS), "--max-examples", str(max_examples),
               "--workers", "2", "--suppress-health-check", "all",
               "--request-timeout", "20", "--generation-database", "none"]
    if seed is not None:
        command += ["--seed", str(seed)]
    if token:
        command += ["--header", f"Authorization: Bearer {token}"]
    if report:
        command += ["--report", "junit", "--report-dir", str(report)]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1"}
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "serve":
        serve(Path(argv[1]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
