"""BM25 keyword index (bm25s, English stemming and stop words), one per workspace.

Derived from the store and rebuilt from it after every change; saved beside the other
state so a new process loads it instead of re-tokenising the corpus.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("ddq.index")

_STOPWORDS = "en"
#: bm25s's own word pattern (scikit-learn's): what :meth:`BM25KeywordIndex.stem_terms` splits
#: on must be what the index was built with.
_WORD = re.compile(r"(?u)\b\w\w+\b")


def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True, slots=True)
class KeywordHit:
    id: int
    score: float


class BM25KeywordIndex:
    """An in-memory BM25 index over chunk texts, persisted to a directory."""

    def __init__(self, directory: Path) -> None:
        # Import bm25s (and scipy.sparse under it) here, on the caller's thread: searches run
        # on a worker thread while Milvus Lite's in-process server thread may import
        # scipy.sparse too, and two threads importing one module see it half-initialised.
        import bm25s  # noqa: F401

        self.directory = directory
        self._retriever: Any = None
        self._ids: np.ndarray = np.zeros(0, dtype=np.int64)
        self._stem = _stemmer()
        from bm25s.stopwords import STOPWORDS_EN

        self._stopwords = frozenset(STOPWORDS_EN)
        self._loaded = False
        self._df_cache: np.ndarray | None = None  # document frequencies, derived on first use
        self._rebuilding = threading.Lock()

    @property
    def size(self) -> int:
        self._load()
        return len(self._ids)

    @property
    def state(self) -> tuple[int, int]:
        """(chunks indexed, the highest chunk id): compared with the store's
        :meth:`~ddq.store.repository.KnowledgeStore.chunk_state` to tell whether this index
        holds the store's chunks."""
        self._load()
        return len(self._ids), int(self._ids.max()) if len(self._ids) else 0

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        self._retriever, self._ids = self._read()

    def _read(self) -> tuple[Any, np.ndarray]:
        """The saved index, or an empty one when there is none or it cannot be read."""
        empty = (None, np.zeros(0, dtype=np.int64))
        ids_file = self.directory / "ids.json"
        if not ids_file.is_file():
            return empty
        import bm25s

        try:
            retriever = bm25s.BM25.load(str(self.directory / "bm25"), mmap=False)
            ids = np.asarray(json.loads(ids_file.read_text()), dtype=np.int64)
        except (OSError, ValueError, KeyError) as exc:
            # A damaged index is an empty one: the repair check rebuilds it from the store.
            log.warning("keyword index at %s cannot be read (%s); treating it as empty",
                        self.directory.name, type(exc).__name__)
            return empty
        return retriever, ids

    def reload(self) -> None:
        """Read the saved index again (another process may have saved a newer one); a
        search meanwhile sees the old one or the new one, never none."""
        retriever, ids = self._read()
        self._df_cache = None
        self._retriever, self._ids, self._loaded = retriever, ids, True

    def tokenize(self, texts: Sequence[str]) -> Any:
        import bm25s

        return bm25s.tokenize(list(texts), stopwords=_STOPWORDS, stemmer=self._stem,
                              show_progress=False)

    def rebuild(self, items: Iterable[tuple[int, str]]) -> int:
        """Replace the index with ``(chunk id, text)`` pairs; returns the number indexed."""
        with self._rebuilding:
            return self._rebuild(list(items))

    def _rebuild(self, pairs: list[tuple[int, str]]) -> int:
        import bm25s

        self._df_cache = None  # the frequencies of the index being replaced are stale
        # Names of this process's own: another process rebuilding the same index must not
        # write into the same staging folder.
        staging = self.directory.with_name(f"{self.directory.name}.staging-{os.getpid()}")
        self._remove_leftovers()
        shutil.rmtree(staging, ignore_errors=True)
        if not pairs:
            shutil.rmtree(self.directory, ignore_errors=True)
            self._retriever, self._ids, self._loaded = None, np.zeros(0, dtype=np.int64), True
            return 0
        retriever = bm25s.BM25()
        retriever.index(self.tokenize([text for _, text in pairs]), show_progress=False)
        staging.mkdir(parents=True)
        retriever.save(str(staging / "bm25"))
        (staging / "ids.json").write_text(json.dumps([i for i, _ in pairs]))
        # Swap directories so a reader never sees half an index.
        backup = self.directory.with_name(f"{self.directory.name}.old-{os.getpid()}")
        shutil.rmtree(backup, ignore_errors=True)
        if self.directory.exists():
            self.directory.rename(backup)
        staging.rename(self.directory)
        shutil.rmtree(backup, ignore_errors=True)
        self._retriever = retriever
        self._ids = np.asarray([i for i, _ in pairs], dtype=np.int64)
        self._loaded = True
        return len(pairs)

    def _remove_leftovers(self) -> None:
        """Staging and backup folders of processes that died while rebuilding."""
        for pattern in (f"{self.directory.name}.staging-*", f"{self.directory.name}.old-*"):
            for folder in self.directory.parent.glob(pattern):
                pid = folder.name.rpartition("-")[2]
                if pid.isdigit() and (int(pid) == os.getpid() or not _alive(int(pid))):
                    shutil.rmtree(folder, ignore_errors=True)

    def search(self, queries: Sequence[str], limit: int) -> list[list[KeywordHit]]:
        self._load()
        if self._retriever is None or len(self._ids) == 0 or not queries:
            return [[] for _ in queries]
        import bm25s

        tokens = bm25s.tokenize(list(queries), stopwords=_STOPWORDS, stemmer=self._stem,
                                show_progress=False, return_ids=False)
        vocab = self._retriever.vocab_dict
        results: list[list[KeywordHit]] = []
        k = min(limit, len(self._ids))
        for query_tokens in tokens:
            known = [t for t in query_tokens if t in vocab]
            if not known:
                results.append([])
                continue
            # Scores for every chunk (bm25s's sparse sum), then our own top k: bm25s's
            # retrieve() does the same with ~6x the overhead per query.
            scores = self._retriever.get_scores(known)
            top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
            top = top[np.lexsort((top, -scores[top]))]
            results.append([KeywordHit(int(self._ids[d]), float(scores[d]))
                            for d in top if scores[d] > 0])
        return results

    def idf(self, terms: Sequence[str]) -> dict[str, float]:
        """Inverse document frequency of stemmed terms (0 for unknown terms)."""
        self._load()
        if self._retriever is None:
            return {}
        import math

        vocab = self._retriever.vocab_dict
        n = max(len(self._ids), 1)
        doc_freqs = self._doc_freqs()
        out: dict[str, float] = {}
        for term in terms:
            index = vocab.get(term)
            df = int(doc_freqs[index]) if index is not None else 0
            out[term] = math.log(1 + (n - df + 0.5) / (df + 0.5)) if df else 0.0
        return out

    def _doc_freqs(self) -> np.ndarray:
        if self._df_cache is not None:
            return self._df_cache
        matrix = self._retriever.scores
        indptr = np.asarray(matrix["indptr"])
        doc_freqs = np.diff(indptr)
        self._df_cache = doc_freqs
        return doc_freqs

    def stem_terms(self, text: str) -> list[str]:
        """The stemmed terms of ``text`` in order, as :meth:`tokenize` makes them for the
        index (lower case, the same word pattern and stop words), without bm25s's per-call
        set-up: the answerer stems every evidence sentence it reads."""
        words = [w for w in _WORD.findall(text.lower()) if w not in self._stopwords]
        return self._stem.stemWords(words) if words else []
