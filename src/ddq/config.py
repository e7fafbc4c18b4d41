"""Typed settings: ``DDQ_`` environment variables, an optional TOML file, passed in explicitly.

Nothing here is read at import time: call :func:`get_settings` (cached) or build
:class:`Settings` yourself in tests.
"""

from __future__ import annotations

import functools
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ddq.errors import DDQError, ErrorCode
from ddq.forms import PackageLimits


class Settings(BaseSettings):
    """Everything configurable. Defaults keep all state under one data directory."""

    model_config = SettingsConfigDict(env_prefix="DDQ_", extra="forbid")

    home: Path = Field(default=Path(".ddq"), description="Data directory for all local state.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file under home."
    )
    milvus_uri: str | None = Field(
        default=None, description="Milvus Lite path or server URI; default: home/milvus.db."
    )
    milvus_token: str | None = None
    keyword_index: Literal["auto", "bm25s", "milvus"] = Field(
        default="auto", description="Keyword (BM25) index: bm25s (files under home, one per "
                                    "process), milvus (Milvus's own BM25, in the Milvus of "
                                    "the vectors, one for every replica; Milvus 2.5+ or Milvus "
                                    "Lite), or auto: milvus for a Milvus server that has it, "
                                    "bm25s otherwise.")
    vector_index: Literal["HNSW", "FLAT"] = Field(
        default="HNSW", description="Index type of new Milvus collections: HNSW "
                                    "(approximate, fast) or FLAT (exact scan); an existing "
                                    "collection keeps its own until `ddq reindex`.")
    embedder: str = Field(default="openvino:all-MiniLM-L6-v2",
                          description="Embedding model, provider:model (openvino, onnx, local, "
                                      "openai), or auto: the shipped model on the runtime "
                                      "fastest for this CPU, kept per data directory "
                                      "(ddq.models.select).")
    #: Why ``auto`` resolved to ``embedder`` (None when it was named).
    _embedder_choice: str | None = PrivateAttr(default=None)
    openvino_precision: Literal["auto", "bf16", "f32"] = Field(
        default="auto", description="What the openvino embedder computes in: auto (bf16 on a "
                                    "CPU with AMX, f32 elsewhere), bf16 or f32. The vectors "
                                    "agree to cosine 0.9999 either way.")
    model_dir: Path | None = Field(
        default=None, description="Where model files made locally (the ONNX export) are kept; "
                                  "default: home/models. Several data directories may share "
                                  "one.")
    embedding_batch_size: int = Field(default=64, ge=1, le=4096)
    generator: str = Field(default="extractive",
                           description="Drafting model: extractive, or provider:model (openai).")
    reranker: str | None = Field(default=None,
                                 description="Optional reranker, provider:model (openai).")

    # OpenAI-compatible servers (OpenAI, Azure OpenAI, vLLM, Ollama, llama.cpp). The per-role
    # settings win over the shared ones, so embeddings and drafting can use different servers.
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    openai_api_version: str | None = Field(
        default=None, description="Set for Azure OpenAI (base URL = the Azure endpoint).")
    generator_base_url: str | None = None
    generator_api_key: SecretStr | None = None
    embedder_base_url: str | None = None
    embedder_api_key: SecretStr | None = None
    reranker_base_url: str | None = None
    reranker_api_key: SecretStr | None = None

    # What every model call gets (ddq.models.calls).
    model_timeout_s: float = Field(default=60.0, gt=0, le=3600)
    model_retries: int = Field(default=2, ge=0, le=10)
    model_backoff_s: float = Field(default=0.5, ge=0, le=60,
                                   description="First retry's wait; doubles per retry.")
    model_concurrency: int = Field(default=4, ge=1, le=256,
                                   description="Calls in flight per model.")
    breaker_failures: int = Field(default=5, ge=1, le=1000)
    breaker_reset_s: float = Field(default=30.0, gt=0, le=3600)
    generator_max_tokens: int = Field(default=512, ge=16, le=32_768)
    generator_temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    workspace: str = Field(default="default", pattern=r"^[A-Za-z0-9_\-]{1,64}$")

    chunk_tokens: int = Field(default=230, ge=32, le=2048)
    chunk_overlap_tokens: int = Field(default=40, ge=0, le=512)

    retrieval_top_k: int = Field(default=8, ge=1, le=200)
    candidate_k: int = Field(default=50, ge=1, le=1000)
    rrf_k: int = Field(default=60, ge=1)
    dense_weight: float = Field(default=1.0, ge=0.0)
    keyword_weight: float = Field(default=1.0, ge=0.0)
    rerank_candidates: int = Field(default=20, ge=2, le=200,
                                   description="Fused candidates the reranker reorders.")

    library_match_threshold: float = Field(default=0.86, ge=0.0, le=1.0)
    abstain_threshold: float = Field(default=0.40, ge=0.0, le=1.0)

    answer_batch_size: int = Field(default=32, ge=1, le=1024,
                                   description="Questions answered per batch in a job.")
    rate_limit_per_minute: int = Field(
        default=3000, ge=0, le=1_000_000,
        description="Requests per minute per API key (bursts up to a tenth of it); 0: off.")
    max_upload_mb: float = Field(default=50, gt=0, le=1024,
                                 description="Largest file the service accepts in an upload.")
    max_json_mb: float = Field(
        default=8, gt=0, le=1024,
        description="Largest request body that is not a multipart upload (JSON, forms); "
                    "counted as it arrives, 413 past it.")
    max_request_mb: float = Field(
        default=200, gt=0, le=4096,
        description="Largest multipart request body (an upload of several files), counted "
                    "as it arrives; each file also stays under max_upload_mb.")
    auth_failures_per_minute: int = Field(
        default=20, ge=0, le=100_000,
        description="Failed sign-ins (unknown or revoked keys) allowed per client address "
                    "a minute, in bursts of as many; past them 429 with Retry-After. 0: off.")
    database_statement_timeout_s: float = Field(
        default=30, ge=0, le=3600,
        description="PostgreSQL statement_timeout of every connection (a statement waiting "
                    "on a lock counts); 0: none. Migrations run without it.")
    request_timeout_s: float = Field(
        default=30, ge=0, le=3600,
        description="Deadline of a request (key lookup included) until its answer starts: "
                    "past it 503 with Retry-After, whatever the request waits on (a lock, "
                    "the database, a model); 0: none. Multipart uploads have their own.")
    upload_timeout_s: float = Field(
        default=600, ge=0, le=86_400,
        description="Deadline of a multipart upload (reading, parsing and indexing what it "
                    "carries); 0: none. An upload past it may still be stored: send it "
                    "again, unchanged files are skipped.")
    readiness_timeout_s: float = Field(
        default=1.0, gt=0, le=60,
        description="How long /readyz waits for the database before it says not ready.")
    tracing: Literal["off", "otlp", "console"] = Field(
        default="off", description="OpenTelemetry tracing: off, otlp (to otlp_endpoint or "
                                   "the standard OTEL_EXPORTER_OTLP_* variables), console.")
    otlp_endpoint: str | None = Field(
        default=None, description="OTLP/HTTP collector, e.g. http://otel-collector:4318.")
    tracing_sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0,
                                        description="Share of new traces recorded.")
    max_questionnaire_mb: float = Field(default=50, gt=0, le=1024,
                                        description="Largest questionnaire file accepted.")

    # The safe-open layer (ddq.safe_open): what any file may hold and cost to read. The
    # defaults leave a large margin over real questionnaires (a 1,000-question workbook of
    # 8 columns: ~9,000 cells) and policy documents (300 pages: ~1 M characters).
    max_knowledge_mb: float = Field(default=50, gt=0, le=1024,
                                    description="Largest knowledge file `ddq ingest` reads.")
    max_expanded_mb: float = Field(
        default=400, gt=0, le=8192,
        description="Largest total an Office file's zip entries may expand to (read from its "
                    "central directory before anything is inflated).")
    max_cells: int = Field(default=500_000, ge=1, le=100_000_000,
                           description="Worksheet cells over all sheets of a workbook.")
    max_rows: int = Field(default=200_000, ge=1, le=100_000_000,
                          description="Worksheet rows over all sheets; lines of a CSV file.")
    max_shared_strings: int = Field(default=500_000, ge=1, le=100_000_000,
                                    description="Entries of a workbook's shared strings.")
    max_paragraphs: int = Field(default=200_000, ge=1, le=100_000_000,
                                description="Paragraphs of a Word document.")
    max_xml_elements: int = Field(default=5_000_000, ge=1, le=1_000_000_000,
                                  description="XML elements of all parts of an Office file.")
    max_xml_depth: int = Field(default=128, ge=8, le=10_000,
                               description="How deep XML elements may nest.")
    max_text_chars: int = Field(default=5_000_000, ge=1, le=1_000_000_000,
                                description="Characters of text in one file (any kind).")
    max_pages: int = Field(default=2_000, ge=1, le=1_000_000, description="Pages of a PDF.")
    parse_seconds: float = Field(default=30, gt=0, le=3600,
                                 description="Time the checks and the read of one file may "
                                             "take.")

    def _limits(self, max_mb: float, purpose: str) -> PackageLimits:
        return PackageLimits(
            max_file_bytes=int(max_mb * 1024 * 1024),
            max_uncompressed_bytes=int(self.max_expanded_mb * 1024 * 1024),
            max_cells=self.max_cells, max_rows=self.max_rows,
            max_shared_strings=self.max_shared_strings, max_paragraphs=self.max_paragraphs,
            max_xml_elements=self.max_xml_elements, max_xml_depth=self.max_xml_depth,
            max_text_chars=self.max_text_chars, max_pages=self.max_pages,
            parse_seconds=self.parse_seconds, purpose=purpose)

    @property
    def package_limits(self) -> PackageLimits:
        """The limits of a questionnaire file."""
        return self._limits(self.max_questionnaire_mb, "a questionnaire")

    @property
    def knowledge_limits(self) -> PackageLimits:
        """The limits of a knowledge file (`ddq ingest`; an upload is also bounded by
        max_upload_mb as it arrives)."""
        return self._limits(self.max_knowledge_mb, "a knowledge file")

    def endpoint(self, role: str) -> tuple[str | None, str | None, str | None]:
        """Base URL, API key and Azure API version for ``role`` (generator/embedder/reranker)."""
        base = getattr(self, f"{role}_base_url") or self.openai_base_url
        key = getattr(self, f"{role}_api_key") or self.openai_api_key
        return base, key.get_secret_value() if key is not None else None, self.openai_api_version

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'ddq.sqlite3').resolve()}"

    @property
    def resolved_milvus_uri(self) -> str:
        if self.milvus_uri:
            return self.milvus_uri
        return str((self.home / "milvus.db").resolve())

    @model_validator(mode="after")
    def _resolve_auto_embedder(self) -> Settings:
        if self.embedder == "auto":  # resolved once, so status and logs name the real one
            from ddq.models.select import auto_embedder

            choice = auto_embedder(self.home)
            self.embedder, self._embedder_choice = choice.embedder, choice.reason
        return self

    @property
    def embedder_choice(self) -> str | None:
        return self._embedder_choice

    @property
    def resolved_model_dir(self) -> Path:
        return (self.model_dir or self.home / "models").resolve()

    @property
    def keyword_index_dir(self) -> Path:
        return self.home / "keyword"


