"""Schemathesis against the service's own OpenAPI schema: generated requests to every
operation (with a real key, a real knowledge base and a drafted questionnaire, so ids exist)
never get a server error, and every response matches the documented schema."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ddq.api.app import create_app
from ddq.config import Settings
from ddq.kb import KnowledgeBase
from ddq.store.keys import KeyStore, Role
from support.service import serve

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def test_no_server_error_and_no_response_outside_the_schema(tmp_path: Path) -> None:
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    if st is None:
        pytest.fail("schemathesis is not installed (it is in the 'dev' extra)")
    settings = Settings(home=tmp_path / "home", embedder="fake:hashing-64")
    kb = KnowledgeBase(settings)
    kb.ingest_paths([REPO / "examples" / "knowledge"])
    _, key = KeyStore(kb.store.engine).create(workspace="default", name="fuzz", role=Role.ADMIN)
    sample = REPO / "examples" / "questionnaires" / "harborline_vendor_security.xlsx"
    try:
        with serve(create_app(settings, kb=kb)) as url:
            client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"},
                                  timeout=60)
            created = client.post("/api/questionnaires",
                                  files={"file": (sample.name, sample.read_bytes())}).json()
            deadline = time.monotonic() + 60
            while client.get(f"/api/questionnaires/{created['id']}").json()["state"] != "done":
                assert time.monotonic() < deadline
                time.sleep(0.2)
            run = subprocess.run(
                [st, "run", f"{url}/openapi.json", "-H", f"Authorization: Bearer {key}",
                 "--checks", "not_a_server_error,response_schema_conformance",
                 "--max-examples", "10", "--generation-deterministic", "--no-color"],
                capture_output=True, text=True, timeout=600)
    finally:
        kb.close()
    tail = run.stdout[-4000:]
    assert run.returncode == 0, tail
    assert "passed" in tail and "failure" not in tail.split("SUMMARY")[-1].lower(), tail
