"""What hostile files cost DDQ, and what the safe-open layer costs real files.

**Acceptance table**: the 1 GiB DOCX and XLSX zip bombs and the many-cells XLSX under the
package limits (``tests/support/hostile_files.py``), each through the four paths:
``ddq ingest`` and ``ddq questions`` as plain ``python -m ddq.cli`` subprocesses (start-up
included; peak memory and CPU from ``wait4``), and the knowledge and questionnaire uploads
of a real ``ddq serve`` (seconds from request to answer; the process's peak resident set,
``VmHWM``, over its idle size). Medians of ``--repeats`` runs.

**Counters or a subprocess** (the design choice of ``ddq.safe_open``), measured on a
realistic 1,000-question workbook and a 3,000-paragraph policy document: the streaming
check's time as a share of the parse it guards (the baseline, the same file's extraction
in the same run), against what a parsing subprocess would cost each upload before parsing
anything (a fresh interpreter importing the parsers; the service runs threads, so forking
it is not an option).

    .venv/bin/python benchmarks/bench_hostile.py --repeats 3
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import REPO_ROOT, environment, median, run_benchmark, table, warn_if_busy

sys.path.insert(0, str(REPO_ROOT / "tests"))

from support import hostile_files as hostile
from support.hostile_runs import ServeProcess, cli_env, run_cli

HEADLINE = [h for h in hostile.CATALOGUE if h.headline]
#: The acceptance bound: every headline case on every path.
MAX_S, MAX_MB = 5.0, 300.0


def _cli_rows(files: dict[str, Path], home: Path, repeats: int) -> list[dict[str, Any]]:
    rows = []
    env = cli_env(home)
    for item in HEADLINE:
        for command in ("ingest", "questions"):
            runs = [run_cli([command, str(files[item.case])], env) for _ in range(repeats)]
            assert all(r.returncode == 1 and "Traceback" not in r.output for r in runs)
            rows.append({"path": f"ddq {command}", "file": item.case,
                         "seconds": median([r.wall_s for r in runs]),
                         "cpu_seconds": median([r.cpu_s for r in runs]),
                         "peak_mb": max(r.peak_mb for r in runs), "measure": "process peak"})
    return rows


def _service_rows(files: dict[str, Path], home: Path, repeats: int) -> list[dict[str, Any]]:
    serve = ServeProcess(home)
    rows = []
    try:
        idle = serve.rss_mb()
        for item in HEADLINE:
            for route, field, label in (("/api/documents", "files", "HTTP knowledge"),
                                        ("/api/questionnaires?start=false", "file",
                                         "HTTP questionnaire")):
                seconds = []
                for _ in range(repeats):
                    started = time.monotonic()
                    with files[item.case].open("rb") as handle:
                        response = serve.client.post(route, files=[(field, (
                            item.filename, handle, "application/octet-stream"))])
                    seconds.append(time.monotonic() - started)
                    assert 400 <= response.status_code < 500, response.text
                assert serve.alive()
                rows.append({"path": label, "file": item.case, "seconds": median(seconds),
                             "cpu_seconds": None, "peak_mb": serve.peak_mb() - idle,
                             "measure": "service peak over idle", "status": response.status_code})
    finally:
        serve.close()
    return rows


def _realistic_workbook(path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Questionnaire"
    sheet.append(["ID", "Domain", "Question", "Answer", "Comments", "Owner", "Evidence",
                  "Reviewed"])
    for n in range(1, 1001):
        sheet.append([f"Q-{n}", f"Domain {n % 17}",
                      f"Does the organisation encrypt customer data of system {n} at rest and "
                      "in transit, rotate the keys at least yearly and log every access to "
                      "them?", None, None, f"owner{n % 9}@example.com", None, None])
    book.save(path)
    return path


def _realistic_document(path: Path) -> Path:
    import docx

    document = docx.Document()
    for section in range(100):
        document.add_heading(f"Section {section}: access control", 1)
        for n in range(30):
            document.add_paragraph(
                f"Control {section}.{n}: access to production systems is granted by role, "
                "reviewed every quarter by the system owner and revoked within one day of a "
                "change of role; every grant and removal is logged and kept for a year.")
    document.save(str(path))
    return path


def _choice(folder: Path, repeats: int) -> list[dict[str, Any]]:
    from ddq.errors import DDQError
    from ddq.ingest.loaders import load_file
    from ddq.questionnaire.files import extract
    from ddq.safe_open import _PASSED, check_package

    workbook = _realistic_workbook(folder / "questionnaire.xlsx")
    document = _realistic_document(folder / "policy.docx")
    rows = []
    for path, kind in ((workbook, "XLSX"), (document, "DOCX")):
        scans, parses = [], []
        for _ in range(repeats):
            _PASSED.clear()
            started = time.perf_counter()
            check_package(path, kind)
            scans.append(time.perf_counter() - started)
            _PASSED.clear()
            started = time.perf_counter()
            try:
                if kind == "XLSX":
                    extract(path)
                else:
                    load_file(path, path.read_bytes())
            except DDQError:
                pass
            parses.append(time.perf_counter() - started)
        rows.append({"file": path.name, "bytes": path.stat().st_size,
                     "check_s": median(scans), "parse_s": median(parses),
                     "check_share": median(scans) / median(parses)})
    spawns = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import ddq.ingest.loaders, openpyxl, docx, pypdf,"
                        " ddq.questionnaire.formats.xlsx.reading"], check=True)
        spawns.append(time.perf_counter() - started)
    for row in rows:
        row["subprocess_s"] = median(spawns)
        row["subprocess_share"] = median(spawns) / row["parse_s"]
    return rows


def run(args: argparse.Namespace) -> dict[str, Any]:
    warn_if_busy()
    before = environment()
    with tempfile.TemporaryDirectory(prefix="ddq-bench-hostile-") as temp:
        folder = Path(temp)
        files = {h.case: h.build(_place(folder, h)) for h in HEADLINE}
        rows = _cli_rows(files, folder / "cli-home", args.repeats)
        rows += _service_rows(files, folder / "service-home", args.repeats)
        choice = _choice(folder, args.repeats)
    meets = all(r["seconds"] < MAX_S and r["peak_mb"] < MAX_MB for r in rows)
    return {"environment": before, "load_average_after": environment()["load_average"],
            "repeats": args.repeats, "acceptance": rows, "choice": choice,
            "summary": {"meets_target": meets, "max_s": MAX_S, "max_mb": MAX_MB}}


def _place(folder: Path, item: hostile.Hostile) -> Path:
    place = folder / item.case
    place.mkdir()
    return place / item.filename


def render(result: dict[str, Any]) -> str:
    env = result["environment"]
    lines = [f"{env['cpu']['model']} ({env['cpu_count']} cores; flags "
             f"{' '.join(env['cpu']['flags'])}); load average before "
             f"{env['load_average']}, after {result['load_average_after']}", "",
             "The acceptance cases (median of "
             f"{result['repeats']}; bound {MAX_S:g} s and {MAX_MB:g} MB):",
             table(["path", "file", "seconds", "CPU s", "peak MB", "peak is"],
                   [[r["path"], r["file"], r["seconds"],
                     "-" if r["cpu_seconds"] is None else r["cpu_seconds"], r["peak_mb"],
                     r["measure"]] for r in result["acceptance"]]), "",
             "The safe-open check against the parse it guards, and a parsing subprocess's "
             "start-up:",
             table(["file", "bytes", "check s", "parse s", "check/parse", "subprocess s",
                    "subprocess/parse"],
                   [[r["file"], r["bytes"], r["check_s"], r["parse_s"], r["check_share"],
                     r["subprocess_s"], r["subprocess_share"]] for r in result["choice"]]),
             "", f"meets target: {result['summary']['meets_target']}"]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--strict", action="store_true",
                        help="exit 3 when a case misses the 5 s / 300 MB bound")
    return run_benchmark("hostile", parser.parse_args(), run, render)


if __name__ == "__main__":
    sys.exit(main())
