"""``ddq eval beir``: index a BEIR data set with the real pipeline and score retrieval.

Documents go through the same loaders-to-Milvus path as any knowledge file (as a title
heading and a body), so the figures describe the product, not a side path.
"""

from __future__ import annotations

import csv
import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ddq.config import Settings
from ddq.domain import Block, LoadedDocument, Location
from ddq.errors import DDQError, ErrorCode
from ddq.eval.metrics import summarise
from ddq.ingest.pipeline import IngestItem, Progress, sha256
from ddq.kb import KnowledgeBase

SOURCE_PREFIX = "beir:"
RANK_DEPTH = 100


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DDQError(ErrorCode.INVALID_INPUT,
                                   f"{path}:{number}: not valid JSON ({exc.msg})") from exc


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if len(row) < 3 or row[0] == "query-id":
                continue
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    return qrels


def corpus_items(path: Path, limit: int | None = None) -> Iterator[IngestItem]:
    for count, record in enumerate(_read_jsonl(path)):
        if limit is not None and count >= limit:
            return
        doc_id = str(record["_id"])
        title = str(record.get("title") or "").strip()
        text = str(record.get("text") or "").strip()
        payload = f"{title}\n{text}".encode()

        def load(title: str = title, text: str = text) -> LoadedDocument:
            heading = (title,) if title else ()
            return LoadedDocument(title=title or "untitled",
                                  blocks=[Block(text or title, Location(heading_path=heading))],
                                  format="beir")

        yield IngestItem(f"{SOURCE_PREFIX}{doc_id}", sha256(payload), len(payload), load)


def _check(directory: Path, split: str) -> tuple[Path, Path, Path]:
    corpus = directory / "corpus.jsonl"
    queries = directory / "queries.jsonl"
    qrels = directory / "qrels" / f"{split}.tsv"
    for needed in (corpus, queries, qrels):
        if not needed.is_file():
            raise DDQError(ErrorCode.NOT_FOUND,
                           f"{needed} is missing: expected a BEIR folder with corpus.jsonl, "
                           f"queries.jsonl and qrels/{split}.tsv")
    return corpus, queries, qrels


def run_beir(directory: Path, *, base_settings: Settings, split: str = "test",
             home: Path | None = None, limit_docs: int | None = None,
             progress: Progress | None = None) -> dict[str, Any]:
    corpus, queries_file, qrels_file = _check(directory, split)
    qrels = load_qrels(qrels_file)
    queries = {str(q["_id"]): str(q["text"]) for q in _read_jsonl(queries_file)
               if str(q["_id"]) in qrels}
    with tempfile.TemporaryDirectory(prefix="ddq-eval-") as scratch:
        root = home or Path(scratch)
        settings = base_settings.model_copy(update={
            "home": root, "database_url": None, "milvus_uri": None, "workspace": "eval",
        })
        with KnowledgeBase(settings) as kb:
            started = time.perf_counter()
            report = kb.ingest_items(corpus_items(corpus, limit_docs), progress=progress)
            ingest_seconds = time.perf_counter() - started
            failed = [r for r in report.results if r.outcome.value == "failed"]
            chunk_docs = {
                chunk.id: chunk.source_path.removeprefix(SOURCE_PREFIX)
                for batch in kb.store.iter_chunks(settings.workspace) for chunk in batch
            }
            query_ids = list(queries)
            started = time.perf_counter()
            dense, keyword, fused = kb.retriever.rankings(
                [queries[q] for q in query_ids], limit=RANK_DEPTH * 3
            )
            search_seconds = time.perf_counter() - started

            def to_docs(rankings: list[list[int]]) -> dict[str, list[str]]:
                runs: dict[str, list[str]] = {}
                for qid, ranking in zip(query_ids, rankings, strict=True):
                    docs = list(dict.fromkeys(chunk_docs[c] for c in ranking if c in chunk_docs))
                    runs[qid] = docs[:RANK_DEPTH]
                return runs

            return {
                "dataset": str(directory),
                "split": split,
                "documents": len(report.results),
                "failed_documents": len(failed),
                "chunks": len(chunk_docs),
                "queries": len(query_ids),
                "embedding_model": settings.embedder,
                "ingest_seconds": round(ingest_seconds, 2),
                "search_seconds": round(search_seconds, 2),
                "dense": summarise(to_docs(dense), qrels),
                "bm25": summarise(to_docs(keyword), qrels),
                "hybrid": summarise(to_docs(fused), qrels),
            }


def format_table(result: dict[str, Any]) -> str:
    lines = [
        f"{result['dataset']} ({result['split']}): {result['documents']} documents -> "
        f"{result['chunks']} chunks, {result['queries']} queries, model "
        f"{result['embedding_model']}",
        f"ingestion {result['ingest_seconds']:.1f} s, retrieval of all queries "
        f"{result['search_seconds']:.1f} s",
        "",
        f"{'method':<8} {'nDCG@10':>8} {'R@10':>8} {'R@100':>8} {'MRR@10':>8}",
    ]
    for method in ("dense", "bm25", "hybrid"):
        m = result[method]
        lines.append(f"{method:<8} {m['ndcg@10']:>8.4f} {m['recall@10']:>8.4f} "
                     f"{m['recall@100']:>8.4f} {m['mrr@10']:>8.4f}")
    return "\n".join(lines)
