"""The provenance record an export carries, signed, and what it is checked against later.

For each answer written: the question (its id and key), a hash of each answer place's text
as the reader reads it back right after writing, the draft's text hash, the sources (path,
location, a hash of the cited passage and of its document), who drafted and who approved it
and when, and the DDQ version. The record is canonical JSON signed with HMAC-SHA256 under a
key kept in ``$DDQ_HOME/provenance.key`` (made on first use, owner-only): a record someone
edited, or one signed by another installation, is reported and never trusted.

Where it goes: :mod:`ddq.trust.package` puts it into a custom XML part of an XLSX or DOCX
package; a CSV file gets a sidecar ``<file>.provenance.json``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from ddq import __version__
from ddq.errors import DDQError, ErrorCode

RECORD_VERSION = 1
KEY_FILE = "provenance.key"


def sha256_text(text: str) -> str:
    """The hash of a place's text; whitespace at either end is not an edit."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceRecord(_Model):
    source_path: str
    location: str
    #: sha256 of the cited passage's text in the store at export; None when the store no
    #: longer had it then (the document was re-ingested after drafting).
    passage_sha256: str | None
    document_sha256: str | None


class AnswerRecord(_Model):
    question_key: str
    qid: str | None
    ordinal: int
    question_sha256: str
    #: place role ("answer", "notes") -> sha256 of its text as read back from the written file.
    places: dict[str, str | None]
    #: place role -> its address in the original file (a cell, a paragraph).
    refs: dict[str, str]
    answer_sha256: str
    status: str
    stance: str | None
    sources: list[SourceRecord]
    drafted_by: str
    drafted_at: str
    review_status: str | None
    approved_by: str | None
    approved_at: str | None


class ProvenanceRecord(_Model):
    record_version: int
    ddq_version: str
    exported_at: str
    workspace: str
    questionnaire: str
    questionnaire_id: int
    format: str
    #: sha256 of the original (unanswered) file the job was made from.
    source_sha256: str
    #: The extraction options, so the places can be read back without the database.
    options: dict[str, Any]
    answers: list[AnswerRecord]


def canonical(record: ProvenanceRecord) -> bytes:
    return json.dumps(
        record.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


# --- the key -------------------------------------------------------------------------------


def load_key(home: Path) -> bytes:
    """This installation's signing key, made on first use (32 random bytes, mode 0600)."""
    path = home / KEY_FILE
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32) + "\n")
    try:
        text = path.read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise DDQError(
            ErrorCode.CONFIG,
            f"{path}: the provenance key is unreadable ({exc}); restore it from a "
            "backup (without it, earlier exports cannot be verified)",
        ) from exc
    if len(key) < 16:
        raise DDQError(ErrorCode.CONFIG, f"{path}: the provenance key is too short")
    return key


def key_id(key: bytes) -> str:
    """Names a key without revealing it: the first 16 hex digits of its sha256."""
    return hashlib.sha256(key).hexdigest()[:16]


def sign(record: ProvenanceRecord, key: bytes) -> str:
    return hmac.new(key, canonical(record), hashlib.sha256).hexdigest()


# --- making a record -----------------------------------------------------------------------


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def new_record(
    *,
    workspace: str,
    questionnaire: str,
    questionnaire_id: int,
    format: str,
    source_sha256: str,
    options: Mapping[str, Any],
    answers: Sequence[AnswerRecord],
) -> ProvenanceRecord:
    return ProvenanceRecord(
        record_version=RECORD_VERSION,
        ddq_version=__version__,
        exported_at=now_iso(),
        workspace=workspace,
        questionnaire=questionnaire,
        questionnaire_id=questionnaire_id,
        format=format,
        source_sha256=source_sha256,
        options=dict(options),
        answers=list(answers),
    )


# --- the signed envelope -------------------------------------------------------------------


class Envelope(_Model):
    """What is stored: the record, the signature over its canonical JSON, the key's id."""

    format: str = "ddq-provenance"
    key_id: str
    signature: str
    record: ProvenanceRecord


def seal(record: ProvenanceRecord, key: bytes) -> str:
    """The envelope as JSON text (pretty: an auditor may read it)."""
    envelope = Envelope(key_id=key_id(key), signature=sign(record, key), record=record)
    return json.dumps(envelope.model_dump(mode="json"), indent=1, ensure_ascii=False)


class RecordState:
    VALID = "valid"
    MISSING = "missing"
    MALFORMED = "malformed"
    TAMPERED = "tampered"
    FOREIGN = "signed by another installation"


def open_envelope(text: str | bytes | None, key: bytes) -> tuple[str, ProvenanceRecord | None, str]:
    """(state, record if it can be trusted, a sentence saying why not)."""
    if text is None:
        return RecordState.MISSING, None, "no provenance record"
    try:
        envelope = Envelope.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "record"
        return (
            RecordState.MALFORMED,
            None,
            f"the provenance record is malformed ({where}: {first.get('msg')})",
        )
    if envelope.format != "ddq-provenance":
        return RecordState.MALFORMED, None, "the provenance record is not DDQ's"
    if not hmac.compare_digest(envelope.key_id, key_id(key)):
        return (
            RecordState.FOREIGN,
            None,
            f"the provenance record was signed by another installation (key "
            f"{envelope.key_id}, this one is {key_id(key)}); it cannot be checked here",
        )
    if not hmac.compare_digest(envelope.signature, sign(envelope.record, key)):
        return (
            RecordState.TAMPERED,
            None,
            "the provenance record was changed after export (its signature does not "
            "match); nothing in it is trusted",
        )
    return RecordState.VALID, envelope.record, ""
