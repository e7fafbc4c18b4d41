"""Milvus as the dense vector index: Milvus Lite by path, or a Milvus server by URI.

Collections are named by embedding model and dimension, so a model change builds a new
collection beside the old one. Every query is filtered by workspace here, on the server
side of the application; callers cannot leave the filter out.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ddq.errors import DDQError, ErrorCode
from ddq.metrics import VECTOR_SEARCH, timed

_INSERT_BATCH = 2000


def collection_name(model_id: str, dimension: int, role: str) -> str:
    slug = re.sub(r"[^0-9a-zA-Z]+", "_", model_id).strip("_").lower()
    return f"ddq_{role}_{slug}_{dimension}"[:255]


def _check_not_locked(path: Path) -> None:
    """Milvus Lite allows one process per data directory; say so before it fails obscurely."""
    import fcntl

    lock_file = path / "LOCK"
    if not lock_file.exists():
        return
    with lock_file.open("rb") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise DDQError(
                ErrorCode.INDEX_ERROR,
                f"{path} is in use by another DDQ process; Milvus Lite allows one process at "
                "a time (wait for it to finish, or use a Milvus server via DDQ_MILVUS_URI)",
            ) from exc
        fcntl.flock(handle, fcntl.LOCK_UN)


#: Index types DDQ creates. HNSW (the default) answers one question in ~1/3 of FLAT's time
#: on 11k chunks in Milvus Lite, and its cost grows far slower with the collection (FLAT is a
#: brute-force scan there); FLAT is exact. See docs/optimization-plan.md.
_INDEX_PARAMS: dict[str, dict[str, int]] = {"HNSW": {"M": 16, "efConstruction": 200},
                                            "FLAT": {}}
INDEX_TYPES = tuple(_INDEX_PARAMS)


@dataclass(frozen=True, slots=True)
class VectorHit:
    id: int
    score: float


class MilvusVectorIndex:
    """One Milvus collection of (chunk id, workspace, document id, vector)."""

    def __init__(self, client: Any, name: str, dimension: int,
                 index_type: str = "HNSW") -> None:
        self._client = client
        self.name = name
        self.dimension = dimension
        #: For a collection this creates; one that exists keeps the index it was made with.
        self.index_type = index_type
        self._ready = False
        self._dirty = False

    @staticmethod
    def connect(uri: str, token: str | None = None) -> Any:
        """A MilvusClient for a Lite path (``*.db``) or a server URI."""
        # gRPC's own logging writes keep-alive chatter to stderr during long embeddings.
        os.environ.setdefault("GRPC_VERBOSITY", "NONE")
        try:
            from pymilvus import MilvusClient
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise DDQError(ErrorCode.CONFIG, "pymilvus is not installed") from exc
        if "://" not in uri:
            path = Path(uri)
            if path.suffix != ".db":
                raise DDQError(ErrorCode.CONFIG, f"Milvus Lite path must end in .db: {uri}")
            path.parent.mkdir(parents=True, exist_ok=True)
            _check_not_locked(path)
            # Milvus Lite logs its own failures with tracebacks; ours is the one clear line.
            logging.getLogger("milvus_lite").setLevel(logging.CRITICAL)
        try:
            return MilvusClient(uri=uri, token=token or "")
        except Exception as exc:  # pymilvus raises many types; all mean "cannot open"
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if "lock" in message.lower():
                message = f"{uri} is in use by another DDQ process ({message})"
            raise DDQError(ErrorCode.INDEX_ERROR,
                           f"cannot open Milvus at {uri}: {message}") from exc

    @staticmethod
    def disconnect(client: Any, uri: str) -> None:
        """Close the client; for Milvus Lite also stop its in-process server, which otherwise
        keeps the data directory locked until the process exits."""
        with contextlib.suppress(Exception):
            client.close()
        if "://" not in uri:
            with contextlib.suppress(Exception):  # an internal API of milvus-lite
                from milvus_lite.server_manager import server_manager_instance

                server_manager_instance.release_server(uri)

    def ensure(self) -> None:
        """Create and load the collection if it does not exist yet."""
        if self._ready:
            return
        from pymilvus import DataType

        client = self._client
        try:
            if not client.has_collection(self.name):
                schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
                schema.add_field("id", DataType.INT64, is_primary=True)
                schema.add_field("workspace", DataType.VARCHAR, max_length=64)
                schema.add_field("document_id", DataType.INT64)
                schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dimension)
                index_params = client.prepare_index_params()
                index_params.add_index(field_name="vector", index_type=self.index_type,
                                       metric_type="IP", params=_INDEX_PARAMS[self.index_type])
                client.create_collection(self.name, schema=schema, index_params=index_params)
            client.load_collection(self.name)
        except DDQError:
            raise
        except Exception as exc:
            raise DDQError(ErrorCode.INDEX_ERROR, f"Milvus collection {self.name}: {exc}") from exc
        self._ready = True

    def exists(self) -> bool:
        # Once this object has made or loaded the collection, no round trip is needed; drop()
        # clears that.
        return self._ready or bool(self._client.has_collection(self.name))

    def insert(self, *, workspace: str, ids: Sequence[int], document_ids: Sequence[int],
               vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        self.ensure()
        try:
            for start in range(0, len(ids), _INSERT_BATCH):
                stop = start + _INSERT_BATCH
                rows = [
                    {"id": int(i), "workspace": workspace, "document_id": int(d),
                     "vector": v.tolist()}
                    for i, d, v in zip(ids[start:stop], document_ids[start:stop],
                                       vectors[start:stop], strict=True)
                ]
                self._client.upsert(self.name, rows)
        except Exception as exc:
            raise DDQError(ErrorCode.INDEX_ERROR, f"Milvus insert into {self.name}: {exc}") from exc
        self._dirty = True

    def delete(self, ids: Sequence[int]) -> None:
        if not ids or not self.exists():
            return
        self.ensure()
        try:
            for start in range(0, len(ids), _INSERT_BATCH):
                part = ", ".join(str(int(i)) for i in ids[start : start + _INSERT_BATCH])
                self._client.delete(self.name, filter=f"id in [{part}]")
        except Exception as exc:
            raise DDQError(ErrorCode.INDEX_ERROR, f"Milvus delete from {self.name}: {exc}") from exc
        self._dirty = True

    def flush(self) -> None:
        """Seal written rows into indexed segments; unflushed rows search far slower."""
        if self._dirty:
            try:
                self._client.flush(self.name)
            except Exception as exc:  # a read-only or full disk: one clear line, not pymilvus'
                raise DDQError(ErrorCode.INDEX_ERROR,
                               f"Milvus flush of {self.name}: {exc}") from exc
            self._dirty = False

    def search(self, *, workspace: str, vectors: np.ndarray, limit: int
               ) -> list[list[VectorHit]]:
        """Top ``limit`` ids per query vector, inside ``workspace`` only."""
        if len(vectors) == 0:
            return []
        if not self.exists():
            return [[] for _ in range(len(vectors))]
        self.ensure()
        if not re.fullmatch(r"[A-Za-z0-9_\-]{1,64}", workspace):
            raise DDQError(ErrorCode.INVALID_INPUT, f"invalid workspace name {workspace!r}")
        kind = "questions" if self.name.endswith("questions") else "chunks"
        with timed(VECTOR_SEARCH, kind):
            try:
                results = self._client.search(
                    self.name,
                    data=[v.tolist() for v in vectors],
                    limit=limit,
                    filter=f'workspace == "{workspace}"',
                    # Only the key: without a field list Milvus Lite materialises every
                    # stored column of each hit (the vector too), 3x the cost of the search.
                    output_fields=["id"],
                    # ef: HNSW's candidate list; >= limit, and 128 keeps recall of the
                    # exact top 50 at 0.99 on SciFact. FLAT ignores it.
                    search_params={"metric_type": "IP", "params": {"ef": max(128, 2 * limit)}},
                )
            except Exception as exc:
                raise DDQError(ErrorCode.INDEX_ERROR,
                               f"Milvus search in {self.name}: {exc}") from exc
        return [[VectorHit(int(hit["id"]), float(hit["distance"])) for hit in row]
                for row in results]

    def count(self) -> int:
        if not self.exists():
            return 0
        # count(*), not the collection statistics: a Milvus server's row_count also counts
        # deleted and replaced rows until its segments are compacted (Milvus Lite's does
        # not), so `ddq status` would report an index out of step after every removal.
        self.ensure()
        try:
            rows = self._client.query(self.name, filter="", output_fields=["count(*)"],
                                      consistency_level="Strong")
        except Exception as exc:
            raise DDQError(ErrorCode.INDEX_ERROR,
                           f"Milvus count of {self.name}: {exc}") from exc
        return int(rows[0]["count(*)"]) if rows else 0

    def drop(self) -> None:
        if self.exists():
            self._client.drop_collection(self.name)
        self._ready = False
