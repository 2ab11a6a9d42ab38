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


def build(directory: Path) -> tuple[object, dict]:
    """A migrated SQLite application in `directory` with demo models, a few nominations, an
    officer of the commune of the first demo model and an administrator; returns the app and
    {"tokens": role → token, "practices": ids, "nominations": ids}."""
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
    from registry.services.workflow import nominate
    from registry.units import load_units
    from registry.vocabularies import load_seed_vocabularies

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'fuzz.sqlite3'}",
        "SECRET_KEY": "fuzz-secret", "REGISTRY_UPLOAD_DIR": str(directory / "uploads"),
        "REGISTRY_ENGINE": "sqlite", "REGISTRY_ELASTICSEARCH_URL": None,
        "REGISTRY_OPENSEARCH_URL": None,
    })
    tokens, users = {}, {}
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
            users[role] = user
            _, tokens[role] = create_token(user, "fuzz")
        db.session.commit()
        practices = list(db.session.scalars(select(Practice.id).order_by(Practice.id)))
        # Nominations to act on: registered models with results reports, put forward.
        nominations = []
        candidates = db.session.scalars(select(Practice).where(
            Practice.status == "registered").order_by(Practice.id)).all()
        for practice in [p for p in candidates if p.outcomes][:3]:
            with unit_of_work(users["admin"], "api"):
                nomination = nominate(users["admin"], practice.id, level="province",
                                      reason="Điển hình để thử.",
                                      periods=[practice.outcomes[0].period], source="api")
            nominations.append(nomination.id)
    return app, {"tokens": tokens, "practices": practices, "nominations": nominations}


def serve(directory: Path) -> None:
    from werkzeug.serving import make_server
    app, data = build(directory)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    (directory / "schemathesis.toml").write_text(config(data))
    print(json.dumps({"url": f"http://127.0.0.1:{server.server_port}", **data}), flush=True)
    server.serve_forever()


def config(data: dict) -> str:
    """schemathesis.toml: path (and body) ids drawn mostly from the models and nominations
    that exist, so the operations on one model get past their 404."""
    def values(ids):
        return "[" + ", ".join(str(i) for i in ids) + "]"
    lines = [f"[dictionaries.practices]\nvalues = {values(data['practices'])}\n"]
    bindings = ['"path.practice_id" = { dictionary = "practices", probability = 0.8 }',
                '"body.practice_id" = { dictionary = "practices", probability = 0.8 }']
    if data["nominations"]:
        lines.append(f"[dictionaries.nominations]\nvalues = {values(data['nominations'])}\n")
        bindings.append('"path.nomination_id" = { dictionary = "nominations", '
                        'probability = 0.8 }')
    return "\n".join(lines) + "\n[parameters]\n" + "\n".join(bindings) + "\n"


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
        self.config = self.directory / "schemathesis.toml"
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def run_schemathesis(server: Server, role: str, max_examples: int, report: Path | None = None,
                     seed: int | None = 1, timeout: float = 600) -> subprocess.CompletedProcess:
    """schemathesis run against the served document as one caller (ROLES); the completed
    process (returncode 0: no failure). One worker: hypothesis is not thread-safe."""
    url, token = server.url, server.tokens.get(role)
    command = [str(SCHEMATHESIS), "--no-color", "--config-file", str(server.config), "run", f"{url}/api/v1/openapi.json", "--url", url,
               "--checks", ",".join(CHECKS), "--max-examples", str(max_examples),
               "--workers", "1", "--suppress-health-check", "all",
               "--request-timeout", "20", "--generation-database", "none"]
    if seed is not None:
        command += ["--seed", str(seed)]
    if token:
        command += ["--header", f"Authorization: Bearer {token}"]
    if report:
        command += ["--report", "junit,html", "--report-dir", str(report)]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1"}
    # Run in the server's throwaway directory: schemathesis keeps its cache (.schemathesis/)
    # in the working directory.
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=server.directory)


def fuzz(report: Path, max_examples: int, seed: int | None, roles=ROLES) -> int:
    """The longer run (scripts/fuzz): each role on its own fresh database, its output and
    JUnit and HTML reports under report/<role>/; returns how many roles failed."""
    import tempfile
    failed = 0
    for role in roles:
        out = report / role
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="registry-fuzz-") as directory, \
                Server(Path(directory)) as server:
            started = time.monotonic()
            result = run_schemathesis(server, role, max_examples, report=out, seed=seed,
                                      timeout=6 * 3600)
            (out / "schemathesis.txt").write_text(result.stdout + result.stderr)
            (out / "server.log").write_text((Path(directory) / "server.log").read_text())
        verdict = "ok" if result.returncode == 0 else f"FAILED (exit {result.returncode})"
        failed += result.returncode != 0
        summary = [line for line in result.stdout.splitlines() if "generated" in line]
        print(f"fuzz: {role}: {verdict} in {time.monotonic() - started:.0f} s; "
              f"{summary[-1].strip() if summary else ''}; {out}/schemathesis.txt", flush=True)
    return failed


def main(argv: list[str]) -> int:
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve_command = commands.add_parser("serve", help="serve a throwaway database")
    serve_command.add_argument("directory", type=Path)
    fuzz_command = commands.add_parser("fuzz", help="schemathesis as every role, with reports")
    fuzz_command.add_argument("--examples", type=int, default=200)
    fuzz_command.add_argument("--seed", type=int, default=None, help="default: random")
    fuzz_command.add_argument("--report", type=Path, default=ROOT / "fuzz-report")
    fuzz_command.add_argument("--role", action="append", choices=ROLES)
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.directory)
        return 0
    return 1 if fuzz(args.report, args.examples, args.seed, args.role or ROLES) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
