"""The command line: thin commands over the knowledge base. Errors become one clear line."""

from __future__ import annotations

import contextlib
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ddq.cli_check import register_check
from ddq.cli_output import (
    JobProgressBar,
    RichProgress,
    answer_json,
    console,
    err_console,
    hit_json,
    print_answer,
    print_extraction,
    print_hits,
    print_ingest_report,
    print_job_result,
    print_questionnaires,
)
from ddq.cli_stale import print_status_notes, register_stale
from ddq.config import Settings, load_settings
from ddq.errors import DDQError, ErrorCode
from ddq.forms import ExtractOptions
from ddq.ingest.library_loaders import LibraryColumns
from ddq.ingest.pipeline import Outcome
from ddq.kb import KnowledgeBase

app = typer.Typer(
    help="DDQ: answer due-diligence questionnaires from your approved knowledge base.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
eval_app = typer.Typer(help="Measure retrieval and answer quality.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
keys_app = typer.Typer(help="API keys for the service: one workspace and one role each.",
                       no_args_is_help=True)
app.add_typer(keys_app, name="keys")
register_stale(app)
register_check(app)  # check, export (--require-consistent), verify

HomeOpt = Annotated[Path | None, typer.Option("--home", help="Data directory (DDQ_HOME).")]
WorkspaceOpt = Annotated[
    str | None, typer.Option("--workspace", "-w", help="Workspace (DDQ_WORKSPACE).")
]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="TOML config file.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _settings(home: Path | None, workspace: str | None, config: Path | None) -> Settings:
    return load_settings(config, home=home, workspace=workspace)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to ingest.")],
    question_column: Annotated[
        str | None, typer.Option(help="Answer libraries: header of the question column.")
    ] = None,
    answer_column: Annotated[
        str | None, typer.Option(help="Answer libraries: header of the answer column.")
    ] = None,
    home: HomeOpt = None,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest documents and answer libraries; unchanged files are skipped."""
    with KnowledgeBase(_settings(home, workspace, config)) as kb:
        report = kb.ingest_paths(
            paths,
            columns=LibraryColumns(question_column, answer_column),
            progress=RichProgress("ingesting"),
        )
    print_ingest_report(report, as_json=as_json)
    if report.count(Outcome.FAILED):
        raise typer.Exit(1)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question to answer.")],
    home: HomeOpt = None,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Answer one question with citations and a confidence, or say it needs input."""
    with KnowledgeBase(_settings(home, workspace, config)) as kb:
        answer = kb.ask(question)
    if as_json:
        console.print_json(json.dumps(answer_json(answer)))
    else:
        print_answer(answer)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, max=200)] = 8,
    home: HomeOpt = None,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the passages hybrid retrieval finds, with their scores and sources."""
    with KnowledgeBase(_settings(home, workspace, config)) as kb:
        result = kb.retrieve(query, top_k=top_k)
    if as_json:
        console.print_json(json.dumps({"query": query, "hits": [hit_json(h) for h in result.hits]}))
    else:
        print_hits(result.hits)


@app.command()
def remove(
    paths: Annotated[list[str], typer.Argument(help="Documents to delete (as ingested).")],
    home: HomeOpt = None,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Delete documents from the store and from every index."""
    with KnowledgeBase(_settings(home, workspace, config)) as kb:
        for path in paths:
            removed = kb.remove(path)
            console.print(f"removed {path} ({removed} chunks)")


