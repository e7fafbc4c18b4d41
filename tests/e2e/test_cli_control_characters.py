"""A file name holding terminal escape sequences is shown, not obeyed: `ddq ingest`,
`ddq search` and `ddq status` print its control characters as escapes (a separate process,
real files, SQLite, Milvus Lite, BM25; the FAKE embedder)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

#: Clear the screen, retitle the window, ring the bell, a one-byte CSI, a right-to-left
#: override.
HOSTILE = "pol\x1b[2Jicy\x1b]0;pwned\x07\x9b31m\u202efdp.md"


def ddq(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DDQ_")}
    env.update({"DDQ_EMBEDDER": "fake:hashing-64", "NO_COLOR": "1", "COLUMNS": "300"})
    return subprocess.run([sys.executable, "-m", "ddq.cli", *args, "--home", str(home)],
                          env=env, capture_output=True, text=True, timeout=180)


def test_control_characters_in_file_names_are_printed_as_escapes(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / HOSTILE).write_text("# Policy\n\nThe zqxescapemarker control is reviewed.\n")
    (folder / f"broken{chr(0x1b)}[31m.pdf").write_bytes(b"%PDF-1.4 not a real pdf")
    home = tmp_path / "home"
    runs = [ddq("ingest", str(folder), home=home),
            ddq("search", "zqxescapemarker", home=home),
            ddq("ask", "Is the zqxescapemarker control reviewed?", home=home)]
    assert runs[0].returncode == 1  # the broken PDF failed; the policy was ingested
    assert "1 added" in runs[0].stdout
    for run in runs:
        shown = run.stdout + run.stderr
        assert "Traceback" not in shown
        for raw in ("\x1b", "\x07", "\x9b", "\u202e"):
            assert raw not in shown, (run.args, shown)
    assert "pol\\x1b[2Jicy\\x1b]0;pwned\\x07\\x9b31m\\u202efdp.md" in runs[0].stdout
    assert "broken\\x1b[31m.pdf" in runs[0].stderr
    assert "\\x1b[2J" in runs[1].stdout
