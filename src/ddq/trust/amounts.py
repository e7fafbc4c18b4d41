"""Values a questionnaire answer states, on one scale each: durations in hours ("12 months"
is "one year"), frequencies in times a year ("every six months" is twice a year)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "eighteen": 18,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "sixty": 60,
    "ninety": 90,
}
_HOURS = {
    "min": 1 / 60,
    "minute": 1 / 60,
    "second": 1 / 3600,
    "h": 1,
    "hr": 1,
    "hour": 1,
    "day": 24,
    "week": 168,
    "month": 730,
    "quarter": 2190,
    "year": 8760,
    "yr": 8760,
}
_PER_YEAR = {
    "hour": 8760,
    "day": 365,
    "night": 365,
    "week": 52,
    "month": 12,
    "quarter": 4,
    "year": 1,
}
_ADVERBS = {
    "annual": 1,
    "annually": 1,
    "yearly": 1,
    "biannual": 2,
    "biannually": 2,
    "semiannual": 2,
    "semiannually": 2,
    "quarterly": 4,
    "monthly": 12,
    "bimonthly": 6,
    "weekly": 52,
    "biweekly": 26,
    "daily": 365,
    "nightly": 365,
    "hourly": 8760,
}


def _number(text: str) -> float | None:
    found = re.search(r"\d+(?:[.,]\d+)?|\b(?:" + "|".join(_NUMBERS) + r")\b", text, re.I)
    if found is None:
        return None
    token = found.group(0).lower().replace(",", ".")
    return _NUMBERS[token] if token in _NUMBERS else float(token)


def _unit(text: str, table: Mapping[str, float]) -> float | None:
    for word in reversed(re.findall(r"[a-z]+", text.lower())):
        word = word.removesuffix("s") if word not in ("hours",) else "hour"
        for unit in sorted(table, key=len, reverse=True):
            if word == unit or (len(unit) > 2 and word.startswith(unit)):
                return table[unit]
    return None


def duration_hours(value: str) -> float | None:
    if re.search(r"indefinite|life|duration|until", value, re.I):
        return math.inf
    amount, unit = _number(value), _unit(value, _HOURS)
    return None if amount is None or unit is None else amount * unit


def times_a_year(value: str) -> float | None:
    text = value.lower().replace("-", "")
    if re.search(r"continuous|real\s*time|around the clock|24\s*/\s*7|24x7", text):
        return math.inf
    for word, rate in _ADVERBS.items():
        if re.fullmatch(rf"(?:at least )?{word}", text):
            return rate
    per = _unit(text, _PER_YEAR)
    if per is None:
        return None
    if text.startswith("every"):
        amount = _number(text.removeprefix("every")) or 1
        return per / amount
    times = re.match(r"(once|twice|\w+ times)", text)
    if times:
        count = {"once": 1, "twice": 2}.get(times.group(1)) or _number(times.group(1)) or 1
        return count * per
    return per
