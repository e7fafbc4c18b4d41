"""DDQ's Grafana dashboards, as code: this script is the source of truth for the JSON files in
``deploy/grafana/dashboards/``, which Grafana loads through file provisioning.

    python deploy/grafana/build_dashboards.py           # rewrite the JSON files
    python deploy/grafana/build_dashboards.py --check   # exit 1 when a file is out of date

Every query reads metrics defined in ``src/ddq/metrics.py``, plus Prometheus's ``up``, the
blackbox exporter's ``probe_success`` (job ``ddq-readyz``) and ``ddq monitor``'s
``ddq_monitor_*``. ``tests/integration/test_dashboards_prometheus.py`` runs every one of them
against a real Prometheus scraping a real DDQ, and checks the files equal this output.
Each panel and what it means is described in docs/operations.md, "Dashboards".
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
#: The selector of the DDQ service's own series (the job and instance variables).
SEL = 'job=~"$job", instance=~"$instance"'
RATE = "$__rate_interval"
RANGE = "$__range"


def target(expr: str, legend: str = "", *, fmt: str = "time_series",
           instant: bool = False) -> dict[str, Any]:
    return {"expr": " ".join(expr.split()), "legendFormat": legend, "format": fmt,
            "instant": instant, "range": not instant}


def quantile(q: float, histogram: str, by: str = "", selector: str = SEL) -> str:
    labels = ", ".join(["le", *([by] if by else [])])
    return (f"histogram_quantile({q}, sum by ({labels}) "
            f"(rate({histogram}_bucket{{{selector}}}[{RATE}])))")


def per_call(histogram: str, by: str, selector: str = SEL) -> str:
    """Mean duration: the rate of the histogram's sum over the rate of its count."""
    return (f"sum by ({by}) (rate({histogram}_sum{{{selector}}}[{RATE}])) / "
            f"sum by ({by}) (rate({histogram}_count{{{selector}}}[{RATE}]))")


@dataclass
class Panel:
    title: str
    description: str
    targets: list[dict[str, Any]]
    kind: str = "timeseries"
    unit: str = "short"
    width: int = 12
    height: int = 8
    stack: bool = False
    #: A value from which the panel turns red (an alert's threshold).
    red_from: float | None = None
    mappings: list[dict[str, Any]] = field(default_factory=list)
    max: float | None = None

    def render(self, panel_id: int, x: int, y: int) -> dict[str, Any]:
        steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
        if self.red_from is not None:
            steps.append({"color": "red", "value": self.red_from})
        defaults: dict[str, Any] = {
            "unit": self.unit, "mappings": self.mappings, "color": {"mode": "palette-classic"},
            "thresholds": {"mode": "absolute", "steps": steps},
        }
        if self.max is not None:
            defaults["max"] = self.max
        options: dict[str, Any]
        reduce = {"calcs": ["lastNotNull"], "fields": "", "values": False}
        if self.kind == "timeseries":
            defaults["custom"] = {
                "drawStyle": "line", "lineWidth": 1, "fillOpacity": 20 if self.stack else 5,
                "showPoints": "never", "spanNulls": False,
                "stacking": {"mode": "normal" if self.stack else "none", "group": "A"},
                "thresholdsStyle": {"mode": "off" if self.red_from is None else "line"},
            }
            options = {"legend": {"displayMode": "list", "placement": "bottom",
                                  "showLegend": True},
                       "tooltip": {"mode": "multi", "sort": "desc"}}
        elif self.kind == "stat":
            defaults["color"] = {"mode": "thresholds"}
            options = {"reduceOptions": reduce, "colorMode": "value", "graphMode": "area",
                       "justifyMode": "auto", "orientation": "auto", "textMode": "auto"}
        elif self.kind == "bargauge":
            options = {"reduceOptions": reduce, "displayMode": "gradient",
                       "orientation": "horizontal", "showUnfilled": True}
        elif self.kind == "table":
            options = {"showHeader": True}
        else:
            raise ValueError(f"unknown panel kind {self.kind!r}")
        targets = [{"datasource": DATASOURCE, "refId": chr(ord("A") + i), **t}
                   for i, t in enumerate(self.targets)]
        return {"id": panel_id, "type": self.kind, "title": self.title,
                "description": self.description, "datasource": DATASOURCE,
                "gridPos": {"h": self.height, "w": self.width, "x": x, "y": y},
                "fieldConfig": {"defaults": defaults, "overrides": []},
                "options": options, "targets": targets}


Rows = list[tuple[str, list[Panel]]]


