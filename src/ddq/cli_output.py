"""How the CLI shows things to people: progress bars, answers, reports."""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ddq.domain import Answer, SearchHit
from ddq.forms import Extraction
from ddq.ingest.pipeline import IngestReport, Outcome
from ddq.jobs.export import ExportResult
from ddq.jobs.job import JobResult
from ddq.store.questionnaires import JobProgress, QuestionnaireInfo

#: What a terminal would act on instead of showing: C0 controls but tab and newline (ESC
#: above all), DEL, C1 controls (0x9b is a one-byte CSI) and the bidirectional overrides
#: that make a name read differently from what it is.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with every control character shown as its escape (``\x1b``), so a file
    name cannot move the cursor, retitle the window or clear the screen."""
    return _CONTROLS.sub(lambda m: m.group().encode("unicode_escape").decode(), text)


class _PrintableConsole(Console):
    """A console that shows control characters in what it prints instead of sending them
    to the terminal: file names, questions and error details come from files."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        super().print(*(printable(o) if isinstance(o, str) else o for o in objects), **kwargs)


console = _PrintableConsole(highlight=False, soft_wrap=True)
err_console = _PrintableConsole(stderr=True, highlight=False, soft_wrap=True)


def display_path(path: str) -> str:
    """A path relative to the working directory when it lies below it."""
    try:
        return os.path.relpath(path) if Path(path).is_absolute() and not os.path.relpath(
            path).startswith("..") else path
    except ValueError:
        return path


