"""Every Prometheus metric of DDQ, defined in one place.

Names start with ``ddq_``, values are in base units (seconds, bytes), and labels are few
and bounded: route *templates* (never raw paths), HTTP methods and status codes, stage
names, outcomes, model ids and roles from configuration. No question, document or key ever
becomes a label.

Multi-process: one service process per container (or pod) is the supported layout; each
process serves its own ``/metrics`` and Prometheus sums across targets. (prometheus_client's
multiprocess mode is not used: the job worker and the request handlers share one process.)
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ddq import __version__, tracing

REGISTRY = CollectorRegistry(auto_describe=False)

#: Buckets for work that takes milliseconds to seconds (requests, retrieval stages).
FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: Buckets for work that can take minutes (LLM calls, ingesting a batch, drafting).
SLOW = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)

BUILD = Info("ddq_build", "Version of the running DDQ.", registry=REGISTRY)
BUILD.info({"version": __version__, "python": platform.python_version()})

HTTP_REQUESTS = Counter("ddq_http_requests_total", "HTTP requests answered.",
                        ["route", "method", "status"], registry=REGISTRY)
HTTP_DURATION = Histogram("ddq_http_request_duration_seconds", "HTTP request duration.",
                          ["route", "method"], buckets=FAST, registry=REGISTRY)
HTTP_IN_FLIGHT = Gauge("ddq_http_requests_in_flight", "HTTP requests being served.",
                       registry=REGISTRY)

INGEST_DOCUMENTS = Counter("ddq_ingest_documents_total", "Documents ingested, by outcome "
                           "(added, updated, unchanged, failed, skipped).", ["outcome"],
                           registry=REGISTRY)
INGEST_CHUNKS = Counter("ddq_ingest_chunks_total", "Chunks written by ingestion.",
                        registry=REGISTRY)
INGEST_STAGE = Histogram("ddq_ingest_stage_duration_seconds", "Ingestion time per stage "
                         "(parse, chunk, embed, index) and per group of documents.",
                         ["stage"], buckets=SLOW, registry=REGISTRY)

RETRIEVAL_STAGE = Histogram("ddq_retrieval_stage_duration_seconds", "Retrieval time per "
                            "stage (embed, dense, keyword, fusion, rerank), per batch.",
                            ["stage"], buckets=FAST, registry=REGISTRY)
RETRIEVAL_QUESTIONS = Counter("ddq_retrieval_questions_total", "Questions retrieved for.",
                              registry=REGISTRY)
RETRIEVAL_HITS = Histogram("ddq_retrieval_hits", "Passages returned per question.",
                           buckets=(0, 1, 2, 4, 8, 16, 32, 64), registry=REGISTRY)

DRAFT_DURATION = Histogram("ddq_draft_duration_seconds", "Time to draft a batch of answers, "
                           "by drafter (extractive, llm).", ["drafter"], buckets=SLOW,
                           registry=REGISTRY)
DRAFTS = Counter("ddq_drafts_total", "Drafted answers by outcome (answered, library, "
                 "needs_input, fallback).", ["outcome"], registry=REGISTRY)
DRAFT_CONFIDENCE = Histogram("ddq_draft_confidence", "Confidence of drafted answers.",
                             buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
                             registry=REGISTRY)

JOB_QUESTIONS = Counter("ddq_job_questions_total", "Questions drafted by questionnaire jobs.",
                        registry=REGISTRY)
JOB_RUNS = Counter("ddq_job_runs_total", "Job runs ended, by result (done, paused, "
                   "requeued, failed).", ["result"], registry=REGISTRY)

MODEL_CALL_DURATION = Histogram("ddq_model_call_duration_seconds", "Duration of one model "
                                "call attempt, by model and role (embedder, generator, "
                                "reranker); failed attempts included.", ["model", "role"],
                                buckets=SLOW, registry=REGISTRY)

VECTOR_SEARCH = Histogram("ddq_vector_search_duration_seconds", "Milvus search calls, by "
                          "collection kind (chunks, questions).", ["collection"],
                          buckets=FAST, registry=REGISTRY)


#: Switched off only by the overhead benchmark, to measure what recording costs.
ENABLED = True


def _span_name(histogram: Histogram, labels: tuple[str, ...]) -> str:
    """``ddq_retrieval_stage_duration_seconds`` + ``embed`` → ``retrieval.embed``."""
    base = histogram._name.removeprefix("ddq_").removesuffix("_duration_seconds")
    base = base.removesuffix("_stage")
    return ".".join((base, *labels))


@contextmanager
def timed(histogram: Histogram, *labels: str) -> Iterator[None]:
    """Times a stage into ``histogram`` and, when tracing is on, wraps it in a span."""
    with tracing.span(_span_name(histogram, labels)) if tracing.enabled() else nullcontext():
        if not ENABLED:
            yield
            return
        started = time.perf_counter()
        try:
            yield
        finally:
            target = histogram.labels(*labels) if labels else histogram
            target.observe(time.perf_counter() - started)


def observe_drafts(answers: Iterable[Any], seconds: float, drafter: str) -> None:
    if not ENABLED:
        return
    DRAFT_DURATION.labels(drafter).observe(seconds)
    for answer in answers:
        if answer.drafted_by.startswith("extractive (fallback"):
            outcome = "fallback"
        elif answer.status.value == "library_match":
            outcome = "library"
        else:
            outcome = answer.status.value
        DRAFTS.labels(outcome).inc()
        DRAFT_CONFIDENCE.observe(answer.confidence)


class ModelCollector(Collector):
    """The call policy's measurements per model and role (``ddq.models.calls``)."""

    def collect(self) -> Iterator[Metric]:
        from ddq.models.calls import BreakerState, model_stats

        calls = CounterMetricFamily("ddq_model_calls", "Model calls (attempts).",
                                    labels=["model", "role"])
        errors = CounterMetricFamily("ddq_model_errors", "Failed model calls.",
                                     labels=["model", "role"])
        retries = CounterMetricFamily("ddq_model_retries", "Retried model calls.",
                                      labels=["model", "role"])
        refused = CounterMetricFamily("ddq_model_breaker_refusals", "Calls refused while the "
                                      "circuit breaker was open.", labels=["model", "role"])
        seconds = CounterMetricFamily("ddq_model_call_seconds", "Time spent in model calls.",
                                      labels=["model", "role"])
        tokens = CounterMetricFamily("ddq_model_tokens", "Tokens used, by kind (prompt, "
                                     "completion).", labels=["model", "role", "kind"])
        cache = CounterMetricFamily("ddq_model_cache_hits", "Embeddings served by the cache.",
                                    labels=["model", "role"])
        breaker = GaugeMetricFamily("ddq_model_breaker_open", "1 while the model's circuit "
                                    "breaker is open (or half-open).", labels=["model", "role"])
        for s in model_stats():
            key = [s.model_id, s.role.value]
            calls.add_metric(key, s.calls)
            errors.add_metric(key, s.errors)
            retries.add_metric(key, s.retries)
            refused.add_metric(key, s.rejected_open)
            seconds.add_metric(key, s.latency_s_total)
            tokens.add_metric([*key, "prompt"], s.prompt_tokens)
            tokens.add_metric([*key, "completion"], s.completion_tokens)
            cache.add_metric(key, s.cache_hits)
            breaker.add_metric(key, 0 if s.breaker is BreakerState.CLOSED else 1)
        yield from (calls, errors, retries, refused, seconds, tokens, cache, breaker)