def query_variable(name: str, definition: str) -> dict[str, Any]:
    return {"type": "query", "name": name, "label": name, "datasource": DATASOURCE,
            "definition": definition, "query": {"query": definition, "refId": name},
            "refresh": 2, "includeAll": True, "multi": True, "allValue": ".+", "sort": 1,
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]}, "options": []}


def textbox(name: str, label: str, default: str) -> dict[str, Any]:
    return {"type": "textbox", "name": name, "label": label, "query": default,
            "current": {"selected": False, "text": default, "value": default},
            "options": [{"selected": True, "text": default, "value": default}]}


SERVICE_VARIABLES = [
    query_variable("job", "label_values(ddq_build_info, job)"),
    query_variable("instance", 'label_values(ddq_build_info{job=~"$job"}, instance)'),
]


def dashboard(uid: str, title: str, description: str, rows: Rows,
              variables: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    y = 0
    for row_title, row_panels in rows:
        panels.append({"id": len(panels) + 1, "type": "row", "title": row_title,
                       "collapsed": False, "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
                       "panels": []})
        y += 1
        x, line_height = 0, 0
        for panel in row_panels:
            if x + panel.width > 24:
                x, y, line_height = 0, y + line_height, 0
            panels.append(panel.render(len(panels) + 1, x, y))
            x += panel.width
            line_height = max(line_height, panel.height)
        y += line_height
    return {
        "uid": uid, "title": title, "description": description, "tags": ["ddq"],
        "editable": True, "graphTooltip": 1, "schemaVersion": 39, "version": 1,
        "time": {"from": "now-6h", "to": "now"}, "refresh": "30s", "timezone": "browser",
        "fiscalYearStartMonth": 0, "liveNow": False, "weekStart": "",
        "timepicker": {},
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts", "type": "dashboard"}]},
        "links": [{"title": "DDQ dashboards", "type": "dashboards", "tags": ["ddq"],
                   "asDropdown": True, "includeVars": True, "keepTime": True}],
        "templating": {"list": [*SERVICE_VARIABLES, *(variables or [])]},
        "panels": panels,
    }


def requests_total(extra: str = "") -> str:
    return f"ddq_http_requests_total{{{SEL}{extra}}}"


UP_MAPPING = [{"type": "value", "options": {
    "0": {"text": "down", "color": "red", "index": 0},
    "1": {"text": "up", "color": "green", "index": 1}}}]
BREAKER_MAPPING = [{"type": "value", "options": {
    "0": {"text": "closed", "color": "green", "index": 0},
    "1": {"text": "open", "color": "red", "index": 1}}}]
# 5xx over all requests; a route with no 5xx shows 0 rather than no line at all.
FIVE_XX = ', status=~"5.."'
ERRORS_BY_ROUTE = (
    f"(sum by (route) (rate({requests_total(FIVE_XX)}[{RATE}])) "
    f"or sum by (route) (rate({requests_total()}[{RATE}])) * 0) "
    f"/ sum by (route) (rate({requests_total()}[{RATE}]))")
ERRORS_ALL = (
    f"(sum(rate({requests_total(FIVE_XX)}[{RATE}])) or vector(0)) "
    f"/ sum(rate({requests_total()}[{RATE}]))")
READYZ = ', route="/readyz"'
NO_UPLOADS = ', route!~"/api/documents|/api/questionnaires"'


def overview() -> dict[str, Any]:
    latency = "ddq_http_request_duration_seconds"
    rows: Rows = [
        ("Traffic and errors", [
            Panel("Request rate by route", "Requests answered per second, per route template.",
                  [target(f"sum by (route) (rate({requests_total()}[{RATE}]))", "{{route}}")],
                  unit="reqps", width=8, stack=True),
            Panel("Requests by status", "Requests per second by HTTP status code.",
                  [target(f"sum by (status) (rate({requests_total()}[{RATE}]))", "{{status}}")],
                  unit="reqps", width=8, stack=True),
            Panel("Error ratio (5xx)", "Share of requests answered with a 5xx, all routes "
                  "(red from 5%, the DDQHighErrorRatio threshold) and per route.",
                  [target(ERRORS_ALL, "all routes"), target(ERRORS_BY_ROUTE, "{{route}}")],
                  unit="percentunit", width=8, red_from=0.05),
        ]),
        ("Latency", [
            Panel("p50 latency by route", "Median request duration per route.",
                  [target(quantile(0.5, latency, "route"), "{{route}}")], unit="s", width=6),
            Panel("p95 latency by route", "95th percentile request duration per route.",
                  [target(quantile(0.95, latency, "route"), "{{route}}")], unit="s", width=6),
            Panel("p99 latency by route", "99th percentile request duration per route.",
                  [target(quantile(0.99, latency, "route"), "{{route}}")], unit="s", width=6),
            Panel("p95 latency without uploads", "What DDQSlowRequests watches: p95 of all "
                  "routes except document and questionnaire uploads (red from 2 s).",
                  [target(quantile(0.95, latency, selector=SEL + NO_UPLOADS), "p95")],
                  unit="s", width=6, red_from=2),
        ]),
        ("Saturation", [
            Panel("Requests in flight", "Requests being served right now, per instance.",
                  [target(f"sum by (instance) (ddq_http_requests_in_flight{{{SEL}}})",
                          "{{instance}}")], width=8),
            Panel("Jobs running and queued", "Questionnaire jobs in the shared queue (every "
                  "instance reports the same database, hence max).",
                  [target(f'max by (state) (ddq_jobs{{{SEL}, state=~"running|queued"}})',
                          "{{state}}")], width=8, stack=True),
            Panel("Model calls in flight (time in calls)", "Seconds spent in model calls per "
                  "second of wall time: 1 means one call always in flight.",
                  [target(f"sum by (model, role) "
                          f"(rate(ddq_model_call_seconds_total{{{SEL}}}[{RATE}]))",
                          "{{model}} ({{role}})")], width=8),
        ]),
        ("Availability", [
            Panel("Up", "1 while Prometheus can scrape the instance (DDQDown when 0 for 2 min).",
                  [target(f"up{{{SEL}}}", "{{instance}}")], kind="stat", width=6,
                  mappings=UP_MAPPING),
            Panel("Readiness probes", "/readyz probed from outside: the blackbox exporter "
                  "(job ddq-readyz, DDQNotReady) and `ddq monitor`. 1 is ready.",
                  [target('probe_success{job="ddq-readyz"}', "blackbox {{instance}}"),
                   target("ddq_monitor_up", "ddq monitor {{target}}")],
                  width=6, max=1),
            Panel("/readyz answers by status", "What the platform's probes got from /readyz: "
                  "200 ready, 503 not ready.",
                  [target(f"sum by (status) "
                          f"(rate({requests_total(READYZ)}[{RATE}]))",
                          "{{status}}")], unit="reqps", width=6),
            Panel("Uptime since the monitor started", "Share of `ddq monitor` probes that "
                  "succeeded.", [target("ddq_monitor_uptime_ratio", "{{target}}")],
                  kind="stat", unit="percentunit", width=6),
            Panel("Running versions", "Instances per DDQ and Python version.",
                  [target(f"count by (version, python) (ddq_build_info{{{SEL}}})",
                          "{{version}} (Python {{python}})", fmt="table", instant=True)],
                  kind="table", width=24, height=5),
        ]),
    ]
    return dashboard("ddq-overview", "DDQ / Overview", "Golden signals of the DDQ service: "
                     "traffic, errors, latency, saturation and availability.", rows)


def ingestion() -> dict[str, Any]:
    docs = f"ddq_ingest_documents_total{{{SEL}}}"
    stage = "ddq_ingest_stage_duration_seconds"
    rows: Rows = [
        ("Documents", [
            Panel("Documents by outcome", "Documents ingested per second, by outcome.",
                  [target(f"sum by (outcome) (rate({docs}[{RATE}]))", "{{outcome}}")],
                  unit="ops", stack=True),
            Panel("Documents in the time range", "How many documents each outcome had over "
                  "the dashboard's time range.",
                  [target(f"sum by (outcome) (increase({docs}[{RANGE}]))", "{{outcome}}",
                          instant=True)], kind="bargauge", width=6),
            Panel("Failed documents", "Documents that could not be ingested in the time "
                  "range; each one is worth a look in the logs.",
                  [target(f'sum(increase(ddq_ingest_documents_total{{{SEL}, outcome="failed"}}'
                          f"[{RANGE}])) or vector(0)", "failed", instant=True)],
                  kind="stat", width=6, red_from=1),
            Panel("Chunks written", "Chunks written to the store and the index per second.",
                  [target(f"sum(rate(ddq_ingest_chunks_total{{{SEL}}}[{RATE}]))", "chunks")],
                  unit="ops"),
            Panel("Index and store", "Chunk vectors in Milvus against chunks in the store; "
                  "they differ while DDQIndexStoreDrift would fire.",
                  [target(f'max(ddq_index_entities{{{SEL}, collection="chunks"}})', "index"),
                   target(f"max(ddq_store_chunks{{{SEL}}})", "store")]),
        ]),
        ("Stages", [
            Panel("p95 duration per stage", "95th percentile time of each ingestion stage "
                  "(parse, chunk, embed, index, keyword_index) per group of documents.",
                  [target(quantile(0.95, stage, "stage"), "{{stage}}")], unit="s", width=8),
            Panel("Mean duration per stage", "Mean time of each stage per group.",
                  [target(per_call(stage, "stage"), "{{stage}}")], unit="s", width=8),
            Panel("Where ingestion time goes", "Seconds spent per second in each stage, "
                  "stacked: the largest band is the bottleneck.",
                  [target(f"sum by (stage) (rate({stage}_sum{{{SEL}}}[{RATE}]))", "{{stage}}")],
                  unit="s", width=8, stack=True),
        ]),
    ]
    return dashboard("ddq-ingestion", "DDQ / Ingestion", "Documents, chunks, failures and the "
                     "time of each ingestion stage.", rows)


def retrieval_drafting() -> dict[str, Any]:
    retrieval = "ddq_retrieval_stage_duration_seconds"
    drafts = f"ddq_drafts_total{{{SEL}}}"
    search = "ddq_vector_search_duration_seconds"
    rows: Rows = [
        ("Retrieval", [
            Panel("Questions retrieved", "Questions retrieved for per second (ask, search, "
                  "jobs).", [target(f"sum(rate(ddq_retrieval_questions_total{{{SEL}}}[{RATE}]))",
                                    "questions")], unit="ops", width=6),
            Panel("p95 duration per stage", "95th percentile time of each retrieval stage "
                  "(embed, dense, keyword, fusion, rerank) per batch of questions.",
                  [target(quantile(0.95, retrieval, "stage"), "{{stage}}")], unit="s", width=6),
            Panel("Mean duration per stage", "Mean time of each retrieval stage per batch.",
                  [target(per_call(retrieval, "stage"), "{{stage}}")], unit="s", width=6),
            Panel("Passages per question", "Median, 95th percentile and mean number of "
                  "passages returned per question; near 0 means the knowledge base has "
                  "nothing on what is asked.",
                  [target(quantile(0.5, "ddq_retrieval_hits"), "p50"),
                   target(quantile(0.95, "ddq_retrieval_hits"), "p95"),
                   target(f"sum(rate(ddq_retrieval_hits_sum{{{SEL}}}[{RATE}])) / "
                          f"sum(rate(ddq_retrieval_hits_count{{{SEL}}}[{RATE}]))", "mean")],
                  width=6),
        ]),
        ("Drafting", [
            Panel("Drafting p95 by drafter", "95th percentile time to draft a batch of "
                  "answers, extractive or LLM.",
                  [target(quantile(0.95, "ddq_draft_duration_seconds", "drafter"),
                          "{{drafter}}")], unit="s", width=6),
            Panel("Drafts by outcome", "Drafted answers per second: answered, library, "
                  "needs_input, fallback (the LLM was unreachable).",
                  [target(f"sum by (outcome) (rate({drafts}[{RATE}]))", "{{outcome}}")],
                  unit="ops", width=6, stack=True),
            Panel("Share of drafts by outcome", "Each outcome's share of all drafts.",
                  [target(f"sum by (outcome) (rate({drafts}[{RATE}])) / ignoring (outcome) "
                          f"group_left sum(rate({drafts}[{RATE}]))", "{{outcome}}")],
                  unit="percentunit", width=6, stack=True, max=1),
            Panel("Confidence of drafts", "How many drafts fell in each confidence bucket "
                  "(cumulative: le 0.5 counts every draft at 0.5 or below) over the time range.",
                  [target(f"sum by (le) (increase(ddq_draft_confidence_bucket{{{SEL}}}"
                          f"[{RANGE}]))", "≤ {{le}}", fmt="heatmap", instant=True)],
                  kind="bargauge", width=6),
            Panel("Median confidence", "Median confidence of drafts.",
                  [target(quantile(0.5, "ddq_draft_confidence"), "p50")], width=24, height=6,
                  max=1),
        ]),
        ("Vector index", [
            Panel("Entities per collection", "Vectors in each Milvus collection (chunks, "
                  "library questions).",
                  [target(f"max by (collection) (ddq_index_entities{{{SEL}}})",
                          "{{collection}}")], width=8),
            Panel("Search p95 by collection", "95th percentile Milvus search call time.",
                  [target(quantile(0.95, search, "collection"), "{{collection}}")], unit="s",
                  width=8),
            Panel("Searches per second", "Milvus search calls per second by collection.",
                  [target(f"sum by (collection) (rate({search}_count{{{SEL}}}[{RATE}]))",
                          "{{collection}}")], unit="ops", width=8),
        ]),
    ]
    return dashboard("ddq-retrieval-drafting", "DDQ / Retrieval and drafting", "Where a "
                     "question's time goes: retrieval stages, drafting, outcomes, confidence "
                     "and the vector index.", rows)


def models() -> dict[str, Any]:
    sel = SEL + ', model=~"$model"'

    def by_model(metric: str, extra: str = "") -> str:
        return f"sum by (model, role) (rate({metric}{{{sel}{extra}}}[{RATE}]))"

    def tokens_cost(kind: str, price: str) -> str:
        return (f'sum by (model, role) (increase(ddq_model_tokens_total{{{sel}, kind="{kind}"}}'
                f"[{RANGE}])) * ${price} / 1e6")

    who = "{{model}} ({{role}})"
    rows: Rows = [
        ("Calls", [
            Panel("Calls by model and role", "Model calls (attempts) per second.",
                  [target(by_model("ddq_model_calls_total"), who)], unit="ops", width=8),
            Panel("Error ratio", "Failed calls over calls (red from 20%, the DDQModelFailing "
                  "threshold).",
                  [target(f"{by_model('ddq_model_errors_total')} / "
                          f"{by_model('ddq_model_calls_total')}", who)],
                  unit="percentunit", width=8, red_from=0.2),
            Panel("Errors and retries", "Failed calls and retried calls per second.",
                  [target(by_model("ddq_model_errors_total"), "errors " + who),
                   target(by_model("ddq_model_retries_total"), "retries " + who)],
                  unit="ops", width=8),
            Panel("Latency per call, p50 and p95", "Percentiles of one call attempt, by "
                  "model and role (failed attempts included): what a slow or overloaded model "
                  "server looks like first.",
                  [target("histogram_quantile(0.5, sum by (le, model, role) (rate("
                          f"ddq_model_call_duration_seconds_bucket{{{sel}}}[{RATE}])))",
                          "p50 " + who),
                   target("histogram_quantile(0.95, sum by (le, model, role) (rate("
                          f"ddq_model_call_duration_seconds_bucket{{{sel}}}[{RATE}])))",
                          "p95 " + who)], unit="s", width=8),
            Panel("p95 latency of model-bound stages", "95th percentile of the stages that "
                  "wait on models: drafting a batch with the LLM, and embedding questions "
                  "(retrieval) and chunks (ingestion).",
                  [target(quantile(0.95, "ddq_draft_duration_seconds", "drafter",
                                   SEL + ', drafter="llm"'), "LLM drafting"),
                   target(quantile(0.95, "ddq_retrieval_stage_duration_seconds", "stage",
                                   SEL + ', stage="embed"'), "retrieval embed"),
                   target(quantile(0.95, "ddq_ingest_stage_duration_seconds", "stage",
                                   SEL + ', stage="embed"'), "ingestion embed")],
                  unit="s", width=8),
            Panel("Embedding cache hits", "Texts served from the embedding cache per second "
                  "instead of calling the model.",
                  [target(by_model("ddq_model_cache_hits_total"), who)], unit="ops", width=8),
        ]),
        ("Tokens and cost", [
            Panel("Tokens per second", "Tokens used per second, by model, role and kind "
                  "(prompt, completion).",
                  [target(f"sum by (model, role, kind) "
                          f"(rate(ddq_model_tokens_total{{{sel}}}[{RATE}]))",
                          "{{model}} ({{role}}) {{kind}}")], width=8, stack=True),
            Panel("Tokens in the time range", "Tokens used over the dashboard's time range.",
                  [target(f"sum by (model, role, kind) "
                          f"(increase(ddq_model_tokens_total{{{sel}}}[{RANGE}]))",
                          "{{model}} ({{role}}) {{kind}}", instant=True)],
                  kind="bargauge", width=8),
            Panel("Estimated cost in the time range", "Tokens times the prices set in the "
                  "variables (USD per million tokens). Deselect free local models in the "
                  "model variable.",
                  [target(f"{tokens_cost('prompt', 'prompt_price')} + "
                          f"{tokens_cost('completion', 'completion_price')}", who,
                          instant=True)], kind="bargauge", unit="currencyUSD", width=8),
        ]),
        ("Circuit breakers", [
            Panel("Breaker state", "Open (1) while a model's circuit breaker is open or "
                  "half-open: drafts fall back to the extractive drafter.",
                  [target(f"max by (model, role) (ddq_model_breaker_open{{{sel}}})", who)],
                  kind="stat", width=12, mappings=BREAKER_MAPPING, red_from=1),
            Panel("Calls refused by the breaker", "Calls refused per second while a breaker "
                  "was open.", [target(by_model("ddq_model_breaker_refusals_total"), who)],
                  unit="ops", width=12),
        ]),
    ]
    variables = [
        query_variable("model", 'label_values(ddq_model_calls_total{job=~"$job", '
                                'instance=~"$instance"}, model)'),
        textbox("prompt_price", "USD per 1M prompt tokens", "0.15"),
        textbox("completion_price", "USD per 1M completion tokens", "0.60"),
    ]
    return dashboard("ddq-models", "DDQ / Models", "Calls, errors, latency, tokens and "
                     "estimated cost per model and role; circuit breakers and retries.",
                     rows, variables)


def jobs() -> dict[str, Any]:
    questions = f"ddq_job_questions_total{{{SEL}}}"
    runs = f"ddq_job_runs_total{{{SEL}}}"
    rows: Rows = [
        ("Queue", [
            Panel("Jobs by state", "Questionnaire jobs in each state, read from the shared "
                  "database (hence max over instances).",
                  [target(f"max by (state) (ddq_jobs{{{SEL}}})", "{{state}}")], width=12,
                  stack=True),
            Panel("Queued", "Jobs waiting for a worker.",
                  [target(f'max(ddq_jobs{{{SEL}, state="queued"}})', "queued")],
                  kind="stat", width=4),
            Panel("Running", "Jobs being drafted now.",
                  [target(f'max(ddq_jobs{{{SEL}, state="running"}})', "running")],
                  kind="stat", width=4),
            Panel("Failed", "Jobs that ended in failure and wait for a person.",
                  [target(f'max(ddq_jobs{{{SEL}, state="failed"}})', "failed")],
                  kind="stat", width=4, red_from=1),
        ]),
        ("Throughput", [
            Panel("Questions drafted per second", "Questions drafted by jobs per second, per "
                  "instance.", [target(f"sum by (instance) (rate({questions}[{RATE}]))",
                                       "{{instance}}")], unit="ops", width=8, stack=True),
            Panel("Backlog and progress", "Queued jobs against questions drafted per second "
                  "over 10 min: DDQJobBacklog fires when jobs queue and nothing progresses.",
                  [target(f'max(ddq_jobs{{{SEL}, state="queued"}})', "queued jobs"),
                   target(f"sum(rate({questions}[10m]))", "questions/s (10 min)")], width=8),
            Panel("Job runs by result", "Job runs ended per second: done, paused, requeued "
                  "(an instance stopped), failed.",
                  [target(f"sum by (result) (rate({runs}[{RATE}]))", "{{result}}")],
                  unit="ops", width=8, stack=True),
            Panel("Job runs in the time range", "Job runs ended over the time range, by "
                  "result.", [target(f"sum by (result) (increase({runs}[{RANGE}]))",
                                     "{{result}}", instant=True)],
                  kind="bargauge", width=12),
            Panel("Failed runs in the time range", "Job runs that failed over the time "
                  "range.", [target(f'sum(increase(ddq_job_runs_total{{{SEL}, result="failed"}}'
                                    f"[{RANGE}])) or vector(0)", "failed", instant=True)],
                  kind="stat", width=12, red_from=1),
        ]),
    ]
    return dashboard("ddq-jobs", "DDQ / Jobs", "The questionnaire job queue: jobs by state, "
                     "questions drafted per second, backlog and run results.", rows)


def build() -> dict[str, dict[str, Any]]:
    """Every dashboard, by file name."""
    return {"ddq-overview.json": overview(), "ddq-ingestion.json": ingestion(),
            "ddq-retrieval-drafting.json": retrieval_drafting(), "ddq-models.json": models(),
            "ddq-jobs.json": jobs()}


def render(board: dict[str, Any]) -> str:
    return json.dumps(board, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="only compare; exit 1 when a file is missing or differs")
    args = parser.parse_args(argv)
    stale = []
    for name, board in build().items():
        path = OUT / name
        text = render(board)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            OUT.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"out of date: {', '.join(stale)}; run python {Path(__file__).name}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
