"""A bounded load test of the service on loopback: locust, headless, N users for T seconds.

It seeds a fresh data directory (the sample knowledge base, a key, the sample questionnaire
drafted), starts `ddq serve` as its own process with the real local model, runs locust
(`benchmarks/load/locustfile.py`: reviewers listing, reading and reassigning drafts, and
people asking questions), and reports requests/s, p50/p95/p99 and errors per endpoint.

    .venv/bin/python benchmarks/bench_service_load.py [--users 20] [--seconds 60]

locust is not in the default install: `pip install 'ddq[load]'`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from _common import REPO_ROOT, environment, run_benchmark, table


def seed(home: Path, env: dict[str, str]) -> str:
    def ddq(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "ddq.cli", *args, "--home", str(home)],
                              env=env, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
        return done.stdout

    ddq("ingest", str(REPO_ROOT / "examples" / "knowledge"))
    key = json.loads(ddq("keys", "create", "--name", "load", "--role", "approver",
                         "--json"))["key"]
    return key


def run(args: argparse.Namespace) -> dict[str, Any]:
    locust = shutil.which("locust", path=str(Path(sys.executable).parent))
    if locust is None:
        raise RuntimeError("locust is not installed: pip install locust")
    with tempfile.TemporaryDirectory(prefix="ddq-load-") as tmp:
        home = Path(tmp) / "home"
        env = {k: v for k, v in os.environ.items() if not k.startswith("DDQ_")}
        env["NO_COLOR"] = "1"
        key = seed(home, env)
        port = 8900 + os.getpid() % 90
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([sys.executable, "-m", "ddq.cli", "serve", "--port",
                                   str(port), "--home", str(home)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"},
                                  timeout=120)
            deadline = time.monotonic() + 60
            while True:
                try:
                    client.get("/api/me")
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("the service did not start") from None
                    time.sleep(0.3)
            sample = REPO_ROOT / "examples" / "questionnaires" / "harborline_vendor_security.xlsx"
            created = client.post("/api/questionnaires",
                                  files={"file": (sample.name, sample.read_bytes())}).json()
            while client.get(f"/api/questionnaires/{created['id']}").json()["state"] != "done":
                time.sleep(0.3)
            client.post("/api/ask", json={"question": "warm up"})
            prefix = Path(tmp) / "stats"
            load_env = {**env, "DDQ_LOAD_KEY": key, "DDQ_LOAD_QUESTIONNAIRE": str(created["id"])}
            started = time.perf_counter()
            subprocess.run([locust, "-f", str(REPO_ROOT / "benchmarks" / "load" / "locustfile.py"),
                            "--headless", "-u", str(args.users), "-r", str(args.spawn_rate),
                            "-t", f"{args.seconds}s", "--host", url, "--csv", str(prefix),
                            "--only-summary", "--exit-code-on-error", "0"],
                           env=load_env, check=True, capture_output=True,
                           timeout=args.seconds + 120)
            wall = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(timeout=60)
        with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    endpoints = []
    for row in rows:
        endpoints.append({
            "name": row["Name"], "method": row["Type"], "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]), "rps": float(row["Requests/s"]),
            "p50_ms": float(row["50%"]), "p95_ms": float(row["95%"]),
            "p99_ms": float(row["99%"]),
        })
    total = next(e for e in endpoints if e["name"] == "Aggregated")
    return {"environment": environment(), "users": args.users, "seconds": args.seconds,
            "wall_s": wall, "endpoints": endpoints,
            "summary": {"requests": total["requests"], "failures": total["failures"],
                        "rps": total["rps"], "meets_target": total["failures"] == 0}}


def render(result: dict[str, Any]) -> str:
    rows = [[e["name"], e["requests"], e["failures"], e["rps"],
             e["p50_ms"], e["p95_ms"], e["p99_ms"]] for e in result["endpoints"]]
    return (f"{result['users']} users, {result['seconds']} s\n"
            + table(["endpoint", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms"],
                    rows))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--spawn-rate", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--output", type=Path)
    parser.add_argument("--strict", action="store_true", help="Exit 3 on any error.")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    return run_benchmark("bench_service_load", parse_args(argv), run, render)


if __name__ == "__main__":
    sys.exit(main())
