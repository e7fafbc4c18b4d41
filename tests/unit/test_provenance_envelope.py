"""The provenance record's envelope: signed, checked, and never trusted when it is not ours."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from ddq.errors import DDQError
from ddq.trust.provenance import (
    AnswerRecord,
    RecordState,
    SourceRecord,
    key_id,
    load_key,
    new_record,
    open_envelope,
    seal,
)

pytestmark = pytest.mark.unit


def _record() -> object:
    answer = AnswerRecord(
        question_key="GOV-01",
        qid="GOV-01",
        ordinal=0,
        question_sha256="q" * 64,
        places={"answer": "a" * 64},
        refs={"answer": "Sheet!C6"},
        answer_sha256="b" * 64,
        status="answered",
        stance="yes",
        sources=[
            SourceRecord(
                source_path="policy.md",
                location="§1",
                passage_sha256="c" * 64,
                document_sha256="d" * 64,
            )
        ],
        drafted_by="extractive",
        drafted_at="2026-12-08T00:00:00+00:00",
        review_status="approved",
        approved_by="alice",
        approved_at="2026-12-08T01:00:00+00:00",
    )
    return new_record(
        workspace="default",
        questionnaire="vendor.xlsx",
        questionnaire_id=1,
        format="xlsx",
        source_sha256="e" * 64,
        options={},
        answers=[answer],
    )


def test_the_key_is_made_once_owner_only_and_kept(tmp_path: Path) -> None:
    key = load_key(tmp_path / "home")
    path = tmp_path / "home" / "provenance.key"
    assert len(key) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(tmp_path / "home") == key
    path.write_text("not hex\n")
    with pytest.raises(DDQError, match="provenance key is unreadable"):
        load_key(tmp_path / "home")


def test_a_sealed_record_opens_and_any_change_is_tampering() -> None:
    key = b"k" * 32
    text = seal(_record(), key)  # type: ignore[arg-type]
    state, record, _ = open_envelope(text, key)
    assert state == RecordState.VALID and record is not None
    assert record.answers[0].approved_by == "alice"
    envelope = json.loads(text)
    envelope["record"]["answers"][0]["approved_by"] = "mallory"
    state, record, why = open_envelope(json.dumps(envelope), key)
    assert state == RecordState.TAMPERED and record is None and "signature" in why


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        "[]",
        '{"format": "ddq-provenance"}',
        '{"format": "other", "key_id": "x", "signature": "y"}',
    ],
)
def test_malformed_envelopes_are_reported(text: str) -> None:
    state, record, why = open_envelope(text, b"k" * 32)
    assert state == RecordState.MALFORMED and record is None and why


def test_another_installations_record_is_not_trusted() -> None:
    text = seal(_record(), b"a" * 32)  # type: ignore[arg-type]
    state, record, why = open_envelope(text, b"b" * 32)
    assert state == RecordState.FOREIGN and record is None
    assert key_id(b"a" * 32) in why
    assert open_envelope(None, b"b" * 32)[0] == RecordState.MISSING
