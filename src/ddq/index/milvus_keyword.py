"""BM25 keyword search served by Milvus (its BM25 function), so every process sees one index.

The bm25s index (:mod:`ddq.index.keyword`) lives in each process's data directory: two
``ddq serve`` replicas each hold their own copy. This one is a Milvus collection beside the
vectors (``ddq_keyword_bm25_v1``: chunk id, workspace, text, and the sparse BM25 vector
Milvus computes from the text), filtered by workspace like the vectors.

Milvus's analyzers do not stem English, so the text stored, and each query, is the chunk's
terms as the bm25s index makes them (lower case, English stop words dropped, Snowball
stems) joined by spaces; the ``standard`` analyzer then splits them back into the same
terms, and the BM25 parameters are bm25s's (k1 1.5, b 0.75). Scores agree with bm25s up to
the collection-wide statistics Milvus keeps (document count and average length over every
workspace, not one).

The interface is :class:`~ddq.index.keyword.BM25KeywordIndex`'s, so the retriever, the
answerer and the repair check (:mod:`ddq.index.repair`) use either unchanged.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from ddq.errors import DDQError, ErrorCode
from ddq.index.keyword import _WORD, BM25KeywordIndex, KeywordHit, _stemmer

log = logging.getLogger("ddq.index")

COLLECTION = "ddq_keyword_bm25_v1"
#: bm25s's defaults, so the two backends rank alike.
BM25_K1 = 1.5
BM25_B = 0.75
_BATCH = 1000
_QUERY_LIMIT = 16_384  # rows one Milvus query returns at most
_MAX_TEXT = 65_535  # bytes in a Milvus VARCHAR
#: How long document frequencies (the answerer's term weights) are trusted before Milvus is
#: asked again; this process's own rebuilds clear them at once.
IDF_TTL_S = 30.0
_STATE_PREFIX = "ddqstate"


def _marker_id(workspace: str) -> int:
    """A negative primary key per workspace (chunk ids are positive) for the row that records
    the highest chunk id the index was last built to."""
    digest = hashlib.blake2b(workspace.encode(), digest_size=8).digest()
    return -(int.from_bytes(digest, "big") >> 1) - 1


def server_supports_bm25(client: Any) -> tuple[bool, str]:
    """Whether the Milvus behind ``client`` has the BM25 function (Milvus Lite 3.x, servers
    from 2.5 on), and the version it reports."""
    try:
        version = str(client.get_server_version())
    except Exception as exc:  # pymilvus raises many types; all mean "cannot tell"
        return False, f"unknown ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
    if version.startswith("milvus_lite"):
        return True, version
    found = re.search(r"(\d+)\.(\d+)", version)
    if found is None:
        return False, version
    return (int(found[1]), int(found[2])) >= (2, 5), version


class MilvusKeywordIndex(BM25KeywordIndex):
    """One workspace's view of the shared Milvus BM25 collection."""

    def __init__(self, client: Any, workspace: str, *, name: str = COLLECTION) -> None:
        # Not BM25KeywordIndex.__init__: nothing of bm25s is needed, only its stemming.
        from bm25s.stopwords import STOPWORDS_EN

        self._client = client
        self.workspace = workspace
        self.name = name
        self._stem = _stemmer()
        self._stopwords = frozenset(STOPWORDS_EN)
        self._rebuilding = threading.Lock()
        self._ready = False
        self._idf: dict[str, int] = {}
        self._idf_n = 0
        self._idf_at = float("-inf")
        self._marker = _marker_id(workspace)
        if not re.fullmatch(r"[A-Za-z0-9_\-]{1,64}", workspace):
            raise DDQError(ErrorCode.INVALID_INPUT, f"invalid workspace name {workspace!r}")
        self._filter = f'workspace == "{workspace}" and id > 0'

    # --- the collection --------------------------------------------------------------------

    def ensure(self) -> None:
        if self._ready:
            return
        client = self._client
        try:
            if not client.has_collection(self.name):
                self._create()
            else:
                self._check_schema()
            client.load_collection(self.name)
        except DDQError:
            raise
        except Exception as exc:
            raise DDQError(
                ErrorCode.INDEX_ERROR, f"Milvus keyword collection {self.name}: {_first_line(exc)}"
            ) from exc
        self._ready = True

    def _create(self) -> None:
        from pymilvus import DataType, Function, FunctionType

        supported, version = server_supports_bm25(self._client)
        if not supported:
            raise DDQError(
                ErrorCode.CONFIG,
                f"the Milvus server (version {version}) has no BM25 full-text search (it "
                "came in Milvus 2.5): set DDQ_KEYWORD_INDEX=bm25s (one replica only) or "
                "upgrade Milvus",
            )
        client = self._client
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("workspace", DataType.VARCHAR, max_length=64)
        schema.add_field(
            "text",
            DataType.VARCHAR,
            max_length=_MAX_TEXT,
            enable_analyzer=True,
            enable_match=True,
            analyzer_params={"tokenizer": "standard"},
        )
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(
            Function(
                name="bm25",
                function_type=FunctionType.BM25,
                input_field_names=["text"],
                output_field_names=["sparse"],
            )
        )
        index_params = client.prepare_index_params()
        index_params.add_index(
            field_name="sparse",
            index_type="SPARSE_INVERTED_INDEX",
            metric_type="BM25",
            params={"bm25_k1": BM25_K1, "bm25_b": BM25_B},
        )
        # Strong: a search sees every write acknowledged before it, whichever replica made
        # it (the default, Bounded, may lag by seconds).
        client.create_collection(
            self.name, schema=schema, index_params=index_params, consistency_level="Strong"
        )

    def _check_schema(self) -> None:
        described = self._client.describe_collection(self.name)
        fields = {f.get("name") for f in described.get("fields", [])}
        if not {"id", "workspace", "text", "sparse"} <= fields:
            raise DDQError(
                ErrorCode.INDEX_ERROR,
                f"Milvus collection {self.name} exists but was not made by this DDQ version "
                f"(fields {sorted(str(f) for f in fields)}): drop it and run `ddq reindex`",
            )

    # --- what the repair check compares --------------------------------------------------

    @property
    def size(self) -> int:
        if not self._exists():
            return 0
        self.ensure()
        return self._count(self._filter)

    @property
    def state(self) -> tuple[int, int]:
        """(chunks indexed in this workspace, the highest chunk id it was last built to)."""
        if not self._exists():
            return 0, 0
        self.ensure()
        rows = self._client.query(self.name, filter=f"id == {self._marker}", output_fields=["text"])
        highest = 0
        if rows:
            _, _, number = str(rows[0]["text"]).partition(" ")
            highest = int(number) if number.isdigit() else 0
        return self._count(self._filter), highest

    def _count(self, expression: str) -> int:
        rows = self._client.query(self.name, filter=expression, output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0

    def _exists(self) -> bool:
        return self._ready or bool(self._client.has_collection(self.name))

    def reload(self) -> None:
        """Nothing to read back (Milvus holds the index); forget cached frequencies."""
        self._idf, self._idf_at = {}, float("-inf")

    # --- writing --------------------------------------------------------------------------

    def rebuild(self, items: Iterable[tuple[int, str]]) -> int:
        """Make the workspace hold exactly these ``(chunk id, text)`` pairs: chunks not yet
        indexed are added, chunks no longer listed are deleted (ids are never reused and a
        chunk never changes, so the ones already there stay). Returns the number held."""
        with self._rebuilding:
            self.ensure()
            wanted: dict[int, str] = dict(items)
            held = self._held_ids()
            new = [i for i in wanted if i not in held]
            gone = sorted(held - wanted.keys())
            try:
                for start in range(0, len(new), _BATCH):
                    rows = [
                        {
                            "id": i,
                            "workspace": self.workspace,
                            "text": self._indexed_text(wanted[i]),
                        }
                        for i in new[start : start + _BATCH]
                    ]
                    self._client.upsert(self.name, rows)
                for start in range(0, len(gone), _BATCH):
                    part = ", ".join(str(i) for i in gone[start : start + _BATCH])
                    self._client.delete(self.name, filter=f"id in [{part}]")
                self._client.upsert(
                    self.name,
                    [
                        {
                            "id": self._marker,
                            "workspace": self.workspace,
                            "text": f"{_STATE_PREFIX} {max(wanted, default=0)}",
                        }
                    ],
                )
                self._client.flush(self.name)
            except Exception as exc:
                raise DDQError(
                    ErrorCode.INDEX_ERROR, f"Milvus keyword index {self.name}: {_first_line(exc)}"
                ) from exc
            self.reload()
            return len(wanted)

    def _held_ids(self) -> set[int]:
        if self._count(self._filter) <= _QUERY_LIMIT:  # one query; the iterator costs more
            rows = self._client.query(
                self.name, filter=self._filter, output_fields=["id"], limit=_QUERY_LIMIT
            )
            return {int(row["id"]) for row in rows}
        held: set[int] = set()
        iterator = self._client.query_iterator(
            self.name, batch_size=16_384, filter=self._filter, output_fields=["id"]
        )
        try:
            while batch := iterator.next():
                held.update(int(row["id"]) for row in batch)
        finally:
            iterator.close()
        return held

    def _indexed_text(self, text: str) -> str:
        indexed = " ".join(self.stem_terms(text))
        if len(indexed.encode()) > _MAX_TEXT:  # a chunk is ~230 tokens; this is a guard
            indexed = indexed.encode()[:_MAX_TEXT].decode(errors="ignore").rpartition(" ")[0]
        return indexed

    def drop(self) -> None:
        if self._client.has_collection(self.name):
            self._client.drop_collection(self.name)
        self._ready = False

    # --- reading --------------------------------------------------------------------------

    def search(self, queries: Sequence[str], limit: int) -> list[list[KeywordHit]]:
        terms = [" ".join(self.stem_terms(q)) for q in queries]
        asked = [i for i, t in enumerate(terms) if t]
        results: list[list[KeywordHit]] = [[] for _ in queries]
        if not asked or limit <= 0 or not self._exists():
            return results
        self.ensure()
        try:
            found = self._client.search(
                self.name,
                data=[terms[i] for i in asked],
                anns_field="sparse",
                limit=min(limit, 16_384),
                filter=self._filter,
                output_fields=["id"],
                search_params={"metric_type": "BM25"},
            )
        except Exception as exc:
            raise DDQError(
                ErrorCode.INDEX_ERROR, f"Milvus keyword search in {self.name}: {_first_line(exc)}"
            ) from exc
        for number, row in zip(asked, found, strict=True):
            # Milvus Lite returns BM25 scores negated, servers as they are; Milvus's BM25
            # has bm25s's term weight times (k1 + 1): divided here, so scores read alike.
            results[number] = [
                KeywordHit(int(hit["id"]), abs(float(hit["distance"])) / (BM25_K1 + 1))
                for hit in row
            ]
        return results

    def idf(self, terms: Sequence[str]) -> dict[str, float]:
        """Inverse document frequency of stemmed terms in this workspace (0 for unknown
        terms), as the bm25s index computes it; frequencies are counted by Milvus (a text
        match per term) and kept for :data:`IDF_TTL_S`."""
        import math

        if not self._exists():
            return {}
        self.ensure()
        now = time.monotonic()
        if now - self._idf_at > IDF_TTL_S:
            self._idf, self._idf_at = {}, now
            self._idf_n = self._count(self._filter)
        n = max(self._idf_n, 1)
        out: dict[str, float] = {}
        for term in terms:
            if term not in self._idf:
                if not _WORD.fullmatch(term):
                    self._idf[term] = 0
                else:
                    self._idf[term] = self._count(f"{self._filter} and TEXT_MATCH(text, '{term}')")
            df = self._idf[term]
            out[term] = math.log(1 + (n - df + 0.5) / (df + 0.5)) if df else 0.0
        return out


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def keyword_index_for(
    setting: str, milvus_uri: str, client: Callable[[], Any], workspace: str, directory: Path
) -> BM25KeywordIndex:
    """The keyword index ``setting`` (``DDQ_KEYWORD_INDEX``) names for a workspace.

    ``auto``: Milvus's own BM25 when Milvus is a server (every replica then searches one
    index) and the server has it, else bm25s files under ``directory``; a server without
    BM25 (before 2.5) is said once in the log. ``milvus`` on a server without it is an
    error at the first use, naming the fix.
    """
    if setting == "bm25s":
        return BM25KeywordIndex(directory)
    if setting == "milvus":
        return MilvusKeywordIndex(client(), workspace)
    if "://" not in milvus_uri:
        return BM25KeywordIndex(directory)
    supported, version = server_supports_bm25(client())
    if supported:
        return MilvusKeywordIndex(client(), workspace)
    if version not in _WARNED:
        _WARNED.add(version)
        log.warning(
            "the Milvus server at %s (version %s) has no BM25 full-text search: the "
            "keyword index is this process's own bm25s copy, so run one replica, or "
            "use Milvus 2.5 or later",
            milvus_uri,
            version,
        )
    return BM25KeywordIndex(directory)


_WARNED: set[str] = set()
