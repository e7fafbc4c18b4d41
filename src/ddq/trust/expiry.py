"""Evidence that expires: a document's validity, and answers whose only support has expired.

A document's validity is, in this order: what a person set for this version of it (CLI,
API), else what its own words say (``trust/dates.py``: a stated valid-until date, a SOC
report's period, a penetration test's date), else none. It is judged on
``TrustSettings.current_date()`` (``DDQ_TODAY`` pins it).

An answer whose every cited passage comes from expired documents is not an answer
(:func:`check_expiry`): the question is drafted again without the expired evidence, and when
nothing else supports it, it is "needs input" with the reason; a question about that very
report (its SOC 2 report, its certificate, its penetration test) gets the dates stated.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

from ddq.domain import Answer, AnswerStatus, RetrievalResult
from ddq.store.schema import DocumentRow
from ddq.store.trust import TrustStore
from ddq.trust.dates import Detected, detect_validity
from ddq.trust.settings import TrustSettings, trust_settings

#: How many of a document's first passages are read for a validity (its cover, its table).
HEAD_CHUNKS = 6
NEEDS_INPUT = "Needs input"
_KIND_NAMES = {
    "soc_report": "SOC report",
    "pentest": "penetration test report",
    "stated": "evidence",
    "manual": "evidence",
}
_STANDARD = re.compile(
    r"\b(?:ISO|IEC|PCI|DSS|AOC|SOC|HIPAA|HITRUST|FedRAMP|TISAX|CSA|STAR|C5|Cyber\s+Essentials|"
    r"\d{4,5})\b",
    re.IGNORECASE,
)
_ABOUT = {
    "soc_report": re.compile(
        r"\bSOC\s*[123]\b|\bservice\s+auditor|\battestation\s+report", re.IGNORECASE
    ),
    "pentest": re.compile(r"\bpen(?:etration)?[\s-]?test", re.IGNORECASE),
}


@dataclass(frozen=True, slots=True)
class EvidenceValidity:
    document_id: int
    source_path: str
    title: str
    valid_until: date | None
    kind: str  # stated / soc_report / pentest / manual; "" for none
    basis: str
    #: "detected", or "set by <actor>"
    origin: str
    problem: str | None = None
    dated: date | None = None

    def expired(self, today: date) -> bool:
        return self.valid_until is not None and self.valid_until < today

    def expires_within(self, today: date, days: int) -> bool:
        return (
            self.valid_until is not None
            and not self.expired(today)
            and (self.valid_until - today).days <= days
        )

    def state(self, today: date, warning_days: int) -> str:
        if self.problem:
            return "unreadable"
        if self.valid_until is None:
            return "none"
        if self.expired(today):
            return "expired"
        return "expiring" if self.expires_within(today, warning_days) else "valid"

    def describe(self, today: date) -> str:
        name = self.source_path.rsplit("/", 1)[-1]
        if self.problem:
            return f"{name}: validity not readable ({self.problem}); treated as none"
        assert self.valid_until is not None
        days = (self.valid_until - today).days
        when = (
            f"expired {-days} days ago"
            if days < 0
            else "expires today"
            if days == 0
            else f"expires in {days} days"
        )
        return (
            f"{name}: valid until {self.valid_until.isoformat()}, {when} "
            f"({self.basis}; {self.origin})"
        )

    def to_json(self, today: date, warning_days: int) -> dict[str, object]:
        return {
            "document_id": self.document_id,
            "source_path": self.source_path,
            "title": self.title,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "kind": self.kind,
            "basis": self.basis,
            "origin": self.origin,
            "problem": self.problem,
            "state": self.state(today, warning_days),
        }


_cache: dict[tuple[int, str, int, int], Detected] = {}
_cache_lock = threading.Lock()


def validities(
    engine: Engine,
    workspace: str,
    settings: TrustSettings,
    document_ids: Sequence[int] | None = None,
) -> dict[int, EvidenceValidity]:
    """The validity of each document of ``workspace`` (or of ``document_ids``) that has one,
    or whose stated one cannot be read; documents without any are left out."""
    store = TrustStore(engine)
    query = select(
        DocumentRow.id, DocumentRow.source_path, DocumentRow.title, DocumentRow.content_hash
    ).where(DocumentRow.workspace == workspace)
    if document_ids is not None:
        wanted = list(dict.fromkeys(document_ids))
        if not wanted:
            return {}
        query = query.where(DocumentRow.id.in_(wanted))
    with sessionmaker(engine)() as session:
        documents = list(session.execute(query.order_by(DocumentRow.source_path)))
    manual = store.manual_validity(workspace)
    months = (settings.soc_report_valid_months, settings.pentest_valid_months)
    unread = [
        doc_id for doc_id, _, _, digest in documents if (doc_id, digest, *months) not in _cache
    ]
    heads = store.first_chunks(workspace, unread, HEAD_CHUNKS) if unread else {}
    out: dict[int, EvidenceValidity] = {}
    for doc_id, source, title, digest in documents:
        hand = manual.get(source)
        if hand is not None and hand.content_hash == digest:
            out[doc_id] = EvidenceValidity(
                doc_id,
                source,
                title,
                hand.valid_until,
                "manual",
                hand.note or "set by hand",
                f"set by {hand.set_by}",
            )
            continue
        key = (doc_id, digest, *months)
        with _cache_lock:
            found = _cache.get(key)
        if found is None:
            found = detect_validity(
                title, heads.get(doc_id, []), soc_months=months[0], pentest_months=months[1]
            )
            with _cache_lock:
                if len(_cache) > 50_000:
                    _cache.clear()
                _cache[key] = found
        if found.valid_until is not None or found.problem:
            out[doc_id] = EvidenceValidity(
                doc_id,
                source,
                title,
                found.valid_until,
                found.kind,
                found.basis,
                "detected",
                found.problem,
                found.dated,
            )
    return out


def _about(question: str, validity: EvidenceValidity) -> bool:
    """Whether ``question`` asks about the expired document itself."""
    pattern = _ABOUT.get(validity.kind)
    if pattern is not None:
        return bool(pattern.search(question))
    # A stated validity (a certificate, an attestation): the question names the standard
    # the title names ("ISO 27001", "PCI DSS"), not merely the company ("Northwind AI").
    marks = {m.group(0).casefold() for m in _STANDARD.finditer(validity.title)}
    return bool(marks & {m.group(0).casefold() for m in _STANDARD.finditer(question)})


def _expired_answer(answer: Answer, expired: list[EvidenceValidity], today: date) -> Answer:
    first = expired[0]
    name = first.source_path.rsplit("/", 1)[-1]
    until = first.valid_until.isoformat() if first.valid_until else "?"
    if _about(answer.question, first):
        what = _KIND_NAMES.get(first.kind, "evidence")
        if first.kind == "soc_report" and (soc := re.search(r"SOC\s*[123]", first.title)):
            what = f"{' '.join(soc.group(0).split())} report"
        if first.kind == "soc_report" and first.dated is not None:
            stated = (
                f"the {what} on file ({name}) covers a period that ended on "
                f"{first.dated.isoformat()} and was current until {until}"
            )
        elif first.kind == "pentest" and first.dated is not None:
            stated = (
                f"the {what} on file ({name}) is dated {first.dated.isoformat()} and "
                f"was current until {until}"
            )
        else:
            stated = f"{first.title} on file ({name}) was valid until {until}"
        text = f"{NEEDS_INPUT}: {stated}; a current one is needed."
        reason = f"expired evidence: {stated} (judged on {today.isoformat()})"
    else:
        text = NEEDS_INPUT
        names = ", ".join(
            f"{v.source_path.rsplit('/', 1)[-1]} (valid until "
            f"{v.valid_until.isoformat() if v.valid_until else '?'}; {v.basis})"
            for v in expired
        )
        reason = (
            f"its only support has expired: {names}, judged on {today.isoformat()}; "
            f"was: {answer.text[:200]}"
        )
    return Answer(
        answer.question,
        AnswerStatus.NEEDS_INPUT,
        text,
        0.0,
        reason,
        [],
        None,
        drafted_by=answer.drafted_by,
    )


def check_expiry(
    engine: Engine,
    workspace: str,
    settings: TrustSettings,
    retrievals: Sequence[RetrievalResult],
    answers: list[Answer],
    redraft: Callable[[list[RetrievalResult]], list[Answer]],
) -> list[Answer]:
    """``answers`` with those whose every citation is expired evidence drafted again without
    it (``redraft``), and "needs input" where nothing else supports them."""
    cited = {c.chunk_id for a in answers if a.status is AnswerStatus.ANSWERED for c in a.citations}
    if not cited:
        return answers
    documents = {h.chunk.id: h.chunk.document_id for r in retrievals for h in r.hits}
    known = validities(engine, workspace, settings, sorted(set(documents.values())))
    today = settings.current_date()
    expired = {d: v for d, v in known.items() if v.expired(today)}
    if not expired:
        return answers
    out = list(answers)
    affected: list[int] = []
    for i, answer in enumerate(answers):
        if answer.status is not AnswerStatus.ANSWERED:
            continue
        # A question about an expired report itself ("Do you have a SOC 2 report?") is for a
        # person, with the dates, whatever else claims the report exists.
        found = dict.fromkeys(h.chunk.document_id for h in retrievals[i].hits)
        about = [expired[d] for d in found if d in expired and _about(answer.question, expired[d])]
        if about:
            out[i] = _expired_answer(answer, about, today)
            continue
        docs = [documents.get(c.chunk_id) for c in answer.citations]
        if docs and all(d is not None and d in expired for d in docs):
            affected.append(i)
    if not affected:
        return out
    again = [
        replace(
            retrievals[i],
            hits=[h for h in retrievals[i].hits if h.chunk.document_id not in expired],
        )
        for i in affected
    ]
    redrafted = redraft(again)
    for i, new in zip(affected, redrafted, strict=True):
        lost = [
            expired[d] for d in dict.fromkeys(documents[c.chunk_id] for c in answers[i].citations)
        ]
        if new.status is AnswerStatus.ANSWERED and new.citations:
            names = ", ".join(v.source_path.rsplit("/", 1)[-1] for v in lost)
            out[i] = replace(new, reason=f"{new.reason}; expired evidence left out: {names}")
        else:
            out[i] = _expired_answer(answers[i], lost, today)
    return out


def status_evidence(engine: Engine, workspace: str) -> list[dict[str, object]]:
    """What ``ddq status`` shows: every document with a validity (or an unreadable one),
    with its state on today's date (``DDQ_TODAY``)."""
    settings = trust_settings()
    today = settings.current_date()
    return [
        v.to_json(today, settings.expiry_warning_days)
        for v in validities(engine, workspace, settings).values()
    ]
