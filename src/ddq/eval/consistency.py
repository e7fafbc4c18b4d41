"""Precision and recall of the consistency check on a golden set of planted contradictions.

The golden set (``examples/golden/consistency/questionnaire.yaml``) is a list of pairs, each
with a kind, planted (a contradiction) or not (a near-miss), and two drafted answers. A
finding is right when its pair is planted with the finding's kind; every other finding, on a
near-miss or on two answers of different pairs, is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ddq.errors import DDQError, ErrorCode
from ddq.trust.consistency import CheckReport, Item, Kind, Passage


@dataclass(frozen=True, slots=True)
class Golden:
    items: list[Item]
    planted: dict[frozenset[str], Kind]
    near_misses: dict[frozenset[str], Kind]


def _item(ref: str, raw: dict[str, object]) -> Item:
    cite = raw.get("cite")
    citations = (
        (Passage(str(cite[0]), str(cite[1]), str(cite[2])),)
        if isinstance(cite, list) and len(cite) == 3
        else ()
    )
    stance = raw.get("stance")
    answer = str(raw["a"])
    return Item(
        ref=ref,
        question=str(raw["q"]),
        answer=answer,
        stance=stance if isinstance(stance, str) else None,
        citations=citations,
        needs_input="stance" in raw and raw["stance"] is None,
    )


def load_golden(path: Path) -> Golden:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        pairs = data["pairs"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise DDQError(
            ErrorCode.INVALID_INPUT, f"{path}: not a consistency golden set ({exc})"
        ) from exc
    items: list[Item] = []
    planted: dict[frozenset[str], Kind] = {}
    near: dict[frozenset[str], Kind] = {}
    for number, pair in enumerate(pairs, 1):
        first, second = f"G{number:03d}a", f"G{number:03d}b"
        items += [_item(first, pair["a"]), _item(second, pair["b"])]
        (planted if pair["planted"] else near)[frozenset((first, second))] = Kind(pair["kind"])
    # Interleave so that a pair's two answers are not next to each other in the file.
    order = items[0::2] + items[1::2][::-1]
    return Golden(order, planted, near)


@dataclass(frozen=True, slots=True)
class KindScore:
    kind: Kind
    planted: int
    near_misses: int
    found: int
    right: int
    missed: list[frozenset[str]]
    wrong: list[frozenset[str]]

    @property
    def precision(self) -> float:
        return self.right / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.right / self.planted if self.planted else 1.0


def score(golden: Golden, report: CheckReport) -> list[KindScore]:
    scores = []
    for kind in Kind:
        planted = {p for p, k in golden.planted.items() if k is kind}
        found = {f.pair for f in report.findings if f.kind is kind}
        right = found & planted
        scores.append(
            KindScore(
                kind,
                len(planted),
                sum(1 for k in golden.near_misses.values() if k is kind),
                len(found),
                len(right),
                sorted(planted - found, key=sorted),
                sorted(found - planted, key=sorted),
            )
        )
    return scores
