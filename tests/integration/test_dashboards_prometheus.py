"""The Grafana dashboards and the alert rules, run by a REAL Prometheus against a REAL DDQ.

A DDQ service (real SQLite, Milvus Lite, the real all-MiniLM-L6-v2 embedder, drafting with
the openai provider against the FAKE OpenAI-compatible server of ``support``) runs under
uvicorn on a loopback port, with the real blackbox exporter probing its ``/readyz`` (job
``ddq-readyz``) and a real ``ddq monitor`` process probing it too. A real ``prometheus``
scrapes all three every second and evaluates ``deploy/prometheus/alerts.yml``. A load in
two rounds exercises every route family the dashboards chart: ingestion (with a file that
fails), ask, search, questionnaire jobs to completion, the model endpoints, 401/404
responses, one 503 (the drafting model is made to fail for one call) and readiness. The
first round creates the labelled series, the second makes them grow while Prometheus
watches, so rates and quantiles have two different samples to work with.

Then every target of every panel of every dashboard is sent to ``/api/v1/query``, with
Grafana's variables replaced: ``$__rate_interval`` and ``$__range`` by ``5m`` (longer than
the test, so every window covers all of its load), ``$job``/``$instance`` by this service,
other query variables by their "All" value and text boxes by their default. Each must return
at least one series with a finite value; an empty or all-NaN answer is a bug in the panel,
the metric or the load, and the failure lists every such expression.

Alert rules are mostly comparisons that are, correctly, false on a healthy service
(``ratio > 0.05``), so their results would be empty. Each rule's expression is read with a
small PromQL tokenizer (strings, label matchers and ``[...]`` ranges are single tokens):
it is split at top-level ``and``/``or``/``unless`` into operands (a leading ``on(...)`` /
``ignoring(...)`` dropped), and from each operand the top-level comparison against a number
literal (``> 0.05``, ``== bool 0``) is removed. Each remaining operand, the data the rule
compares, must return data like a panel's query. Prometheus must also report every rule as
evaluated without error.

The static tests check the JSON files are what ``deploy/grafana/build_dashboards.py``
writes, are well formed (unique panel ids, every target on datasource uid ``prometheus``),
and use only metric names DDQ's registries can produce (plus ``up`` and ``probe_success``).
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import yaml

from ddq.api.app import create_app
from ddq.config import Settings
from ddq.kb import KnowledgeBase
from ddq.metrics import REGISTRY, StateCollector
from ddq.models.base import Embedder
from ddq.models.calls import CallPolicy, GuardedEmbedder
from ddq.monitor import Monitor
from ddq.store.keys import KeyStore, Role
from support.misbehaving_server import MisbehavingServer, misbehaving_server
from support.promql import COMPARISONS, lex, metric_names, strip_thresholds
from support.service import free_port, serve

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
GRAFANA = REPO / "deploy" / "grafana"
RULES = REPO / "deploy" / "prometheus" / "alerts.yml"
KNOWLEDGE = REPO / "examples" / "knowledge"
QUESTIONNAIRE = REPO / "examples" / "questionnaires" / "harborline_vendor_security.xlsx"
WINDOW = "5m"
EMBEDDER = "local:all-MiniLM-L6-v2"
#: Metrics that come from outside DDQ's registries.
EXTERNAL = {"up": "Prometheus, per target", "probe_success": "the blackbox exporter"}


def load_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_dashboards", GRAFANA / "build_dashboards.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def dashboards() -> dict[str, dict[str, Any]]:
    return {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((GRAFANA / "dashboards").glob("*.json"))
    }


def panel_targets(board: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for panel in board["panels"]:
        for nested in [panel, *panel.get("panels", [])]:
            for target in nested.get("targets", []):
                yield nested, target


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]


def substitute(expr: str, board: dict[str, Any], chosen: dict[str, str]) -> str:
    """The query Grafana would send, for the variable values in ``chosen``."""
    values = {"__rate_interval": WINDOW, "__range": WINDOW, "__interval": WINDOW}
    for variable in board["templating"]["list"]:
        name = variable["name"]
        if variable["type"] in ("textbox", "constant"):
            values[name] = variable["query"]
        else:
            values[name] = chosen.get(name, variable.get("allValue") or ".+")

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in values:
            raise KeyError(f"unknown variable ${name} in {expr!r}")
        return values[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, expr)


def ddq_metric_names() -> set[str]:
    """Every series name DDQ's collectors can produce (the service's and ``ddq monitor``'s)."""
    families = [
        *REGISTRY.collect(),
        *Monitor([]).registry.collect(),
        # The store's chunk count appears once the service points it at a store.
        *StateCollector(dict, dict, lambda: {"chunks": 0}).collect(),
    ]
    suffixes = {
        "counter": ["_total"],
        "gauge": [""],
        "info": ["_info"],
        "histogram": ["_bucket", "_sum", "_count"],
        "summary": ["_sum", "_count"],
    }
    return {family.name + suffix for family in families for suffix in suffixes[family.type]}


