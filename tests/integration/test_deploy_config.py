"""The deployment files pass the tools that read them, and agree with the code.

Each validator runs on the real file and on a deliberately broken copy, so a validator that
stopped looking would fail here too: actionlint (with shellcheck) on the CI workflow,
hadolint on the Dockerfile, kubernetes-validate on the manifests, Docker Compose's own
``config`` on the compose files, ``amtool`` on Alertmanager's and ``promtool`` on
Prometheus's configuration. Docker cannot run on these machines, so the image itself is
checked by reading the Dockerfile; its contents come from ``scripts/build-venv.sh``.

The validators come with the dev extra (.venv/bin) and scripts/system-packages.sh
(amtool, promtool); a missing one fails the test with the command that installs it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from ddq.cli import app
from ddq.config import Settings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = DEPLOY / "docker-compose.yml"
STAGING = DEPLOY / "docker-compose.staging.yml"
PROMETHEUS = DEPLOY / "prometheus" / "prometheus.yml"
ALERTMANAGER = DEPLOY / "alertmanager" / "alertmanager.yml"
#: The dev extra's validators live beside this interpreter (.venv/bin).
BIN = Path(sys.executable).parent
DEV_HINT = "install the dev extra: .venv/bin/pip install -e '.[dev]'"
SYSTEM_HINT = "run scripts/system-packages.sh"
#: Values for the secrets the compose files require; never real ones.
COMPOSE_SECRETS = {
    "POSTGRES_PASSWORD": "test-only",
    "MINIO_ROOT_USER": "test-only",
    "MINIO_ROOT_PASSWORD": "test-only",
    "GRAFANA_ADMIN_PASSWORD": "test-only",
}
#: Read by load_settings itself (which file to read), not a Settings field.
EXTRA_DDQ_NAMES = {"DDQ_CONFIG"}


def tool_path() -> str:
    return f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"


def tool(name: str, hint: str) -> str:
    found = shutil.which(name, path=tool_path())
    if found is None:
        pytest.fail(f"{name} is not installed; {hint}")
    return found


def run(
    args: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PATH": tool_path(), **(env or {})}
    return subprocess.run(
        args, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120, check=False
    )


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# --- GitHub Actions ---------------------------------------------------------------------------


def actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    # Without shellcheck on PATH actionlint skips the run: scripts without a word.
    tool("shellcheck", DEV_HINT)
    return run([tool("actionlint", DEV_HINT), "-no-color", str(path)], cwd=ROOT)


def test_the_workflow_passes_actionlint() -> None:
    result = actionlint(WORKFLOW)
    assert result.returncode == 0, output(result)


def test_actionlint_rejects_a_broken_workflow(tmp_path: Path) -> None:
    workflow = load_yaml(WORKFLOW)
    workflow["jobs"]["docker"]["needs"] = ["no-such-job"]
    workflow["jobs"]["lint"]["steps"].append({"run": 'cd $UNQUOTED_DIR && echo "$(ls)"'})
    broken = tmp_path / "ci.yml"
    broken.write_text(yaml.safe_dump(workflow, sort_keys=False), encoding="utf-8")
    result = actionlint(broken)
    assert result.returncode != 0
    assert "no-such-job" in output(result)
    assert "shellcheck" in output(result)


# --- Dockerfile -----------------------------------------------------------------------------


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return run([tool("hadolint", DEV_HINT), "--no-color", str(path)], cwd=ROOT)


def test_the_dockerfile_passes_hadolint() -> None:
    result = hadolint(DOCKERFILE)
    assert result.returncode == 0, output(result)


def test_hadolint_rejects_a_broken_dockerfile(tmp_path: Path) -> None:
    broken = tmp_path / "Dockerfile"
    broken.write_text(
        "FROM python:latest\nRUN apt-get update && apt-get install gcc\nWORKDIR src\n",
        encoding="utf-8",
    )
    result = hadolint(broken)
    assert result.returncode != 0
    for rule in ("DL3007", "DL3008", "DL3000"):  # latest tag, unpinned apt, relative WORKDIR
        assert rule in output(result)


def test_the_image_build_script_passes_shellcheck() -> None:
    result = run([tool("shellcheck", DEV_HINT), "scripts/build-venv.sh"], cwd=ROOT)
    assert result.returncode == 0, output(result)


def dockerfile_stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined), split into stages."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    stages: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


BUILD_TOOLS = (
    "gcc",
    "g++",
    "clang",
    "make",
    "cmake",
    "build-essential",
    "python3-dev",
    "libc6-dev",
    "pip install",
    "apt-get",
    "apk ",
)


def test_the_final_image_runs_as_non_root_and_copies_no_build_tools() -> None:
    *builders, final = dockerfile_stages()
    assert builders, "the Dockerfile should build in a separate stage"
    assert final[0].split()[1] == builders[0][0].split()[1], "final stage: the same slim base"
    users = [line.split()[1] for line in final if line.upper().startswith("USER ")]
    assert users, "the final stage sets no USER: it would run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert users[-1].split(":")[0] == "10001"
    copies = [line.split()[1:] for line in final if line.upper().startswith("COPY ")]
    sources = sorted(src for args in copies for src in args[1:-1])
    assert all(args[0] == "--from=builder" for args in copies), copies
    assert sources == ["/data/models", "/opt/venv"], sources
    for line in final:
        if line.upper().startswith("RUN "):
            for word in BUILD_TOOLS:
                assert word not in line, f"final stage installs build tools: {line}"
    # The builder's environment is the one scripts/build-venv.sh makes (tested by hand).
    assert any("scripts/build-venv.sh /opt/venv /data" in line for line in builders[-1])


def command_options(args: list[str]) -> None:
    """``args`` is a valid ``ddq serve`` command line: every option exists, every value parses."""
    assert args[:2] == ["ddq", "serve"], args
    group: Any = typer.main.get_command(app)
    serve = group.commands["serve"]
    known = {opt for param in serve.params for opt in param.opts}
    given = [a for a in args[2:] if a.startswith("--")]
    assert set(given) <= known, f"ddq serve has no {set(given) - known}"
    serve.make_context("serve", list(args[2:]))  # raises on a bad value


def test_the_image_serves_with_options_ddq_serve_has() -> None:
    *_, final = dockerfile_stages()
    cmd = [line for line in final if line.upper().startswith("CMD ")]
    command_options(json.loads(cmd[-1][4:]))
    text = " ".join(final)
    assert "EXPOSE 8000" in text
    assert "/livez" in next(line for line in final if line.startswith("HEALTHCHECK"))
    for variable in ("HF_HUB_OFFLINE=1", "TRANSFORMERS_OFFLINE=1"):
        assert variable in text


def test_the_build_context_holds_what_the_dockerfile_copies() -> None:
    allowed = {
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.startswith("!")
    }
    for stage in dockerfile_stages():
        for line in stage:
            args = line.split()[1:]
            if line.upper().startswith("COPY ") and not args[0].startswith("--from"):
                for source in args[:-1]:
                    assert source.rstrip("/") in allowed, f"{source} is not in the context"


# --- Kubernetes -----------------------------------------------------------------------------


def manifests() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def kubernetes_validate(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    return run([tool("kubernetes-validate", DEV_HINT), "--strict", *map(str, paths)], cwd=K8S)


def test_every_manifest_passes_kubernetes_validate() -> None:
    paths = manifests()
    assert len(paths) >= 6
    result = kubernetes_validate(paths)
    assert result.returncode == 0, output(result)
    # A kind without a schema is only a warning: require a pass for every file.
    for path in paths:
        assert re.search(rf"{re.escape(path.name)} passed", output(result)), output(result)


@pytest.mark.parametrize(
    ("field", "value", "complaint"),
    [
        ("replica", 2, "replica"),  # misspelt: --strict rejects unknown fields
        ("replicas", "two", "two"),  # the wrong type
    ],
)
def test_kubernetes_validate_rejects_a_broken_manifest(
    tmp_path: Path, field: str, value: object, complaint: str
) -> None:
    deployment = load_yaml(K8S / "deployment.yaml")
    deployment["spec"][field] = value
    broken = tmp_path / "deployment.yaml"
    broken.write_text(yaml.safe_dump(deployment), encoding="utf-8")
    result = kubernetes_validate([broken])
    assert result.returncode != 0
    assert complaint in output(result)


def test_kustomization_applies_every_manifest_but_the_placeholder_secret() -> None:
    kustomization = load_yaml(K8S / "kustomization.yaml")
    listed = set(kustomization["resources"])
    assert listed == {p.name for p in manifests()} - {"secret.yaml"}
    images = {image["name"] for image in kustomization["images"]}
    for path in manifests():
        doc = load_yaml(path)
        if doc["kind"] in {"Deployment", "Job"}:
            for container in doc["spec"]["template"]["spec"]["containers"]:
                assert container["image"].rsplit(":", 1)[0] in images, path.name


def test_the_deployment_probes_health_runs_as_non_root_and_is_scraped() -> None:
    deployment = load_yaml(K8S / "deployment.yaml")
    pod = deployment["spec"]["template"]
    assert pod["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["spec"]["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    command_options(container["command"])
    job = load_yaml(K8S / "migrate-job.yaml")
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    assert migrate["command"] == ["ddq", "migrate"]
    from typer.main import get_command

    from ddq.cli import app

    assert "migrate" in get_command(app).commands  # type: ignore[attr-defined]


# --- Docker Compose -------------------------------------------------------------------------


def compose(
    tmp_path: Path, *files: Path, extra: tuple[str, ...] = (), env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    # An empty env file: a developer's deploy/.env must not decide the outcome.
    empty = tmp_path / "empty.env"
    empty.write_text("", encoding="utf-8")
    args = [tool("docker-compose", DEV_HINT), "--env-file", str(empty)]
    for file in files:
        args += ["-f", str(file)]
    return run(
        [*args, "config", *extra],
        cwd=tmp_path,
        env={**COMPOSE_SECRETS, "DDQ_IMAGE_TAG": "sha-test", **(env or {})},
    )


def rendered(tmp_path: Path, *files: Path) -> dict[str, Any]:
    result = compose(tmp_path, *files, extra=("--format", "json"))
    assert result.returncode == 0, output(result)
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


@pytest.mark.parametrize("overlay", [False, True], ids=["base", "base+staging"])
def test_the_compose_files_are_valid(tmp_path: Path, overlay: bool) -> None:
    files = (COMPOSE, STAGING) if overlay else (COMPOSE,)
    result = compose(tmp_path, *files, extra=("--quiet",))
    assert result.returncode == 0, output(result)
    services = rendered(tmp_path, *files)["services"]
    assert {
        "ddq",
        "postgres",
        "milvus",
        "etcd",
        "minio",
        "prometheus",
        "alertmanager",
        "grafana",
    } <= set(services)
    for name in ("ddq", "milvus"):
        conditions = {dep["condition"] for dep in services[name]["depends_on"].values()}
        assert conditions == {"service_healthy"}, name
    # Grafana loads the dashboards from where its provisioning says they are.
    provider = load_yaml(DEPLOY / "grafana" / "provisioning" / "dashboards" / "ddq.yml")
    mounts = {m["source"]: m["target"] for m in services["grafana"]["volumes"] if "source" in m}
    dashboards = mounts[str(DEPLOY / "grafana" / "dashboards")]
    assert dashboards == provider["providers"][0]["options"]["path"]
    assert mounts[str(DEPLOY / "grafana" / "provisioning")] == "/etc/grafana/provisioning"
    if overlay:
        assert services["ddq"]["image"].endswith(":sha-test")
        assert [p["published"] for p in services["ddq"]["ports"]] == ["18000"]


def test_compose_requires_the_secrets_and_commits_none(tmp_path: Path) -> None:
    empty = {name: "" for name in COMPOSE_SECRETS}
    result = compose(tmp_path, COMPOSE, extra=("--quiet",), env=empty)
    assert result.returncode != 0
    for name in COMPOSE_SECRETS:
        assert name in output(result)
    example = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    for name in COMPOSE_SECRETS:
        assert re.search(rf"^{name}=$", example, re.M), f"{name} has a value in .env.example"
    # Every variable the compose files read is explained in .env.example.
    used = set(
        re.findall(
            r"\$\{([A-Z0-9_]+)",
            COMPOSE.read_text(encoding="utf-8") + STAGING.read_text(encoding="utf-8"),
        )
    )
    assert used <= set(re.findall(r"^#? ?([A-Z0-9_]+)=", example, re.M))


def test_compose_config_rejects_a_broken_file(tmp_path: Path) -> None:
    broken = load_yaml(COMPOSE)
    broken["services"]["ddq"]["depends_on"]["postgres"]["condition"] = "service_healty"
    broken["services"]["ddq"]["healthcheck"]["retries"] = "three"
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    result = compose(tmp_path, path, extra=("--quiet",))
    assert result.returncode != 0
    assert "retries" in output(result) or "service_healty" in output(result), output(result)


def test_compose_and_kubernetes_use_only_real_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every DDQ_* variable the deployments set is a setting, with a value it accepts."""
    known = {f"DDQ_{name.upper()}" for name in Settings.model_fields} | EXTRA_DDQ_NAMES
    sources: dict[str, dict[str, str]] = {}
    for files in ((COMPOSE,), (COMPOSE, STAGING)):
        ddq = rendered(tmp_path, *files)["services"]["ddq"]
        sources["compose " + "+".join(f.name for f in files)] = ddq["environment"]
        command_options(ddq["command"])
    k8s_env: dict[str, str] = {}
    for path in manifests():
        doc = load_yaml(path)
        if doc["kind"] == "ConfigMap":
            k8s_env.update(doc["data"])
        elif doc["kind"] == "Secret":
            k8s_env.update(doc["stringData"])
        elif doc["kind"] in {"Deployment", "Job"}:
            for container in doc["spec"]["template"]["spec"]["containers"]:
                k8s_env.update({e["name"]: e.get("value", "") for e in container.get("env", [])})
    sources["kubernetes"] = k8s_env
    *_, final = dockerfile_stages()
    sources["Dockerfile"] = dict(re.findall(r"\b(DDQ_[A-Z_]+)=(\S+)", " ".join(final)))
    for where, env in sources.items():
        names = {name for name in env if name.startswith("DDQ_")}
        assert names, f"{where} sets no DDQ_* variable"
        assert names <= known, f"{where}: not DDQ settings: {sorted(names - known)}"
        with monkeypatch.context() as patch:
            for name in names:
                patch.setenv(name, str(env[name]))
            Settings()  # extra="forbid" and every field's validation, as the service reads them


