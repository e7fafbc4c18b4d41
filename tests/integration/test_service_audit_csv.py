"""The audit trail as CSV holds what callers typed (questions, names): no cell of it starts
a formula when the file is opened in a spreadsheet, while the JSON trail keeps the text as
it was typed. Real uvicorn and SQLite."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx
import pytest

from ddq.api.app import create_app
from ddq.config import Settings
from ddq.forms import FORMULA_PREFIXES
from ddq.kb import KnowledgeBase
from ddq.store.keys import KeyStore, Role
from support.service import serve

pytestmark = pytest.mark.integration

HOSTILE = ['=HYPERLINK("http://evil.example","audit")', "+1+cmd|' /C calc'!A0",
           "-2+3", "@SUM(A1:A9)", "\t=1+1"]


def test_the_audit_csv_neutralises_formula_looking_values(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64")
    kb = KnowledgeBase(settings)
    admin = KeyStore(kb.store.engine).create(workspace="default", name="admin",
                                             role=Role.ADMIN)[1]
    try:
        with serve(create_app(settings, kb=kb)) as url, httpx.Client(
                base_url=url, timeout=60, headers={"X-API-Key": admin}) as client:
            for question in HOSTILE:
                created = client.post("/api/library", json={"question": question,
                                                            "answer": "Yes."})
                assert created.status_code == 201, created.text
            as_json = client.get("/api/audit").json()
            as_csv = client.get("/api/audit", params={"format": "csv"})
    finally:
        kb.close()
    assert as_csv.status_code == 200
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    subjects = {row["subject"] for row in rows if row["action"] == "library.created"}
    typed = {question.strip() for question in HOSTILE}  # the library trims what it stores
    assert subjects == {"'" + question for question in typed}
    for row in rows:
        for column, value in row.items():
            assert not value.startswith(FORMULA_PREFIXES), (column, value)
    # JSON is not opened by a spreadsheet: the trail keeps what was typed.
    assert {e["subject"] for e in as_json if e["action"] == "library.created"} == typed
