"""The data directory turned read-only under a running service (a volume remounted read-only,
a full disk): uploads are refused with a JSON answer, never a 500; ``ddq ingest`` says what
failed in one line each, with no traceback and no uncaught Milvus error; nothing half-stored
is left, and once the directory is writable again the next ``ddq ingest`` stores everything
and the store, Milvus and the keyword index agree.

File permissions do not bind root, so when the tests run as root the driver (written by the
test, run as its own process) drops to the ``nobody`` user first. Real uvicorn, SQLite, Milvus
Lite and BM25; the FAKE embedder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

TESTS = Path(__file__).resolve().parents[1]
NOBODY = 65534

#: The service part, as its own process: uploads while the data directory is writable,
#: makes it read-only, uploads again; prints what it saw as JSON.
DRIVER = textwrap.dedent('''
    import json, subprocess, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    import httpx
    from ddq.api.app import create_app
    from ddq.config import Settings
    from ddq.kb import KnowledgeBase
    from ddq.store.keys import KeyStore, Role
    from support.service import serve

    home = Path(sys.argv[1]) / "home"

    def upload(client, name, text):
        answer = client.post("/api/documents", files=[("files", (name, text.encode(),
                                                                 "text/markdown"))])
        return {"status": answer.status_code, "type": answer.headers.get("content-type"),
                "body": answer.text}

    seen = {}
    settings = Settings(home=home, embedder="fake:hashing-64")
    kb = KnowledgeBase(settings)
    key = KeyStore(kb.store.engine).create(workspace="default", name="me",
                                           role=Role.EDITOR)[1]
    with serve(create_app(settings, kb=kb)) as url, httpx.Client(
            base_url=url, timeout=60, headers={"X-API-Key": key}) as client:
        seen["writable_upload"] = upload(client, "first.md", "# First\\n\\nzqxfirst holds.\\n")
        subprocess.run(["chmod", "-R", "a-w", str(home)], check=True)
        seen["read_only_upload"] = upload(client, "second.md",
                                          "# Second\\n\\nzqxsecond holds.\\n")
        seen["read_only_live"] = client.get("/livez").status_code
    kb.close()
    print(json.dumps(seen))
''')


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder the ``nobody`` user may read and write (pytest's own is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="ddq-readonly-"))
    folder.chmod(0o777)
    try:
        yield folder
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(folder)], check=False)
        shutil.rmtree(folder, ignore_errors=True)


def test_a_data_directory_turned_read_only_is_refused_cleanly_and_recovers(
        shared_folder: Path) -> None:
    docs = shared_folder / "docs"
    docs.mkdir()
    (docs / "policy.md").write_text("# Policy\n\nzqxpolicy: data is encrypted at rest.\n")
    driver = shared_folder / "driver.py"
    driver.write_text(DRIVER)
    for path in [shared_folder, *shared_folder.rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o666)
    as_nobody = os.geteuid() == 0
    if as_nobody:
        (shared_folder / "home").mkdir(mode=0o777)
        os.chown(shared_folder / "home", NOBODY, NOBODY)

    launcher: list[str] = []
    if as_nobody:
        setpriv = shutil.which("setpriv")
        assert setpriv, "running as root needs setpriv (util-linux) to drop to nobody"
        launcher = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DDQ_")}
    env.update({"HOME": str(shared_folder), "DDQ_EMBEDDER": "fake:hashing-64",
                "NO_COLOR": "1", "COLUMNS": "200"})  # nobody's own home is not writable
    home = shared_folder / "home"

    def run(*args: str) -> dict[str, Any]:
        done = subprocess.run([*launcher, sys.executable, *args], capture_output=True,
                              text=True, timeout=300, env=env, cwd=shared_folder)
        return {"rc": done.returncode, "out": done.stdout, "err": done.stderr}

    def ddq(*args: str) -> dict[str, Any]:
        return run("-m", "ddq.cli", *args, "--home", str(home))

    seen: dict[str, Any] = {"first_ingest": ddq("ingest", str(docs))}
    served = run(str(driver), str(shared_folder), str(TESTS))
    assert served["rc"] == 0, str(served["err"])[-3000:]
    seen.update(json.loads(str(served["out"]).strip().splitlines()[-1]))
    (docs / "later.md").write_text("# Later\n\nzqxlater holds.\n")
    seen["read_only_ingest"] = ddq("ingest", str(docs))
    subprocess.run(["chmod", "-R", "u+w", str(home)], check=True)
    seen["writable_again_ingest"] = ddq("ingest", str(docs))
    seen["status"] = ddq("status")
    print(json.dumps(seen, indent=1)[:6000])

    assert seen["first_ingest"]["rc"] == 0
    assert seen["writable_upload"]["status"] == 200
    refused = seen["read_only_upload"]
    assert refused["type"] == "application/json", refused
    assert refused["status"] == 503 or 400 <= refused["status"] < 500, refused
    body = json.loads(refused["body"])
    assert set(body) == {"error_code", "detail"} and "/tmp" not in body["detail"], body
    assert seen["read_only_live"] == 200  # the service is still there

    read_only = seen["read_only_ingest"]  # one clear line, no traceback
    assert read_only["rc"] == 1, read_only
    assert read_only["err"].startswith("error: ") and read_only["err"].count("\n") == 1, \
        read_only
    assert "Traceback" not in read_only["out"] + read_only["err"]

    again = seen["writable_again_ingest"]
    assert again["rc"] == 0, again
    assert "later.md" in again["out"] and "Traceback" not in again["err"]
    status = seen["status"]["out"]
    assert "OUT OF SYNC" not in status, status
    assert "bm25:default: 3 entries, ok" in status, status  # policy, first, later
