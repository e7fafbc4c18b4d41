"""The one hook between retrieval and the drafter (``KnowledgeBase.draft``).

Before drafting, a library entry whose sources changed since its approval is taken out of
the library matches: it may still be quoted as evidence when retrieval found it, but it is
never reused verbatim until its owner approves it again. After drafting, an answer whose
only support is expired evidence is drafted again without it, or left for a person
(``trust/expiry.py``). The drafter's own logic is untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from ddq.domain import Answer, RetrievalResult
from ddq.errors import DDQError, ErrorCode
from ddq.store.library import library_source
from ddq.trust.expiry import check_expiry
from ddq.trust.settings import TrustSettings, trust_settings
from ddq.trust.stale import flagged_library_items


def without_flagged_library(
    engine: Engine, workspace: str, retrievals: Sequence[RetrievalResult]
) -> list[RetrievalResult]:
    managed = library_source(workspace)
    if not any(m.chunk.source_path == managed for r in retrievals for m in r.library_matches):
        return list(retrievals)
    flagged = flagged_library_items(engine, workspace)
    if not flagged:
        return list(retrievals)
    out = []
    for retrieval in retrievals:
        kept = [
            m
            for m in retrieval.library_matches
            if not (m.chunk.source_path == managed and m.chunk.location.row in flagged)
        ]
        out.append(
            retrieval
            if len(kept) == len(retrieval.library_matches)
            else replace(retrieval, library_matches=kept)
        )
    return out


def draft_checked(
    engine: Engine,
    workspace: str,
    retrievals: Sequence[RetrievalResult],
    answer_many: Callable[[list[RetrievalResult]], list[Answer]],
    settings: TrustSettings | None = None,
) -> list[Answer]:
    """``answer_many(retrievals)``, with flagged library entries as evidence only and
    expired evidence never the only support of an answer."""
    try:
        checked = without_flagged_library(engine, workspace, retrievals)
        answers = answer_many(checked)
        return check_expiry(
            engine, workspace, settings or trust_settings(), checked, answers, answer_many
        )
    except SQLAlchemyError as exc:
        raise DDQError(ErrorCode.STORE_ERROR, f"database error: {exc}") from exc