# --- static checks ------------------------------------------------------------------------------


def test_the_json_files_are_what_the_builder_writes() -> None:
    builder = load_builder()
    built = builder.build()
    assert sorted(built) == sorted(dashboards()), "dashboards/ and the builder disagree"
    for name, board in built.items():
        on_disk = (GRAFANA / "dashboards" / name).read_text(encoding="utf-8")
        assert on_disk == builder.render(board), (
            f"{name} is out of date: run python deploy/grafana/build_dashboards.py"
        )


def test_dashboards_are_well_formed_and_provisioned() -> None:
    boards = dashboards()
    names = "overview ingestion retrieval-drafting models jobs".split()
    assert set(boards) == {f"ddq-{name}.json" for name in names}
    uids = [board["uid"] for board in boards.values()]
    assert len(set(uids)) == len(uids)
    for name, board in boards.items():
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), f"{name}: duplicate panel ids"
        assert board["schemaVersion"] >= 36
        for panel in board["panels"]:
            assert {"h", "w", "x", "y"} <= set(panel["gridPos"]), (name, panel["title"])
            assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, (name, panel["title"])
            if panel["type"] != "row":
                assert panel["datasource"] == {"type": "prometheus", "uid": "prometheus"}
                assert panel["targets"] and panel.get("description"), (name, panel["title"])
                refs = [t["refId"] for t in panel["targets"]]
                assert len(refs) == len(set(refs)), (name, panel["title"])
        for panel, target in panel_targets(board):
            assert target["datasource"]["uid"] == "prometheus", (name, panel["title"])
            assert target["expr"].strip(), (name, panel["title"])
    provisioning = GRAFANA / "provisioning"
    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    assert source["uid"] == source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "ddq.yml").read_text())["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"


def test_every_metric_name_exists() -> None:
    known = ddq_metric_names() | set(EXTERNAL)
    unknown = []
    for name, board in dashboards().items():
        for panel, target in panel_targets(board):
            for metric in metric_names(substitute(target["expr"], board, {})) - known:
                unknown.append(f"{name} / {panel['title']}: {metric}")
    for rule in alert_rules():
        for metric in metric_names(rule["expr"]) - known:
            unknown.append(f"alerts.yml / {rule['alert']}: {metric}")
    assert not unknown, "metrics no DDQ registry defines:\n" + "\n".join(unknown)


def test_thresholds_are_stripped_from_the_alert_rules() -> None:
    assert strip_thresholds('sum(rate(x{a=">1"}[5m])) / sum(rate(y[5m])) > 0.05') == [
        'sum(rate(x{a=">1"}[5m])) / sum(rate(y[5m]))'
    ]
    assert strip_thresholds("(a > 1) and on (l) b == bool 0 unless c < -2") == ["a", "b", "c"]
    assert strip_thresholds("a > b") == ["a > b"]
    stripped = {rule["alert"]: strip_thresholds(rule["expr"]) for rule in alert_rules()}
    assert stripped["DDQDown"] == ['up{job="ddq"}']
    assert len(stripped["DDQJobBacklog"]) == 2
    for alert, queries in stripped.items():
        for query in queries:
            assert not any(text in COMPARISONS for _, text in lex(query)), (alert, query)


# --- the real thing -------------------------------------------------------------------------------


def binary(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"{name} is not installed: apt-get install {package} (scripts/system-packages.sh)",
            pytrace=False,
        )
    return found


@contextmanager
def running(command: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_until(
    check: Callable[[], bool], what: str, timeout_s: float = 30, logs: tuple[Path, ...] = ()
) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if check():
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            tails = "\n".join(
                f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in logs if p.exists()
            )
            pytest.fail(f"timed out waiting for {what}\n{tails}", pytrace=False)
        time.sleep(0.2)


BLACKBOX = {
    "modules": {
        "http_2xx": {"prober": "http", "timeout": "5s", "http": {"preferred_ip_protocol": "ip4"}}
    }
}


def prometheus_config(service: str, blackbox: str, monitor: str) -> dict[str, Any]:
    return {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [
            {"job_name": "ddq", "static_configs": [{"targets": [service]}]},
            {
                "job_name": "ddq-readyz",
                "metrics_path": "/probe",
                "params": {"module": ["http_2xx"]},
                "static_configs": [{"targets": [f"http://{service}/readyz"]}],
                "relabel_configs": [
                    {"source_labels": ["__address__"], "target_label": "__param_target"},
                    {"source_labels": ["__param_target"], "target_label": "instance"},
                    {"target_label": "__address__", "replacement": blackbox},
                ],
            },
            {"job_name": "ddq-monitor", "static_configs": [{"targets": [monitor]}]},
        ],
    }


class Prometheus:
    """A real Prometheus (and the two probers it scrapes) for the service at ``service``."""

    def __init__(self, stack: ExitStack, folder: Path, service: str) -> None:
        prometheus = binary("prometheus", "prometheus")
        blackbox = binary("prometheus-blackbox-exporter", "prometheus-blackbox-exporter")
        port, blackbox_port, monitor_port = free_port(), free_port(), free_port()
        self.logs = tuple(folder / f"{name}.log" for name in ("prometheus", "blackbox", "monitor"))
        (folder / "blackbox.yml").write_text(yaml.safe_dump(BLACKBOX))
        config = prometheus_config(
            service, f"127.0.0.1:{blackbox_port}", f"127.0.0.1:{monitor_port}"
        )
        (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
        commands = [
            [
                prometheus,
                f"--config.file={folder / 'prometheus.yml'}",
                f"--storage.tsdb.path={folder / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            [
                blackbox,
                f"--config.file={folder / 'blackbox.yml'}",
                f"--web.listen-address=127.0.0.1:{blackbox_port}",
            ],
            # ddq monitor, as an operator runs it
            [
                sys.executable,
                "-m",
                "ddq.cli",
                "monitor",
                f"http://{service}/readyz",
                *("--interval", "1", "--metrics-port", str(monitor_port)),
            ],
        ]
        for command, log in zip(commands, self.logs, strict=True):
            stack.enter_context(running(command, log))
        self.client = stack.enter_context(httpx.Client(base_url=f"http://127.0.0.1:{port}"))
        # It listens before its storage is open, answering 503 until then.
        self.wait_until(lambda: self.client.get("/-/ready").status_code == 200,
                        "Prometheus ready")
        self.wait_until(lambda: self.query("count(up == 1)") == [3.0], "all three targets up")

    def wait_until(self, check: Callable[[], bool], what: str) -> None:
        wait_until(check, what, 60, self.logs)

    def query(self, expr: str) -> list[float]:
        """The values of an instant query, one per series (a scalar is one value)."""
        body = self.client.get("/api/v1/query", params={"query": expr}).json()
        if body["status"] != "success":
            raise ValueError(f"{body.get('errorType')}: {body.get('error')}")
        data = body["data"]
        if data["resultType"] == "scalar":
            return [float(data["result"][1])]
        return [float(series["value"][1]) for series in data["result"]]

    def wait_for_a_scrape(self) -> None:
        """Until the service has been scraped after this moment."""
        moment = time.time()
        self.wait_until(
            lambda: self.query(f'min(timestamp(up{{job="ddq"}})) > {moment}') != [],
            "a scrape of the service",
        )

    def problem(self, expr: str) -> str | None:
        """Why ``expr`` shows nothing on a graph, or None when it has data."""
        try:
            values = self.query(expr)
        except ValueError as exc:
            return f"error: {exc}"
        if not values:
            return "no series"
        if not any(math.isfinite(v) for v in values):
            return f"only NaN/Inf in {len(values)} series"
        return None

    def api(self, path: str) -> Any:
        return self.client.get(f"/api/v1/{path}").json()["data"]


def dashboard_queries(prom: Prometheus, chosen: dict[str, str]) -> list[tuple[str, str]]:
    """(where, query) for every panel target, as Grafana would send it; checks on the way
    that every ``label_values`` variable finds values (the chosen one among them)."""
    queries = []
    for name, board in dashboards().items():
        for panel, target in panel_targets(board):
            where = f"{name} / {panel['title']} [{target['refId']}]"
            queries.append((where, substitute(target["expr"], board, chosen)))
        for variable in board["templating"]["list"]:
            found = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", variable.get("definition", ""))
            if found:
                selector = substitute(found.group(1), board, chosen)
                values = prom.client.get(
                    f"/api/v1/label/{found.group(2)}/values", params={"match[]": selector}
                ).json()["data"]
                assert values, f"{name}: variable ${variable['name']} has no values"
                assert chosen.get(variable["name"], values[0]) in values, (name, values)
    return queries


def rule_queries() -> list[tuple[str, str]]:
    return [
        (f"alerts.yml / {rule['alert']} (operand {i})", query)
        for rule in alert_rules()
        for i, query in enumerate(strip_thresholds(rule["expr"]), start=1)
    ]


def upload(api: httpx.Client, *files: tuple[str, bytes]) -> list[dict[str, Any]]:
    response = api.post("/api/documents", files=[("files", f) for f in files])
    assert response.status_code == 200, response.text
    return list(response.json())


def answer_questionnaire(api: httpx.Client, name: str, content: bytes) -> None:
    created = api.post("/api/questionnaires", files={"file": (name, content)})
    assert created.status_code == 201, created.text
    url = f"/api/questionnaires/{created.json()['id']}"
    wait_until(lambda: api.get(url).json()["state"] in ("done", "failed"), f"job {name}", 60)
    assert api.get(url).json()["state"] == "done"


def first_round(api: httpx.Client) -> None:
    """Creates the labelled series: one document, one answer, one small job, one embedding."""
    first = KNOWLEDGE / "encryption-and-key-management.md"
    assert upload(api, (first.name, first.read_bytes()))[0]["outcome"] == "added"
    assert api.post("/api/ask", json={"question": "Is data encrypted at rest?"}).is_success
    answer_questionnaire(
        api,
        "warm-up.csv",
        b"Question\nIs data encrypted at rest?\nIs multi-factor authentication required?\n",
    )
    assert api.post("/v1/embeddings", json={"model": EMBEDDER, "input": ["warm"]}).is_success


def second_round(api: httpx.Client, url: str, llm: MisbehavingServer) -> None:
    """Every route family again, while Prometheus watches the counters grow."""
    files = [(p.name, p.read_bytes()) for p in sorted(KNOWLEDGE.iterdir())]
    outcomes = {
        r["name"]: r["outcome"]
        for r in upload(api, *files, ("broken.pdf", b"%PDF-1.4 this is not a PDF"))
    }
    assert outcomes["broken.pdf"] == "failed"
    assert outcomes["encryption-and-key-management.md"] == "unchanged"
    assert api.get("/api/documents").is_success
    for question in (
        "Do you have a SOC 2 report?",
        "Is MFA required for administrators?",
        "Do you hold a FedRAMP High authorization?",
    ):
        assert api.post("/api/ask", json={"question": question}).is_success
    assert api.post("/api/search", json={"question": "incident notification"}).is_success
    answer_questionnaire(api, QUESTIONNAIRE.name, QUESTIONNAIRE.read_bytes())
    assert api.get("/api/questionnaires").is_success
    assert api.post("/v1/embeddings", json={"model": EMBEDDER, "input": ["warm"]}).is_success
    assert api.get("/v1/models").is_success
    assert api.get("/api/questionnaires/999999").status_code == 404
    assert api.get("/no/such/path").status_code == 404
    assert httpx.get(f"{url}/api/me").status_code == 401
    assert api.get("/readyz", params={"verbose": "true"}).status_code == 200
    # Last, so that no job or check depends on it: the drafting model fails, DDQ answers 503.
    llm.mode = "status:503"
    try:
        failed = api.post("/v1/generate", json={"messages": [{"role": "user", "content": "Hello"}]})
    finally:
        llm.mode = "ok"
    assert failed.status_code == 503, failed.text


@pytest.mark.slow
def test_every_dashboard_query_and_alert_rule_returns_data(
    tmp_path: Path, local_embedder: Embedder
) -> None:
    port = free_port()
    service, url = f"127.0.0.1:{port}", f"http://127.0.0.1:{port}"
    with ExitStack() as stack:
        llm = stack.enter_context(misbehaving_server())
        settings = Settings(
            home=tmp_path / "home",
            embedder=EMBEDDER,
            generator="openai:dashboards-llm",
            openai_base_url=llm.base_url,
            model_retries=1,
            model_backoff_s=0.01,
            model_timeout_s=10,
            rate_limit_per_minute=0,
        )
        # Wrapped as the model registry wraps it, so its calls are measured.
        kb = KnowledgeBase(settings, embedder=GuardedEmbedder(local_embedder, CallPolicy()))
        stack.callback(kb.close)
        key = KeyStore(kb.store.engine).create(workspace="default", name="load", role=Role.ADMIN)
        stack.enter_context(serve(create_app(settings, kb=kb), port=port))
        prom = Prometheus(stack, tmp_path, service)
        api = stack.enter_context(
            httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key[1]}"}, timeout=60)
        )
        first_round(api)
        prom.wait_for_a_scrape()
        second_round(api, url, llm)
        prom.wait_for_a_scrape()
        prom.wait_for_a_scrape()  # two samples after the load

        queries = dashboard_queries(prom, {"job": "ddq", "instance": service}) + rule_queries()
        problems = [
            f"{where}: {expr}\n    {problem}"
            for where, expr in queries
            if (problem := prom.problem(expr)) is not None
        ]
        rules = [rule for group in prom.api("rules")["groups"] for rule in group["rules"]]
        targets = prom.api("targets")["activeTargets"]
    print(f"checked {len(queries)} expressions against Prometheus")
    assert not problems, f"{len(problems)} of {len(queries)} expressions returned no data:\n" + (
        "\n".join(problems)
    )
    assert len(rules) == len(alert_rules())
    assert all(rule["health"] == "ok" for rule in rules), [
        (rule["name"], rule["health"], rule.get("lastError")) for rule in rules
    ]
    assert all(t["health"] == "up" for t in targets), [
        (t["scrapePool"], t["lastError"]) for t in targets
    ]
