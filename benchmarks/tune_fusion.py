"""Tune rank fusion on SciFact's *train* queries, then report the choice on *test*.

Dense and BM25 rankings are computed once per split from an index built by
``ddq eval beir ../shared/data/scifact --home DIR``; every fusion variant is then scored on
the same rankings, so the sweep costs seconds. Choosing on train and reporting on test keeps
the test figure honest.

    .venv/bin/python benchmarks/tune_fusion.py --home /tmp/scifact-home
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from _common import DEFAULT_DATA_DIR, BenchmarkError, read_jsonl, write_result
from ddq.config import load_settings
from ddq.eval.beir import SOURCE_PREFIX, load_qrels
from ddq.eval.metrics import summarise
from ddq.kb import KnowledgeBase
from ddq.retrieve.fusion import reciprocal_rank_fusion

RRF_KS = (5, 10, 20, 40, 60, 100)
DENSE_WEIGHTS = (0.6, 0.8, 1.0, 1.2, 1.5)


def doc_runs(rankings: list[list[int]], qids: list[str], chunk_docs: dict[int, str]
             ) -> dict[str, list[str]]:
    runs: dict[str, list[str]] = {}
    for qid, ranking in zip(qids, rankings, strict=True):
        runs[qid] = list(dict.fromkeys(chunk_docs[c] for c in ranking if c in chunk_docs))[:100]
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True,
                        help="data directory of an index built by `ddq eval beir --home`")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args(argv)
    scifact = args.data / "scifact"
    if not (scifact / "qrels" / "train.tsv").is_file():
        raise BenchmarkError(f"{scifact}/qrels/train.tsv not found (pass --data)")
    queries = {str(q["_id"]): str(q["text"]) for q in read_jsonl(scifact / "queries.jsonl")}
    settings = load_settings(home=args.home, workspace="eval")
    with KnowledgeBase(settings) as kb:
        if kb.store.counts("eval").chunks == 0:
            raise BenchmarkError(f"no SciFact index in {args.home}: run `ddq eval beir "
                                 f"{scifact} --home {args.home}` first")
        chunk_docs = {c.id: c.source_path.removeprefix(SOURCE_PREFIX)
                      for batch in kb.store.iter_chunks("eval") for c in batch}
        splits = {}
        for split in ("train", "test"):
            qrels = load_qrels(scifact / "qrels" / f"{split}.tsv")
            qids = [q for q in qrels if q in queries]
            dense, keyword, _ = kb.retriever.rankings([queries[q] for q in qids], limit=300)
            splits[split] = (qrels, qids, dense, keyword)

    def score(split: str, k: int, dense_weight: float) -> float:
        qrels, qids, dense, keyword = splits[split]
        fused = [[i for i, _ in reciprocal_rank_fusion([d, kw], k=k, weights=[dense_weight, 1.0])]
                 for d, kw in zip(dense, keyword, strict=True)]
        return summarise(doc_runs(fused, qids, chunk_docs), qrels)["ndcg@10"]

    rows = []
    for k in RRF_KS:
        for weight in DENSE_WEIGHTS:
            rows.append({"rrf_k": k, "dense_weight": weight, "train_ndcg@10": score("train", k,
                                                                                    weight)})
    best = max(rows, key=lambda r: r["train_ndcg@10"])
    default = next(r for r in rows if r["rrf_k"] == 60 and r["dense_weight"] == 1.0)
    for row in (best, default):
        row["test_ndcg@10"] = score("test", row["rrf_k"], row["dense_weight"])
    print(f"{'rrf_k':>6} {'w_dense':>8} {'train nDCG@10':>14}")
    for row in sorted(rows, key=lambda r: -r["train_ndcg@10"])[:10]:
        print(f"{row['rrf_k']:>6} {row['dense_weight']:>8.1f} {row['train_ndcg@10']:>14.4f}")
    print(f"\nchosen on train: k={best['rrf_k']}, dense weight={best['dense_weight']}: "
          f"train {best['train_ndcg@10']:.4f}, test {best['test_ndcg@10']:.4f}")
    print(f"default (k=60, 1.0): train {default['train_ndcg@10']:.4f}, "
          f"test {default['test_ndcg@10']:.4f}")
    write_result("tune_fusion", {"grid": rows, "chosen": best, "default": default})
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