# --- Prometheus and Alertmanager ------------------------------------------------------------


def test_prometheus_config_passes_promtool(tmp_path: Path) -> None:
    promtool = tool("promtool", SYSTEM_HINT)
    result = run([promtool, "check", "config", str(PROMETHEUS)])
    assert result.returncode == 0, output(result)
    assert "alerts.yml" in output(result)  # the rule files were checked too
    broken = tmp_path / "prometheus.yml"
    config = load_yaml(PROMETHEUS)
    config["global"]["scrape_interval"] = "fifteen seconds"
    broken.write_text(yaml.safe_dump(config), encoding="utf-8")
    shutil.copy(PROMETHEUS.with_name("alerts.yml"), tmp_path / "alerts.yml")
    assert run([promtool, "check", "config", str(broken)]).returncode != 0


def test_prometheus_scrapes_the_jobs_the_alerts_select() -> None:
    config = load_yaml(PROMETHEUS)
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    alerts = PROMETHEUS.with_name("alerts.yml").read_text(encoding="utf-8")
    selected = set(re.findall(r'job="([^"]+)"', alerts))
    assert selected and selected <= jobs, selected - jobs
    assert config["rule_files"] == ["alerts.yml"]
    targets = config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert targets == ["alertmanager:9093"]


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return run([tool("amtool", SYSTEM_HINT), *args])


