"""``ddq check``, ``ddq export`` and ``ddq verify``: one story before export, provenance after.

``ddq.cli`` registers them on its app (:func:`register_check`), so they get its one-line error
handling; the options are spelled as the other commands spell them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from ddq.cli_output import console, display_path, err_console, print_export
from ddq.config import Settings, load_settings
from ddq.errors import DDQError, ErrorCode
from ddq.kb import KnowledgeBase
from ddq.store.questionnaires import QuestionnaireInfo, QuestionnaireStore
from ddq.trust.consistency import CheckReport, check_items, job_items
from ddq.trust.provenance import KEY_FILE, RecordState, load_key
from ddq.trust.record import UNCHANGED, VerifyReport, verify_file

HomeOpt = Annotated[Path | None, typer.Option("--home", help="Data directory (DDQ_HOME).")]
WorkspaceOpt = Annotated[
    str | None, typer.Option("--workspace", "-w", help="Workspace (DDQ_WORKSPACE).")
]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="TOML config file.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
FileArg = Annotated[Path, typer.Argument(help="The questionnaire file that was answered.")]


def _settings(home: Path | None, workspace: str | None, config: Path | None) -> Settings:
    return load_settings(config, home=home, workspace=workspace)


def register_check(app: typer.Typer) -> None:
    """Add ``ddq check``, ``ddq export`` and ``ddq verify`` to ``app``."""
    app.command()(check)
    app.command()(export)
    app.command()(verify)


def _job(kb: KnowledgeBase, file: Path) -> tuple[QuestionnaireStore, QuestionnaireInfo]:
    from ddq.questionnaire.files import file_sha256

    store = QuestionnaireStore(kb.store.engine)
    info = store.latest(kb.workspace, file_sha256(file))
    if info is None:
        raise DDQError(
            ErrorCode.NOT_FOUND,
            f"{file}: not answered in workspace {kb.workspace!r}; run `ddq answer` on it first",
        )
    return store, info


def _check(kb: KnowledgeBase, store: QuestionnaireStore, info: QuestionnaireInfo) -> CheckReport:
    return check_items(job_items(store, info.id), kb.embedder)


# --- ddq check ---------------------------------------------------------------------------


def print_findings(report: CheckReport, *, as_json: bool, to_errors: bool = False) -> None:
    out = err_console if to_errors else console
    if as_json:
        out.print_json(json.dumps(report.to_json()))
        return
    bound = f"each question compared with its {report.thresholds.neighbours} nearest"
    if not report.findings:
        out.print(f"no contradictions in {report.items} answers ({bound})")
        return
    out.print(
        f"[yellow]{len(report.findings)} contradictions[/yellow] in {report.items} answers "
        f"({bound})"
    )
    for finding in report.findings:
        out.print(f"\n[bold]{finding.kind.value}[/bold]  {escape(finding.detail)}")
        for item in (finding.first, finding.second):
            out.print(f"  {escape(item.ref)}: {escape(item.question)}")
            out.print(f"      -> {escape(item.answer[:200])}")
        for passage in finding.passages:
            out.print(f"  passage: {escape(passage.describe())}")


def check(
    file: FileArg,
    home: HomeOpt = None,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Find contradictions between a questionnaire's drafted answers (exit 1 if any).

    Near-duplicate questions with different verdicts, the same fact stated with two values,
    and a Yes whose cited passage another answer cites for a No.
    """
    with KnowledgeBase(_settings(home, workspace, config)) as kb:
        store, info = _job(kb, file)
        report = _check(kb, store, info)
    print_findings(report, as_json=as_json)
    if report.findings:
        raise typer.Exit(1)


# --- ddq export ----------------------------------------------------------------------------


