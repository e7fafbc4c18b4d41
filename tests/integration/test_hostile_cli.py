"""The standing hostile-input suite, command-line half: every hostile file of
:mod:`support.hostile_files` through ``ddq ingest`` (every kind) and ``ddq questions`` (the
questionnaire kinds), each a real ``python -m ddq.cli`` subprocess.

Each case asserts: refused with exit status 1 and one clear line naming the file and saying
why (no traceback); the process's own peak memory (``ru_maxrss`` from ``wait4``) under
:data:`CLI_PEAK_MB`; the acceptance cases (1 GiB DOCX and XLSX bombs, the many-cells XLSX
under the package limits) refused in under :data:`HEADLINE_CPU_S` seconds of CPU; and the
data directory's store unchanged (documents, chunks, questionnaires, audit entries), with a
keyword search for a stored document's unique term finding it the same way afterwards.

Each run is ``ddq.cli.main()`` in its own process, forked from one interpreter that imported
the CLI once (:class:`support.hostile_runs.CliForks`): a real run without paying the
interpreter's start-up 73 times. ``benchmarks/bench_hostile.py`` times the acceptance cases
as plain ``python -m ddq.cli`` runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.hostile_files import CATALOGUE, Hostile
from support.hostile_runs import CliForks, CliRun, cli_env, hostile_files, run_cli, store_counts

#: The most memory one refusing `ddq` process may reach (its whole resident set: the
#: interpreter, DDQ and the parsers it imports come to ~110-150 MB).
CLI_PEAK_MB = 300
#: The acceptance cases are refused within this much CPU time (start-up included).
HEADLINE_CPU_S = 5.0
TERM = "zanzibarlattice"

pytestmark = pytest.mark.integration

INGEST = [pytest.param(h, id=h.case) for h in CATALOGUE]
QUESTIONS = [pytest.param(h, id=h.case) for h in CATALOGUE if h.questionnaire]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("hostile-cli") / "home"
    policy = home.parent / "backup_policy.md"
    policy.write_text(f"# Backup policy\n\nBackups are sealed with the {TERM} key.\n")
    added = run_cli(["ingest", str(policy)], cli_env(home))
    assert added.returncode == 0, added.output
    return home


@pytest.fixture(scope="module")
def cli(home: Path) -> Iterator[CliForks]:
    forks = CliForks(cli_env(home))
    try:
        yield forks
    finally:
        forks.close()


def _search(cli: CliForks) -> list[tuple[str, str, int | None]]:
    found = cli.run(["search", TERM, "--json"])
    assert found.returncode == 0, found.output
    hits = json.loads(found.stdout)["hits"]
    return [(h["source"], h["text"], h["keyword_rank"]) for h in hits]


@pytest.fixture(scope="module")
def baseline(home: Path, cli: CliForks) -> Iterator[dict[str, int]]:
    """The store's counts before any case; after the last, the same search finds the
    stored document the same way (dense and keyword)."""
    before = _search(cli)
    assert before and TERM in before[0][1] and before[0][2] == 1
    yield store_counts(home)
    assert _search(cli) == before


def _refused(run: CliRun, item: Hostile, prefix: str) -> None:
    assert run.returncode == 1, run.output
    assert "Traceback" not in run.output, run.output
    lines = [line for line in run.output.splitlines() if item.filename in line]
    assert len(lines) == 1, run.output
    assert lines[0].startswith(prefix), run.output
    assert re.search(item.says, lines[0], re.IGNORECASE), lines[0]
    assert run.peak_mb < CLI_PEAK_MB, f"{run.peak_mb:.0f} MB"
    if item.headline:
        assert run.cpu_s < HEADLINE_CPU_S, f"{run.cpu_s:.1f} s of CPU"


@pytest.mark.parametrize("item", INGEST)
def test_ddq_ingest_refuses(item: Hostile, cli: CliForks, home: Path, baseline: dict[str, int],
                            tmp_path_factory: pytest.TempPathFactory) -> None:
    run = cli.run(["ingest", str(hostile_files(tmp_path_factory)[item.case])])
    _refused(run, item, "failed")
    assert "0 added, 0 updated, 0 unchanged, 1 failed" in run.output
    assert store_counts(home) == baseline


@pytest.mark.parametrize("item", QUESTIONS)
def test_ddq_questions_refuses(item: Hostile, cli: CliForks, home: Path,
                               baseline: dict[str, int],
                               tmp_path_factory: pytest.TempPathFactory) -> None:
    run = cli.run(["questions", str(hostile_files(tmp_path_factory)[item.case])])
    _refused(run, item, "error:")
    assert store_counts(home) == baseline


def test_a_folder_with_bad_files_reports_each_and_ingests_the_rest(
        cli: CliForks, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    files = hostile_files(tmp_path_factory)
    folder = tmp_path / "mixed"
    folder.mkdir()
    bad = ["xlsx-corrupt-member", "docx-billion-laughs", "pdf-decompression-bomb",
           "xlsx-zip-bomb-1gb", "markdown-60mb"]
    for case in bad:
        target = folder / f"{case}{files[case].suffix}"
        target.symlink_to(files[case])
    (folder / "access.md").write_text("# Access\n\nAccess is reviewed every quarter.\n")
    (folder / "keys.txt").write_text("Keys are rotated every year.\n")
    run = cli.run(["ingest", str(folder)], cli_env(tmp_path / "home"))
    assert run.returncode == 1, run.output
    assert "Traceback" not in run.output
    assert "2 added, 0 updated, 0 unchanged, 5 failed" in run.output
    for case in bad:
        assert sum(1 for line in run.output.splitlines()
                   if line.startswith("failed") and case in line) == 1, run.output
    assert store_counts(tmp_path / "home")["documents"] == 2