def test_alertmanager_config_passes_amtool_and_routes_by_severity(tmp_path: Path) -> None:
    result = amtool("check-config", str(ALERTMANAGER))
    assert result.returncode == 0, output(result)
    for severity, receiver in (("page", "pages"), ("ticket", "tickets")):
        routed = amtool(
            "config",
            "routes",
            "test",
            f"--config.file={ALERTMANAGER}",
            f"severity={severity}",
            "alertname=DDQDown",
        )
        assert routed.stdout.split() == [receiver], output(routed)
    config = load_yaml(ALERTMANAGER)
    (rule,) = config["inhibit_rules"]
    assert rule["source_matchers"] == ['alertname="DDQDown"']
    alerts = load_yaml(PROMETHEUS.with_name("alerts.yml"))
    names = {r["alert"] for group in alerts["groups"] for r in group["rules"]}
    severities = {r["labels"]["severity"] for group in alerts["groups"] for r in group["rules"]}
    assert "DDQDown" in names
    assert severities <= {"page", "ticket"}
    # A route to a receiver that does not exist is an error amtool catches.
    config["route"]["routes"][0]["receiver"] = "nobody"
    broken = tmp_path / "alertmanager.yml"
    broken.write_text(yaml.safe_dump(config), encoding="utf-8")
    failed = amtool("check-config", str(broken))
    assert failed.returncode != 0
    assert "nobody" in output(failed)
