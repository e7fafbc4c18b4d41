"""``ddq models``: what is configured for each role, and whether each model answers."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ddq.errors import DDQError
from ddq.kb import KnowledgeBase
from ddq.models.base import EvidenceBlock, Grounding, RerankRequest


@dataclass(frozen=True, slots=True)
class ModelCheck:
    role: str
    name: str
    ok: bool | None  # None: not checked
    detail: str
    latency_s: float | None = None

    def to_json(self) -> dict[str, object]:
        return {"role": self.role, "model": self.name, "ok": self.ok, "detail": self.detail,
                "latency_s": None if self.latency_s is None else round(self.latency_s, 4)}


_QUESTION = "Is customer data encrypted at rest?"
_BLOCK = "All customer data is encrypted at rest with AES-256; keys rotate every year."


def check_models(kb: KnowledgeBase, *, call: bool = True) -> list[ModelCheck]:
    settings = kb.settings
    embedder, chosen = settings.embedder, ""
    if settings.embedder_choice:  # DDQ_EMBEDDER=auto
        embedder, chosen = f"auto: {embedder}", f"auto chose it: {settings.embedder_choice}; "
    results = [_run("embedder", embedder, call, lambda: chosen + _embedder(kb)),
               _run("generator", settings.generator, call, lambda: _generator(kb))]
    if settings.reranker:
        results.append(_run("reranker", settings.reranker, call, lambda: _reranker(kb)))
    else:
        results.append(ModelCheck("reranker", "(none)", None, "not configured (DDQ_RERANKER)"))
    return results


def _run(role: str, name: str, call: bool, probe: Callable[[], str]) -> ModelCheck:
    if not call:
        return ModelCheck(role, name, None, "configured")
    started = time.perf_counter()
    try:
        detail = probe()
    except DDQError as exc:
        return ModelCheck(role, name, False, exc.detail, time.perf_counter() - started)
    seconds = time.perf_counter() - started
    return ModelCheck(role, name, True, f"{detail}; {seconds * 1000:.0f} ms", seconds)


def _embedder(kb: KnowledgeBase) -> str:
    embedder = kb.embedder
    vectors = embedder.embed([_QUESTION, _BLOCK])
    similarity = float(vectors[0] @ vectors[1])
    return (f"{embedder.dimension}-d vectors; a question and its answer score "
            f"{similarity:.2f}")


def _generator(kb: KnowledgeBase) -> str:
    from ddq.answer.grounded import DraftRejected, draft_request, parse_draft

    grounding = Grounding(question=_QUESTION, yes_no=True,
                          blocks=[EvidenceBlock(id="E1", text=_BLOCK, source="check")])
    settings = kb.settings
    request = draft_request(grounding, max_tokens=settings.generator_max_tokens)
    response = kb.generator.generate(request)
    tokens = response.usage.total_tokens
    try:
        output = parse_draft(response, ["E1"])
    except DraftRejected as exc:
        return f"answers ({tokens} tokens), but its draft would be rejected: {exc}"
    verdict = "needs input" if output.needs_input else (output.verdict or "no verdict")
    return f"answers in the draft schema ({verdict}, cites {output.citations}; {tokens} tokens)"


def _reranker(kb: KnowledgeBase) -> str:
    reranker = kb.reranker
    assert reranker is not None
    response = reranker.rerank(RerankRequest(
        query=_QUESTION, documents=["The cafeteria opens at noon.", _BLOCK]))
    best = response.results[0].index if response.results else None
    return f"ranks the answer {'first' if best == 1 else 'not first'}"