@app.command()
def reindex(
    home: HomeOpt = None,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Rebuild the vector and keyword indexes from the relational store alone."""
    with KnowledgeBase(_settings(home, workspace, config)) as kb:
        counts = kb.reindex(progress=RichProgress("reindexing"))
    console.print(
        f"reindexed {counts['chunks']} chunks ({counts['library_questions']} library questions); "
        f"{counts['embedded']} embedded, {counts['cached']} from cache; "
        f"keyword index {counts['keyword']} chunks"
    )


@app.command("migrate")
def migrate_command(
    home: HomeOpt = None,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Bring the database schema to this version's newest migration (and nothing else: no
    vector index, no model). Run once before new service processes start."""
    from ddq.store.db import HEAD_REVISION, current_revision, migrate, open_engine

    settings = _settings(home, workspace, config)
    engine = open_engine(settings.resolved_database_url, migrate_schema=False)
    try:
        before = current_revision(engine)
        migrate(engine)
        after = current_revision(engine)
    finally:
        engine.dispose()
    if after != HEAD_REVISION:
        raise DDQError(ErrorCode.STORE_ERROR, f"the schema is at {after}, not {HEAD_REVISION}")
    what = "already at" if before == after else f"migrated from {before or 'empty'} to"
    console.print(f"database schema {what} revision {after}")


@app.command()
def status(
    home: HomeOpt = None,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Counts and index health (does not load the model)."""
    with KnowledgeBase(_settings(home, workspace, config)) as kb:
        state = kb.status()
    if as_json:
        data = asdict(state)
        for index, health in zip(data["indexes"], state.indexes, strict=True):
            index["in_sync"] = health.in_sync
        console.print_json(json.dumps(data))
        return
    console.print(f"workspace        {state.workspace}")
    console.print(f"documents        {state.documents}")
    console.print(f"chunks           {state.chunks}")
    console.print(f"library entries  {state.library_entries}")
    console.print(f"cached vectors   {state.cached_embeddings}")
    console.print(f"embedding model  {state.embedding_model}")
    console.print(f"database         {state.database}")
    console.print(f"milvus           {state.milvus}")
    for health in state.indexes:
        mark = "ok" if health.in_sync else f"OUT OF SYNC (store has {health.expected})"
        console.print(f"index            {health.name}: {health.entries} entries, {mark}")
    print_status_notes(state)


@eval_app.command("beir")
def eval_beir(
    directory: Annotated[Path, typer.Argument(help="BEIR folder: corpus.jsonl, queries.jsonl, "
                                                  "qrels/test.tsv")],
    split: Annotated[str, typer.Option(help="qrels split to score.")] = "test",
    limit_docs: Annotated[
        int | None, typer.Option(help="Only the first N documents (quick checks).")
    ] = None,
    home: Annotated[
        Path | None, typer.Option("--home", help="Where to build the index (default: temporary).")
    ] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """nDCG@10, Recall@10/100 and MRR@10 for dense, BM25 and hybrid on a BEIR data set."""
    from ddq.eval.beir import format_table, run_beir

    base = load_settings(config)
    result = run_beir(directory, base_settings=base, split=split, home=home,
                      limit_docs=limit_docs, progress=RichProgress("indexing corpus"))
    if as_json:
        console.print_json(json.dumps(result))
    else:
        console.print(format_table(result))


@eval_app.command("answers")
def eval_answers(
    golden: Annotated[Path, typer.Argument(help="YAML golden set: cases with question and "
                                               "expected_outcome.")],
    home: HomeOpt = None,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Grade answers from the ingested knowledge against expected outcomes."""
    from ddq.eval.answers import format_report, grade, load_golden

    cases = load_golden(golden)
    with KnowledgeBase(_settings(home, workspace, config)) as kb:
        answers = [kb.ask(case.question) for case in cases]
    result = grade(cases, answers)
    if as_json:
        console.print_json(json.dumps(result))
    else:
        console.print(escape(format_report(result)))


SheetOpt = Annotated[str | None, typer.Option("--sheet", help="XLSX: the sheet with the "
                                                             "questions.")]
HeaderRowOpt = Annotated[int | None, typer.Option("--header-row", min=1,
                                                  help="XLSX: the header row (1-based).")]
QColOpt = Annotated[str | None, typer.Option("--question-column",
                                             help="Column letter (XLSX) or header name.")]
IdColOpt = Annotated[str | None, typer.Option("--id-column", help="Column of question ids.")]
AColOpt = Annotated[str | None, typer.Option("--answer-column",
                                             help="Column the answer (or Yes/No) goes in.")]
NColOpt = Annotated[str | None, typer.Option("--notes-column",
                                             help="Column for the supporting text.")]


def _options(sheet: str | None, header_row: int | None, question_column: str | None,
             id_column: str | None, answer_column: str | None, notes_column: str | None
             ) -> ExtractOptions:
    return ExtractOptions(sheet=sheet, header_row=header_row, question_column=question_column,
                          id_column=id_column, answer_column=answer_column,
                          notes_column=notes_column)


@app.command()
def questions(
    file: Annotated[Path, typer.Argument(help="Questionnaire: .xlsx, .docx or .csv.")],
    sheet: SheetOpt = None,
    header_row: HeaderRowOpt = None,
    question_column: QColOpt = None,
    id_column: IdColOpt = None,
    answer_column: AColOpt = None,
    notes_column: NColOpt = None,
    home: HomeOpt = None,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the questions found in a questionnaire file, to check before answering."""
    from ddq.questionnaire.files import extract

    settings = _settings(home, workspace, config)
    extraction = extract(file, _options(sheet, header_row, question_column, id_column,
                                        answer_column, notes_column), settings.package_limits)
    print_extraction(extraction, as_json=as_json)


@app.command()
def answer(
    file: Annotated[Path, typer.Argument(help="Questionnaire: .xlsx, .docx or .csv.")],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Also write the answered copy here (and the review report).")
    ] = None,
    batch_size: Annotated[int | None, typer.Option(
        "--batch-size", min=1, max=1024, help="Questions per batch (DDQ_ANSWER_BATCH_SIZE).")
    ] = None,
    overwrite_existing: Annotated[bool, typer.Option(
        help="Replace answers the file already has (default: keep them).")] = False,
    restart: Annotated[bool, typer.Option(
        help="Discard this file's earlier drafts and answer every question again.")] = False,
    sheet: SheetOpt = None,
    header_row: HeaderRowOpt = None,
    question_column: QColOpt = None,
    id_column: IdColOpt = None,
    answer_column: AColOpt = None,
    notes_column: NColOpt = None,
    home: HomeOpt = None,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Answer every question of a questionnaire as a resumable job.

    Each answer is saved as soon as it is drafted: run the same command again after an
    interruption and it goes on where it stopped.
    """
    from ddq.jobs.export import export_answers
    from ddq.jobs.job import QuestionnaireJob
    from ddq.trust.provenance import load_key

    settings = _settings(home, workspace, config)
    options = _options(sheet, header_row, question_column, id_column, answer_column,
                       notes_column)
    with KnowledgeBase(settings) as kb:
        _ = kb.drafter  # a misconfigured model fails here, before any job is created
        job = QuestionnaireJob(kb, batch_size=batch_size or settings.answer_batch_size)
        info, created = job.open(file, options, restart=restart)
        if not as_json:
            verb = "new job" if created else "resuming job"
            err_console.print(f"{verb} {info.id}: {escape(info.name)}, "
                              f"{info.question_count} questions")
        result = job.run(info, progress=None if as_json else JobProgressBar())
        exported = None
        if output is not None:
            exported = export_answers(job.store, result.questionnaire, output, source=file,
                                      overwrite_existing=overwrite_existing,
                                      provenance_key=load_key(settings.home))
    print_job_result(result, exported, as_json=as_json)


@app.command()
def questionnaires(
    home: HomeOpt = None,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the questionnaires answered in this workspace, with their progress."""
    from ddq.store.questionnaires import QuestionnaireStore

    with KnowledgeBase(_settings(home, workspace, config)) as kb:
        store = QuestionnaireStore(kb.store.engine)
        rows = [(info, store.progress(info.id)) for info in store.all(kb.workspace)
                if info.format != "golden"]
    print_questionnaires(rows, as_json=as_json)


@eval_app.command("questionnaire")
def eval_questionnaire(
    golden: Annotated[list[Path], typer.Argument(
        help="YAML golden sets (cases with question, expected_outcome, expected_evidence) "
             "or answered questionnaires; with several, also their per-type and "
             "calibration tables together.")],
    report: Annotated[Path | None, typer.Option(
        "--report", help="Also write the per-case results here (Markdown).")] = None,
    home: HomeOpt = None,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Answer a golden set as a questionnaire job and score the run: outcome accuracy,
    abstention precision and recall, citation hit rate, the safety gates, and per question
    type and confidence band how many answers were correct."""
    from ddq.eval.questionnaire import (
        combined_json,
        evaluate_questionnaire,
        format_combined,
        format_markdown,
    )

    settings = _settings(home, workspace, config)
    with KnowledgeBase(settings) as kb:
        results = [evaluate_questionnaire(kb, g, batch_size=settings.answer_batch_size)
                   for g in golden]
    text = "\n\n".join(format_markdown(r) for r in results)
    if len(results) > 1:
        text += "\n\n" + format_combined(results)
    if report is not None:
        report.write_text(text, encoding="utf-8")
    if as_json:
        data = results[0].to_json() if len(results) == 1 else combined_json(results)
        console.print_json(json.dumps(data))
    else:
        console.print(escape(text))
    if any(r.gate_failures for r in results):
        raise typer.Exit(1)


@app.command()
def models(
    check: Annotated[bool, typer.Option("--check/--no-check",
                                        help="Call each model once to check it answers.")] = True,
    home: HomeOpt = None,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The configured models (embedder, generator, reranker); checks that each answers."""
    from ddq.models.check import check_models

    settings = _settings(home, workspace, config)
    with KnowledgeBase(settings) as kb:
        results = check_models(kb, call=check)
    if as_json:
        console.print_json(json.dumps([r.to_json() for r in results]))
    else:
        for r in results:
            mark = {True: "[green]ok[/green]", False: "[red]FAILED[/red]",
                    None: "not checked"}[r.ok]
            console.print(f"{r.role:<10} {escape(r.name):<36} {mark}  {escape(r.detail)}",
                          emoji=False)
    if any(r.ok is False for r in results):
        raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    log_format: Annotated[str, typer.Option(
        "--log-format", help="json (one object per line) or text.")] = "json",
    home: HomeOpt = None,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Run the HTTP service (the model interface under /v1)."""
    try:
        import uvicorn

        from ddq.api.app import create_app
    except ImportError as exc:
        raise DDQError(ErrorCode.CONFIG, "the service needs the 'serve' extra: "
                                         "pip install 'ddq[serve]'") from exc
    from ddq import tracing
    from ddq.logs import configure_logging

    settings = _settings(home, workspace, config)
    configure_logging(json_format=log_format == "json")
    tracing.configure_from(settings)
    try:
        uvicorn.run(create_app(settings), host=host, port=port, log_config=None)
    finally:
        tracing.shutdown()  # exports the spans still buffered


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option("--name", help="Who or what the key is for.")],
    role: Annotated[str, typer.Option(
        "--role", help="viewer, editor, approver or admin.")] = "viewer",
    home: HomeOpt = None,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a key for the workspace; the key is printed once and never stored."""
    from ddq.store.keys import KeyStore, Role

    settings = _settings(home, workspace, config)
    parsed = Role.parse(role)
    with KnowledgeBase(settings) as kb:
        info, secret = KeyStore(kb.store.engine).create(
            workspace=settings.workspace, name=name, role=parsed)
    if as_json:
        console.print_json(json.dumps({**info.to_json(), "key": secret}))
        return
    console.print(f"key {info.id} for workspace {escape(info.workspace)} "
                  f"({info.role.label}): {secret}")
    err_console.print("store it now: it is not shown again")


@keys_app.command("list")
def keys_list(
    all_workspaces: Annotated[bool, typer.Option("--all", help="Every workspace.")] = False,
    home: HomeOpt = None,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The keys of the workspace (their prefixes, never the keys)."""
    from ddq.store.keys import KeyStore

    settings = _settings(home, workspace, config)
    with KnowledgeBase(settings) as kb:
        keys = KeyStore(kb.store.engine).list(None if all_workspaces else settings.workspace)
    if as_json:
        console.print_json(json.dumps([k.to_json() for k in keys]))
        return
    for k in keys:
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
        console.print(f"{k.id:>4}  {escape(k.workspace):<16} {k.role.label:<9} "
                      f"{k.prefix}…  {escape(k.name)}  ({state})")


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[int, typer.Argument(help="The key's id (from `ddq keys list`).")],
    home: HomeOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Revoke a key: requests made with it are refused from now on."""
    from ddq.store.keys import KeyStore

    settings = _settings(home, None, config)
    with KnowledgeBase(settings) as kb:
        info = KeyStore(kb.store.engine).revoke(key_id)
    console.print(f"key {info.id} ({escape(info.name)}, {info.prefix}…) is revoked")


@app.command()
def monitor(
    urls: Annotated[list[str], typer.Argument(help="Health URLs to probe, e.g. "
                                                   "http://127.0.0.1:8000/readyz")],
    interval: Annotated[float, typer.Option(help="Seconds between rounds.")] = 15.0,
    timeout: Annotated[float, typer.Option(help="Seconds a probe may take.")] = 2.0,
    metrics_port: Annotated[int | None, typer.Option(
        "--metrics-port", help="Serve the monitor's metrics on this port.")] = None,
    count: Annotated[int | None, typer.Option(help="Stop after this many rounds.")] = None,
) -> None:
    """Probe health endpoints: log changes of state (JSON lines), keep uptime, serve metrics."""
    import threading

    from prometheus_client import start_http_server

    from ddq.monitor import Monitor

    watcher = Monitor(urls, timeout_s=timeout)
    if metrics_port is not None:
        start_http_server(metrics_port, addr="127.0.0.1", registry=watcher.registry)
    stop = threading.Event()
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends it with the summary
        watcher.run(interval, stop, count=count)
    err_console.print_json(json.dumps(watcher.summary()))


def main() -> None:
    try:
        app()
    except DDQError as exc:
        err_console.print(f"[red]error:[/red] {escape(exc.detail)}")
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