def export(
    file: FileArg,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Where to write the answered copy (default: FILE-answered)."
        ),
    ] = None,
    overwrite_existing: Annotated[
        bool, typer.Option(help="Replace answers the file already has (default: keep them).")
    ] = False,
    require_consistent: Annotated[
        bool,
        typer.Option(
            "--require-consistent",
            help="Refuse to export while `ddq check` finds contradictions between the answers.",
        ),
    ] = False,
    home: HomeOpt = None,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the drafted answers into a copy of the questionnaire, and the review report.

    The copy carries a signed provenance record (for CSV, a FILE.provenance.json beside it)
    that `ddq verify` reads back.
    """
    from ddq.jobs.export import export_answers

    settings = _settings(home, workspace, config)
    with KnowledgeBase(settings) as kb:
        store, info = _job(kb, file)
        if require_consistent:
            report = _check(kb, store, info)
            if report.findings:
                print_findings(report, as_json=False, to_errors=True)
                raise DDQError(
                    ErrorCode.CONFLICT,
                    f"{file}: {len(report.findings)} contradictions between its answers; "
                    "nothing exported (resolve them, or export without --require-consistent)",
                )
        exported = export_answers(
            store,
            info,
            output,
            source=file,
            overwrite_existing=overwrite_existing,
            provenance_key=load_key(settings.home),
        )
        progress = store.progress(info.id)
    print_export(exported, progress.total, as_json=as_json)


# --- ddq verify ----------------------------------------------------------------------------


def verify_json(report: VerifyReport) -> dict[str, Any]:
    record = report.record
    return {
        "file": str(report.path),
        "record": report.record_state,
        "problem": report.problem,
        "exported_at": record.exported_at if record else None,
        "ddq_version": record.ddq_version if record else None,
        "sources_checked": report.sources_checked,
        "answers": [
            {
                "question": a.question,
                "state": a.state,
                "edited_places": a.edited_places,
                "changed_sources": [
                    {"source": c.source_path, "location": c.location, "why": c.why}
                    for c in a.changed_sources
                ],
                "approved_by": a.approved_by,
            }
            for a in report.answers
        ],
    }


def print_verify(report: VerifyReport, *, as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps(verify_json(report)))
        return
    name = escape(display_path(str(report.path)))
    if report.record is None:
        console.print(f"[red]{name}: {escape(report.problem)}[/red]")
        if report.record_state == RecordState.MISSING:
            console.print(
                "  it was not exported by DDQ, or a program that drops custom XML parts saved "
                "it since; hand edits cannot be told apart from what was exported"
            )
        return
    record = report.record
    console.print(
        f"{name}: exported {record.exported_at} by DDQ {record.ddq_version} from "
        f"{escape(record.questionnaire)} ({len(record.answers)} answers, record signature valid)"
    )
    if report.problem:
        console.print(f"[red]{escape(report.problem)}[/red]")
    for answer in report.answers:
        colour = "green" if answer.state == UNCHANGED else "yellow"
        console.print(f"  {escape(answer.question)}  [{colour}]{answer.state}[/{colour}]")
        for ref in answer.edited_places:
            console.print(f"      edited: {escape(ref)}")
        for change in answer.changed_sources:
            console.print(
                f"      source {escape(change.why)}: {escape(change.source_path)} "
                f"({escape(change.location)})"
            )
    counts = {
        state: report.count(state) for state in dict.fromkeys(a.state for a in report.answers)
    }
    console.print(", ".join(f"{n} {state}" for state, n in counts.items()) or "no answers")
    if not report.sources_checked:
        console.print("sources not checked: the knowledge base could not be read")


def verify(
    file: Annotated[Path, typer.Argument(help="An answered file that `ddq export` wrote.")],
    home: HomeOpt = None,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check an exported file against its provenance record (exit 1 unless all unchanged).

    Per answer: unchanged since export, edited by hand after export, or its sources changed
    since (the cited passages compared with the knowledge base now).
    """
    if not file.is_file():
        raise DDQError(ErrorCode.NOT_FOUND, f"{file}: no such file")
    settings = _settings(home, workspace, config)
    if not (settings.home / KEY_FILE).is_file():  # never make a key only to verify with it
        raise DDQError(
            ErrorCode.CONFIG,
            f"{settings.home / KEY_FILE}: this data directory has no provenance key; verify "
            "the file with the DDQ_HOME it was exported from (or restore the key from a backup)",
        )
    with KnowledgeBase(settings) as kb:
        report = verify_file(file, load_key(settings.home), kb.store)
    print_verify(report, as_json=as_json)
    if report.record is None or report.problem or any(a.state != UNCHANGED for a in report.answers):
        raise typer.Exit(1)
