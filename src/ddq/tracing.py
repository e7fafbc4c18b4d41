"""OpenTelemetry tracing: off unless configured.

``DDQ_TRACING=otlp`` sends spans over OTLP/HTTP to ``DDQ_OTLP_ENDPOINT`` (or wherever the
standard ``OTEL_EXPORTER_OTLP_*`` variables point); ``console`` prints them; ``off`` (the
default) records nothing and costs one attribute check per span. The OpenTelemetry packages
are the ``tracing`` extra and are imported only when tracing is switched on.

What is traced: each HTTP request (a server span, continuing the caller's W3C
``traceparent``), each retrieval, ingestion and drafting stage that is also a metric (the
``timed`` stages of :mod:`ddq.metrics`), each model call with its model id, role and tokens,
and each job run. Attributes carry ids, counts, model names and outcomes — never question,
document or prompt text, nor keys.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ddq.errors import DDQError, ErrorCode

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Tracer

T = TypeVar("T")

MODES = ("off", "otlp", "console")

_tracer: Tracer | None = None
_provider: TracerProvider | None = None

Attribute = str | int | float | bool


def enabled() -> bool:
    return _tracer is not None


def configure(mode: str, *, endpoint: str | None = None, sample_ratio: float = 1.0,
              exporter: SpanExporter | None = None, service_name: str = "ddq") -> bool:
    """Switch tracing on (``otlp``, ``console``) or off; returns whether it is on.

    ``exporter`` replaces the one ``mode`` would build (tests give the SDK's in-memory one).
    Spans are exported in batches from a background thread, so a request never waits for
    the collector."""
    global _tracer, _provider
    shutdown()
    if mode == "off" and exporter is None:
        return False
    if mode not in MODES:
        raise DDQError(ErrorCode.CONFIG, f"unknown tracing mode {mode!r}; use one of "
                                         f"{', '.join(MODES)}")
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import (
            BatchSpanProcessor,
            ConsoleSpanExporter,
            SimpleSpanProcessor,
        )
        from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
    except ImportError as exc:
        raise DDQError(ErrorCode.CONFIG, "tracing needs the 'tracing' extra: "
                                         "pip install 'ddq[tracing]'") from exc
    from ddq import __version__

    if exporter is None:
        if mode == "console":
            exporter = ConsoleSpanExporter()
        else:
            try:
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                    OTLPSpanExporter,
                )
            except ImportError as exc:
                raise DDQError(ErrorCode.CONFIG, "OTLP export needs the 'tracing' extra: "
                                                 "pip install 'ddq[tracing]'") from exc
            exporter = OTLPSpanExporter(endpoint=_traces_url(endpoint) if endpoint else None)
        processor: Any = BatchSpanProcessor(exporter)
    else:
        processor = SimpleSpanProcessor(exporter)
    provider = TracerProvider(
        resource=Resource.create({"service.name": service_name,
                                  "service.version": __version__}),
        sampler=ParentBased(TraceIdRatioBased(sample_ratio)))
    provider.add_span_processor(processor)
    _provider = provider
    _tracer = provider.get_tracer("ddq", __version__)
    return True


def _traces_url(endpoint: str) -> str:
    """``http://collector:4318`` → ``http://collector:4318/v1/traces`` (a full URL is kept)."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/v1/traces") else endpoint + "/v1/traces"


def configure_from(settings: Any) -> bool:
    return configure(settings.tracing, endpoint=settings.otlp_endpoint,
                     sample_ratio=settings.tracing_sample_ratio)


def shutdown() -> None:
    """Flush what is buffered and switch tracing off."""
    global _tracer, _provider
    provider, _provider, _tracer = _provider, None, None
    if provider is not None:
        provider.shutdown()


@contextlib.contextmanager
def span(name: str, attributes: Mapping[str, Attribute] | None = None, *,
         kind: str = "internal", carrier: Mapping[str, str] | None = None
         ) -> Iterator[Any]:
    """A span around the block (``None`` is yielded when tracing is off).

    ``carrier``: incoming headers whose ``traceparent`` the span continues."""
    tracer = _tracer
    if tracer is None:
        yield None
        return
    from opentelemetry import propagate, trace

    context = propagate.extract(carrier) if carrier is not None else None
    span_kind = trace.SpanKind.SERVER if kind == "server" else trace.SpanKind.INTERNAL
    with tracer.start_as_current_span(name, context=context, kind=span_kind,
                                      attributes=dict(attributes or {})) as current:
        yield current


def set_attributes(current: Any, attributes: Mapping[str, Attribute]) -> None:
    if current is not None:
        current.set_attributes(dict(attributes))


def record_error(current: Any, error: BaseException) -> None:
    if current is None:
        return
    from opentelemetry.trace import Status, StatusCode

    current.set_status(Status(StatusCode.ERROR, type(error).__name__))
    current.set_attribute("error.type", type(error).__name__)


def in_context(fn: Callable[..., T]) -> Callable[..., T]:
    """``fn`` bound to the caller's context, for work handed to a thread pool (the span of
    the calling request stays the parent of the spans made there)."""
    if _tracer is None:
        return fn
    context = contextvars.copy_context()
    return lambda *args, **kwargs: context.run(fn, *args, **kwargs)
