"""The alert rules under deploy/prometheus are valid, and promtool's unit tests of them pass:
every alert fires on the series it is for and stays silent on healthy ones. Each alert has
a runbook section in docs/operations.md."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.integration

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool is not installed; run scripts/system-packages.sh")
    return found


def test_rules_are_valid_and_their_unit_tests_pass() -> None:
    checked = subprocess.run([promtool(), "check", "rules", "alerts.yml"], cwd=RULES,
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run([promtool(), "test", "rules", "alerts.test.yml"], cwd=RULES,
                            capture_output=True, text=True, timeout=120)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_every_alert_is_tested_both_ways_and_has_a_runbook() -> None:
    rules = yaml.safe_load((RULES / "alerts.yml").read_text(encoding="utf-8"))
    alerts = [r["alert"] for g in rules["groups"] for r in g["rules"]]
    tests = yaml.safe_load((RULES / "alerts.test.yml").read_text(encoding="utf-8"))["tests"]
    firing: set[str] = set()
    silent: set[str] = set()
    for case in tests:
        for check in case["alert_rule_test"]:
            (firing if check["exp_alerts"] else silent).add(check["alertname"])
    assert set(alerts) <= firing, f"never seen firing: {set(alerts) - firing}"
    assert set(alerts) <= silent, f"never seen silent: {set(alerts) - silent}"
    headings = set(re.findall(r"^### (\w+)$", OPERATIONS.read_text(encoding="utf-8"), re.M))
    assert set(alerts) <= headings, f"no runbook in docs/operations.md: {set(alerts) - headings}"