class RichProgress:
    """A progress bar on stderr for long work (hidden when stderr is not a terminal)."""

    def __init__(self, description: str) -> None:
        self._description = description
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def start(self, total: int) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.fields[label]}"),
            console=err_console, transient=True, disable=not err_console.is_terminal,
        )
        self._progress.start()
        self._task = self._progress.add_task(self._description, total=total or None, label="")

    def advance(self, label: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=1, label=Path(label).name[:40])

    def finish(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def print_ingest_report(report: IngestReport, *, as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps({
            "results": [{**asdict(r), "outcome": r.outcome.value} for r in report.results],
            "embedded_texts": report.embedded_texts,
            "cached_texts": report.cached_texts,
            "seconds": round(report.seconds, 3),
            "repairs": [asdict(r) for r in report.repairs],
        }))
        return
    for result in report.results:
        name = escape(display_path(result.source))
        # Loader errors already name the file; do not say it twice.
        detail = result.detail
        for prefix in (result.source, display_path(result.source)):
            detail = detail.removeprefix(f"{prefix}: ")
        if result.outcome is Outcome.FAILED:
            err_console.print(f"[red]failed[/red]   {name}: {escape(detail)}")
        elif result.outcome is Outcome.SKIPPED:
            err_console.print(f"[yellow]skipped[/yellow]  {name}: {escape(detail)}")
        elif result.outcome is Outcome.UNCHANGED:
            console.print(f"unchanged {name}")
        else:
            note = f"; {escape(detail)}" if detail else ""
            console.print(f"{result.outcome.value:<9} {name} ({result.chunks} chunks{note})")
    for repair in report.repairs:
        console.print(f"repaired  {escape(repair.describe())}")
    counts = ", ".join(f"{report.count(o)} {o.value}" for o in Outcome)
    console.print(
        f"{counts}; {report.chunks_written} chunks written; {report.embedded_texts} texts "
        f"embedded, {report.cached_texts} from cache; {report.seconds:.2f} s"
    )


def answer_json(answer: Answer) -> dict[str, Any]:
    return {
        "question": answer.question,
        "status": answer.status.value,
        "answer": answer.text,
        "stance": answer.stance,
        "confidence": answer.confidence,
        "reason": answer.reason,
        "drafted_by": answer.drafted_by,
        "citations": [
            {"chunk_id": c.chunk_id, "source": c.source_path, "location": c.location,
             "quote": c.quote}
            for c in answer.citations
        ],
    }


def print_answer(answer: Answer) -> None:
    console.print(f"[bold]Q:[/bold] {escape(answer.question)}")
    style = "yellow" if answer.status.value == "needs_input" else "green"
    console.print(f"[bold]A:[/bold] [{style}]{escape(answer.text)}[/{style}]")
    console.print(f"   status: {answer.status.value}   confidence: {answer.confidence:.2f}"
                  f"   drafted by: {escape(answer.drafted_by)}")
    console.print(f"   reason: {escape(answer.reason)}")
    for number, citation in enumerate(answer.citations, start=1):
        where = f" ({citation.location})" if citation.location else ""
        console.print(f"   [{number}] {escape(display_path(citation.source_path))}{escape(where)}")
        quote = citation.quote if len(citation.quote) <= 220 else citation.quote[:217] + "..."
        console.print(f"       [dim]“{escape(quote)}”[/dim]")


def hit_json(hit: SearchHit) -> dict[str, Any]:
    return {
        "chunk_id": hit.chunk.id,
        "score": round(hit.score, 6),
        "dense_rank": hit.dense_rank,
        "dense_score": hit.dense_score,
        "keyword_rank": hit.keyword_rank,
        "keyword_score": hit.keyword_score,
        "rerank_score": hit.rerank_score,
        "source": hit.chunk.source_path,
        "location": hit.chunk.location.describe(),
        "kind": hit.chunk.kind.value,
        "text": hit.chunk.answer or hit.chunk.text,
    }


def print_hits(hits: list[SearchHit]) -> None:
    if not hits:
        console.print("no results")
    for rank, hit in enumerate(hits, start=1):
        where = hit.chunk.location.describe()
        console.print(
            f"[bold]{rank:>2}.[/bold] {escape(display_path(hit.chunk.source_path))}"
            f"{escape(f' ({where})' if where else '')}  [dim]score {hit.score:.4f} "
            f"dense#{hit.dense_rank or '-'} bm25#{hit.keyword_rank or '-'}[/dim]"
        )
        text = " ".join((hit.chunk.answer or hit.chunk.text).split())
        console.print(f"    {escape(text[:240])}{'...' if len(text) > 240 else ''}")


class JobProgressBar:
    """Questions done, remaining and rate. A bar on a terminal; otherwise a line now and
    then (logs of a long job in CI or under nohup still show it moving)."""

    def __init__(self, every_seconds: float = 10.0) -> None:
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._total = 0
        self._done = 0
        self._started = 0.0
        self._done_at_start = 0
        self._last_line = 0.0
        self._every = every_seconds

    def start(self, total: int, done: int) -> None:
        import time

        self._total, self._done, self._done_at_start = total, done, done
        self._started = self._last_line = time.monotonic()
        if err_console.is_terminal:
            self._progress = Progress(
                TextColumn("answering"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[remaining]} remaining"),
                TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                console=err_console, transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("answering", total=total, completed=done,
                                                 remaining=total - done, rate="")
        elif done:
            err_console.print(f"resuming: {done}/{total} questions already answered")

    def _rate(self) -> float:
        import time

        elapsed = time.monotonic() - self._started
        return (self._done - self._done_at_start) / elapsed if elapsed > 0 else 0.0

    def advance(self, count: int) -> None:
        import time

        self._done += count
        rate = f"{self._rate():.1f} q/s"
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=count, remaining=self._total - self._done,
                                  rate=rate)
        elif time.monotonic() - self._last_line >= self._every:
            self._last_line = time.monotonic()
            err_console.print(f"answered {self._done}/{self._total} "
                              f"({self._total - self._done} remaining, {rate})")

    def finish(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def extraction_json(extraction: Extraction) -> dict[str, Any]:
    return {
        "path": extraction.path,
        "format": extraction.format.value,
        "count": len(extraction.questions),
        "layout": extraction.layout,
        "warnings": extraction.warnings,
        "sheets": [s.to_json() for s in extraction.sheets],
        "questions": [
            {"key": q.key, "id": q.qid, "section": list(q.section), "question": q.text,
             "location": q.location, "targets": [t.to_json() for t in q.targets]}
            for q in extraction.questions
        ],
    }


def print_extraction(extraction: Extraction, *, as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps(extraction_json(extraction)))
        return
    section: tuple[str, ...] | None = None
    for q in extraction.questions:
        if q.section != section:
            section = q.section
            console.print(f"[bold]{escape(' > '.join(section) or '(no section)')}[/bold]")
        where = ", ".join(
            f"{t.role.value} {t.ref}" + (f" [{'/'.join(t.allowed)}]" if t.allowed else "")
            + (f" (≤ {t.max_chars} characters)" if t.max_chars else "")
            for t in q.targets) or "no answer place"
        console.print(f"  {escape(q.qid or '-'):<10} {escape(q.text)}")
        console.print(f"  {'':<10} [dim]{escape(q.location)} → {escape(where)}[/dim]")
    # A skipped sheet's note is said once, in the per-sheet lines below.
    notes = {f"sheet {s.name!r}:" for s in extraction.sheets if s.skipped}
    for warning in extraction.warnings:
        if not (warning.endswith("skipped") and any(map(warning.startswith, notes))):
            err_console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    for sheet in extraction.sheets:
        count = f"{sheet.questions} question{'' if sheet.questions == 1 else 's'}"
        console.print(f"{escape(sheet.name)}: "
                      + (f"skipped, {escape(sheet.skipped)}" if sheet.skipped else count))
    console.print(f"{len(extraction.questions)} questions found in "
                  f"{escape(display_path(extraction.path))} ({extraction.format.value})")


def print_job_result(result: JobResult, exported: ExportResult | None, *, as_json: bool) -> None:
    p = result.progress
    if as_json:
        data: dict[str, Any] = {
            "questionnaire_id": result.questionnaire.id, "name": result.questionnaire.name,
            "questions": p.total, "answered": p.done, "answered_now": result.answered_now,
            "resumed": result.resumed, "by_status": p.by_status,
            "drafted_by": result.drafters,
            "seconds": round(result.seconds, 3),
        }
        if exported is not None:
            data["export"] = export_json(exported)
        console.print_json(json.dumps(data))
        return
    rate = result.answered_now / result.seconds if result.seconds > 0 else 0.0
    statuses = ", ".join(f"{p.by_status.get(s, 0)} {label}" for s, label in (
        ("answered", "answered from documents"), ("library_match", "library matches"),
        ("needs_input", "need input")))
    console.print(f"{p.done}/{p.total} questions drafted: {statuses}")
    console.print(f"{result.answered_now} answered by this run in {result.seconds:.1f} s "
                  f"({rate:.1f} questions/s)")
    if set(result.drafters) - {"extractive", "library"}:
        who = ", ".join(f"{escape(k)} {v}" for k, v in sorted(result.drafters.items()))
        console.print(f"drafted by: {who}", emoji=False)
    if exported is not None:
        print_export(exported, p.total, as_json=False)
    else:
        console.print(f"write them into a copy of the file with: ddq export "
                      f"{escape(display_path(result.questionnaire.source_path))}")


def export_json(exported: ExportResult) -> dict[str, Any]:
    return {"answered_file": str(exported.path), "html_report": str(exported.html_report),
            "csv_report": str(exported.csv_report), "cells_written": exported.written,
            "kept_existing": exported.kept_existing, "needs_input": exported.needs_input,
            "not_answered": exported.not_answered}


def print_export(exported: ExportResult, total: int, *, as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps(export_json(exported)))
        return
    console.print(f"answered file  {escape(display_path(str(exported.path)))} "
                  f"({exported.written} answer places written)")
    console.print(f"review report  {escape(display_path(str(exported.html_report)))}")
    console.print(f"               {escape(display_path(str(exported.csv_report)))}")
    if exported.kept_existing:
        console.print(f"[yellow]{exported.kept_existing} answers already in the file were kept"
                      "[/yellow] (--overwrite-existing replaces them)")
    if exported.needs_input:
        console.print(f"[yellow]{exported.needs_input} of {total} questions need input[/yellow]"
                      " from a person (marked in the file and the report)")
    if exported.not_answered:
        console.print(f"[yellow]{exported.not_answered} questions are not answered yet[/yellow]; "
                      "run `ddq answer` again to finish")


def print_questionnaires(rows: list[tuple[QuestionnaireInfo, JobProgress]], *, as_json: bool
                         ) -> None:
    if as_json:
        console.print_json(json.dumps([
            {"id": info.id, "name": info.name, "source": info.source_path,
             "format": info.format, "questions": progress.total, "drafted": progress.done,
             "by_status": progress.by_status, "created_at": info.created_at.isoformat(),
             "finished_at": info.finished_at.isoformat() if info.finished_at else None}
            for info, progress in rows]))
        return
    if not rows:
        console.print("no questionnaires yet; answer one with: ddq answer FILE")
        return
    for info, progress in rows:
        state = "done" if info.finished_at else f"{progress.remaining} to go"
        needs = progress.by_status.get("needs_input", 0)
        console.print(f"{info.id:>4}  {escape(info.name)}  {progress.done}/{progress.total} "
                      f"drafted ({state}), {needs} need input  "
                      f"[dim]{info.created_at:%Y-%m-%d %H:%M}  "
                      f"{escape(display_path(info.source_path))}[/dim]")
