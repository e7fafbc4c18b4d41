"""What a service killed mid-request left in the data directory, cleaned on the next start.

* ``.upload-*``: an upload being received (``ddq.api.knowledge.receive``) when the process
  died; it was never ingested. Removed.
* ``.previous-NAME``: the copy of a knowledge file kept while its replacement was ingested.
  If the store holds NAME as it is on disk now, the replacement was committed and the copy
  is removed; otherwise the copy is put back, so the file on disk is the one the store has.
* ``.NAME.*.part`` / ``.NAME.*.tmp``: a file being written beside NAME (an export) and not
  yet renamed over it. Removed.

Only files untouched for ``grace_s`` are considered: a data directory may be shared by
several service processes, and another's upload in flight is not a leftover.
"""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path

from ddq.ingest.pipeline import file_hash
from ddq.store.repository import KnowledgeStore

log = logging.getLogger("ddq.api")

LEFTOVER_GRACE_S = 3600.0
_WRITING = re.compile(r"^\..+\.[A-Za-z0-9_]+\.(?:part|tmp)$")
_FOLDERS = ("uploads", "questionnaires")


def remove_leftovers(home: Path, store: KnowledgeStore, *,
                     grace_s: float = LEFTOVER_GRACE_S) -> list[Path]:
    """Clean the uploads and questionnaires folders; returns what was removed or restored.
    A file that cannot be removed is logged and left (the service starts anyway)."""
    cutoff = time.time() - grace_s
    done: list[Path] = []
    for name in _FOLDERS:
        root = home / name
        if not root.is_dir():
            continue
        for path in sorted(root.rglob(".*")):
            try:
                if not path.is_file() or path.stat().st_mtime > cutoff:
                    continue
                if path.name.startswith(".upload-") or _WRITING.match(path.name):
                    path.unlink()
                elif path.name.startswith(".previous-"):
                    _settle_previous(path, store, root)
                else:
                    continue
            except OSError as exc:
                log.warning("could not clean %s: %s", path.name, exc.strerror or exc)
                continue
            done.append(path)
    if done:
        log.warning("cleaned leftovers of an earlier run", extra={"files": len(done)})
    return done


def _settle_previous(backup: Path, store: KnowledgeStore, root: Path) -> None:
    final = backup.with_name(backup.name.removeprefix(".previous-"))
    if final.is_file() and root.name == "uploads":
        workspace = final.relative_to(root).parts[0]
        stored = store.document_hashes(workspace).get(str(final.resolve()))
        if stored == file_hash(final.read_bytes()):
            backup.unlink()  # the replacement was committed: the copy is not needed
            return
    os.replace(backup, final)  # the store has the previous file (or nothing newer)