def _config_file_values(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise DDQError(ErrorCode.CONFIG, f"config file {path} is not valid TOML: {exc}") from exc
    section = data.get("ddq", data)
    if not isinstance(section, dict):
        raise DDQError(ErrorCode.CONFIG, f"config file {path}: [ddq] must be a table")
    return section


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from (lowest to highest) defaults, a TOML file, env vars, overrides.

    The file is ``config_file``, else ``$DDQ_CONFIG``, else ``$DDQ_HOME/config.toml`` if present.
    """
    if config_file is None and os.environ.get("DDQ_CONFIG"):
        config_file = Path(os.environ["DDQ_CONFIG"])
    if config_file is None:
        home = overrides.get("home") or os.environ.get("DDQ_HOME", ".ddq")
        candidate = Path(home) / "config.toml"
        config_file = candidate if candidate.is_file() else None
    file_values: dict[str, Any] = {}
    if config_file is not None:
        if not config_file.is_file():
            raise DDQError(ErrorCode.CONFIG, f"config file {config_file} does not exist")
        file_values = _config_file_values(config_file)
    env_keys = {
        key[4:].lower() for key in os.environ if key.startswith("DDQ_") and key != "DDQ_CONFIG"
    }
    # Environment variables win over the file: drop file values that the environment sets.
    values = {k: v for k, v in file_values.items() if k not in env_keys}
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise DDQError(ErrorCode.CONFIG, f"invalid setting {where}: {first['msg']}") from exc


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, built once on first use."""
    return load_settings()
