"""``ddq stale`` and ``ddq validity``: answers whose sources changed, evidence that expires.

``ddq.cli`` registers them on its app (:func:`register_stale`), so they get its one-line
error handling; the options are spelled as the other commands spell them.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from ddq.cli_output import console
from ddq.config import Settings, load_settings
from ddq.errors import DDQError, ErrorCode
from ddq.kb import KnowledgeBase
from ddq.trust.dates import parse_date
from ddq.trust.expiry import EvidenceValidity, validities
from ddq.trust.settings import TrustSettings, trust_settings
from ddq.trust.stale import StaleAnswer, stale_answers

if TYPE_CHECKING:
    from ddq.kb_status import Status

HomeOpt = Annotated[Path | None, typer.Option("--home", help="Data directory (DDQ_HOME).")]
WorkspaceOpt = Annotated[
    str | None, typer.Option("--workspace", "-w", help="Workspace (DDQ_WORKSPACE).")
]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="TOML config file.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
TodayOpt = Annotated[
    str | None,
    typer.Option(
        "--today", help="Judge expiry on this date, YYYY-MM-DD (DDQ_TODAY; default: today)."
    ),
]


def _settings(home: Path | None, workspace: str | None, config: Path | None) -> Settings:
    return load_settings(config, home=home, workspace=workspace)


def register_stale(app: typer.Typer) -> None:
    """Add ``ddq stale`` and ``ddq validity`` to ``app``."""
    app.command()(stale)
    app.command()(validity)


def _date(value: str, what: str) -> date:
    found = parse_date(value)
    if found is None:
        raise DDQError(
            ErrorCode.INVALID_INPUT, f"{what}: {value!r} is not a date (write it as YYYY-MM-DD)"
        )
    return found


def _trust(today: str | None, warn_days: int | None = None) -> TrustSettings:
    return trust_settings(
        today=_date(today, "--today") if today else None, expiry_warning_days=warn_days
    )


def _short(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def print_stale(flags: list[StaleAnswer]) -> None:
    for flag in flags:
        when = flag.approved_at.strftime("%Y-%m-%d %H:%M") if flag.approved_at else "?"
        console.print(
            f"[bold]source changed[/bold]  {escape(flag.label())} "
            f"(approved by {escape(flag.approved_by or '?')}, {when})"
        )
        console.print(f"  question: {escape(_short(flag.question, 160))}")
        for change in flag.changes:
            name = change.source_path.rsplit("/", 1)[-1]
            where = f" ({change.location})" if change.location else ""
            console.print(f"  {escape(name)}{escape(where)}: passage {change.kind}")
            console.print(f"    before: {escape(_short(change.before))}")
            if change.after is not None:
                console.print(f"    after:  {escape(_short(change.after))}")


def evidence_to_list(
    found: dict[int, EvidenceValidity], trust: TrustSettings, *, every: bool
) -> list[dict[str, object]]:
    today = trust.current_date()
    return [
        v.to_json(today, trust.expiry_warning_days)
        for v in found.values()
        if every or v.state(today, trust.expiry_warning_days) != "valid"
    ]


def stale(
    home: HomeOpt = None,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
    today: TodayOpt = None,
    warn_days: Annotated[
        int | None,
        typer.Option(
            "--warn-days",
            min=0,
            max=3650,
            help="List evidence expiring within this many days (DDQ_EXPIRY_WARNING_DAYS, 30).",
        ),
    ] = None,
) -> None:
    """Approved answers whose cited passages changed since approval (old and new side by
    side), and evidence that expired, expires soon or has a validity that cannot be read."""
    trust = _trust(today, warn_days)
    with KnowledgeBase(_settings(home, workspace, config)) as kb:
        flags = stale_answers(kb.store.engine, kb.workspace)
        found = validities(kb.store.engine, kb.workspace, trust)
    evidence = evidence_to_list(found, trust, every=False)
    if as_json:
        console.print_json(
            json.dumps(
                {
                    "today": trust.current_date().isoformat(),
                    "warning_days": trust.expiry_warning_days,
                    "source_changed": [f.to_json() for f in flags],
                    "evidence": evidence,
                }
            )
        )
        return
    print_stale(flags)
    day = trust.current_date()
    for item in found.values():
        state = item.state(day, trust.expiry_warning_days)
        if state != "valid":
            console.print(f"[bold]{state:<15}[/bold] {escape(item.describe(day))}")
    if not flags and not evidence:
        console.print(
            f"nothing stale: no approved answer cites a changed passage, and no "
            f"evidence expires within {trust.expiry_warning_days} days of "
            f"{day.isoformat()}"
        )
    else:
        console.print(
            f"{len(flags)} approved answers cite changed passages; "
            f"{sum(e['state'] == 'expired' for e in evidence)} expired, "
            f"{sum(e['state'] == 'expiring' for e in evidence)} expiring within "
            f"{trust.expiry_warning_days} days, "
            f"{sum(e['state'] == 'unreadable' for e in evidence)} unreadable"
        )


def validity(
    document: Annotated[str, typer.Argument(help="The document, as ingested (its path).")],
    until: Annotated[
        str | None, typer.Argument(help="Valid until YYYY-MM-DD; left out: show its validity.")
    ] = None,
    note: Annotated[str, typer.Option(help='Why ("SOC 2 bridge letter").')] = "",
    clear: Annotated[
        bool,
        typer.Option("--clear", help="Forget the date set by hand; its own words count again."),
    ] = False,
    home: HomeOpt = None,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
    today: TodayOpt = None,
) -> None:
    """Show or set how long a document is valid evidence (this version of it)."""
    trust = _trust(today)
    with KnowledgeBase(_settings(home, workspace, config)) as kb:
        info = _document(kb, document)
        if until is not None or clear:
            from ddq.store.trust import TrustStore

            TrustStore(kb.store.engine).set_validity(
                workspace=kb.workspace,
                source_path=info.source_path,
                content_hash=info.content_hash,
                valid_until=None if clear else _date(until or "", "valid until"),
                note="" if clear else note,
                actor="cli",
            )
        found = validities(kb.store.engine, kb.workspace, trust, [info.id]).get(info.id)
    day = trust.current_date()
    if as_json:
        data: dict[str, Any] = (
            found.to_json(day, trust.expiry_warning_days)
            if found
            else {"source_path": info.source_path, "valid_until": None, "state": "none"}
        )
        console.print_json(json.dumps(data))
        return
    console.print(
        escape(found.describe(day))
        if found and (found.valid_until or found.problem)
        else f"{escape(Path(info.source_path).name)}: no validity (never expires)"
    )


def _document(kb: KnowledgeBase, path: str):  # type: ignore[no-untyped-def]
    candidates = {path, str(Path(path).resolve())}
    with kb.store.transaction() as tx:
        for candidate in candidates:
            info = tx.find_document(kb.workspace, candidate)
            if info is not None:
                return info
    raise DDQError(ErrorCode.NOT_FOUND, f"no document {path!r} in workspace {kb.workspace!r}")


def print_status_notes(state: Status) -> None:
    """The lines ``ddq status`` prints after the indexes: what opening the knowledge base
    repaired, and each document whose validity ends (or cannot be read)."""
    lines = [("repaired", r.describe()) for r in state.repairs]
    lines += [("evidence", _evidence_line(e)) for e in getattr(state, "evidence", [])]
    for label, line in lines:
        console.print(f"{label:<17}{escape(line)}")


def _evidence_line(item: dict[str, Any]) -> str:
    name = str(item["source_path"]).rsplit("/", 1)[-1]
    if item.get("problem"):
        return f"{name}: validity not readable ({item['problem']}); treated as none"
    return f"{name}: valid until {item['valid_until']}, {item['state']} ({item['basis']})"
