"""The project's own second golden set (examples/golden/quillon) is well formed: it loads,
covers every question type with answerable cases, and every passage it quotes is in the
corpus, with the expected answer inside it; what a must-abstain case asks about is not."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from ddq.eval.questionnaire import answer_holds, load_cases

pytestmark = pytest.mark.unit

GOLDEN = Path(__file__).resolve().parents[2] / "examples" / "golden" / "quillon"
TYPES = ("verdict", "frequency", "duration", "date", "version", "named", "list",
         "description")


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def raw_cases() -> list[dict[str, Any]]:
    data = yaml.safe_load((GOLDEN / "golden.yaml").read_text(encoding="utf-8"))
    cases = data["cases"]
    assert isinstance(cases, list)
    return cases


@pytest.fixture(scope="module")
def corpus() -> dict[str, str]:
    files = {p.stem: _flat(p.read_text(encoding="utf-8"))
             for p in sorted((GOLDEN / "knowledge").glob("*.md"))}
    assert len(files) >= 12
    return files


def test_the_set_loads_with_a_type_for_every_case(raw_cases: list[dict[str, Any]]) -> None:
    cases = load_cases(GOLDEN / "golden.yaml")
    assert len(cases) == len(raw_cases) >= 100
    assert {c.type for c in cases} == set(TYPES)


def test_every_type_has_at_least_eight_answerable_cases(
        raw_cases: list[dict[str, Any]]) -> None:
    answerable = Counter(c["type"] for c in raw_cases if c["expected_outcome"] != "needs_input")
    abstain = Counter(c["type"] for c in raw_cases if c["expected_outcome"] == "needs_input")
    assert {t: answerable[t] for t in TYPES if answerable[t] < 8} == {}
    # Every type also has a case the corpus does not support.
    assert {t for t in TYPES if abstain[t] == 0} == set()
    assert sum(abstain.values()) >= 20
    # Compound questions ("Do you X, and how often?") are among the verdicts.
    compound = [c for c in raw_cases if c["type"] == "verdict" and ", and " in c["question"]]
    assert len(compound) >= 3 and all(c.get("expected_answer") for c in compound)


def test_every_passage_is_in_the_files_it_names(raw_cases: list[dict[str, Any]],
                                                corpus: dict[str, str]) -> None:
    problems = []
    for case in raw_cases:
        if case["expected_outcome"] == "needs_input":
            assert not case.get("expected_answer"), case["id"]
            for name, passages in (case.get("adjacent") or {}).items():
                problems += [f"{case['id']}: adjacent {p!r} not in {name}" for p in passages
                             if _flat(p) not in corpus.get(name, "")]
            continue
        names = case["expected_evidence"]
        problems += [f"{case['id']}: no file {n}" for n in names if n not in corpus]
        assert case["passages"], case["id"]
        for passage in case["passages"]:
            if not any(_flat(passage) in corpus.get(n, "") for n in names):
                problems.append(f"{case['id']}: {passage!r} not in {names}")
        # The expected answer must be what the supporting passages say.
        quoted = " ".join(case["passages"])
        if not answer_holds(quoted, tuple(case.get("expected_answer") or ())):
            problems.append(f"{case['id']}: {case['expected_answer']} not in its passages")
    assert problems == []


def test_wrong_subject_traps_and_unsupported_subjects(raw_cases: list[dict[str, Any]],
                                                      corpus: dict[str, str]) -> None:
    traps = [c for c in raw_cases if c.get("trap") == "wrong-subject"]
    assert len(traps) >= 8
    assert all(c["expected_outcome"] == "needs_input" and c.get("adjacent") for c in traps)
    # What the must-abstain cases ask about is nowhere in the corpus.
    text = " ".join(corpus.values()).casefold()
    absent = ("customer-managed", "byok", "bring their own", "hipaa", "fedramp", "insurance",
              "uptime", "service credit", "soc 1", "caiq", "postgresql", "legal hold", "cctv",
              "support tickets", "extend")
    assert [term for term in absent if term in text] == []