class StateCollector(Collector):
    """Read at scrape time from the store and the index: jobs by state, index entities."""

    def __init__(self, jobs: Callable[[], dict[str, int]],
                 entities: Callable[[], dict[str, int]],
                 store: Callable[[], dict[str, int]] | None = None) -> None:
        self._jobs = jobs
        self._entities = entities
        self._store = store or _nothing

    def collect(self) -> Iterator[Metric]:
        from ddq.store.review import JobState

        jobs = GaugeMetricFamily("ddq_jobs", "Questionnaire jobs by state.", labels=["state"])
        counts = self._jobs()
        for state in JobState:
            jobs.add_metric([state.value], counts.get(state.value, 0))
        yield jobs
        entities = GaugeMetricFamily("ddq_index_entities", "Vectors in each Milvus collection.",
                                     labels=["collection"])
        for name, count in self._entities().items():
            entities.add_metric([name], count)
        yield entities
        store = self._store()
        if "chunks" in store:
            chunks = GaugeMetricFamily("ddq_store_chunks", "Chunks in the relational store "
                                       "(all workspaces): what the index should hold.")
            chunks.add_metric([], store["chunks"])
            yield chunks


def _nothing() -> dict[str, int]:
    return {}


#: The service points these at its store and index when it starts (``set_state_sources``).
STATE = StateCollector(_nothing, _nothing)
REGISTRY.register(ModelCollector())
REGISTRY.register(STATE)


def set_state_sources(jobs: Callable[[], dict[str, int]] | None,
                      entities: Callable[[], dict[str, int]] | None,
                      store: Callable[[], dict[str, int]] | None = None) -> None:
    STATE._jobs = jobs or _nothing
    STATE._entities = entities or _nothing
    STATE._store = store or _nothing
