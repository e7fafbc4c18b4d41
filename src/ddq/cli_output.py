"""How the CLI shows things to people: progress bars, answers, reports."""

from __future__ import annotations

import json
import os
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
from ddq.ingest.pipeline import IngestReport, Outcome

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


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
            console.print(f"{result.outcome.value:<9} {name} ({result.chunks} chunks)")
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
    console.print(f"   status: {answer.status.value}   confidence: {answer.confidence:.2f}")
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
