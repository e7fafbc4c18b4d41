"""Validity dates read from a document's own words.

Only what a document says plainly counts, and only near its top (its first passages, where a
report's cover, a certificate's table or a Markdown front matter sits):

- a stated validity: ``valid_until: 2026-06-30`` (front matter), ``Valid until: 30 June 2026``,
  ``| Certificate expiry | June 2027 |``, ``AOC valid through February 18, 2027``, "This
  certificate is valid until 30 June 2027";
- a SOC 1/2/3 report's period ("Period: January 1, 2025 to December 31, 2025", "for the
  period ended 31 March 2026"): current for ``soc_report_valid_months`` after its end;
- a penetration test's date ("Report date: April 10, 2026", "Testing window: March 9 –
  March 27, 2026"): current for ``pentest_valid_months`` after it.

A report is recognised by its title (or first heading), never by a passing mention: a policy
that says "we share our SOC 2 report" is not a SOC 2 report. A labelled validity whose value
is not a date ("valid_until: next spring") is a problem reported by name, and the document is
treated as having no validity.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?:[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d\d"
#: One date as documents write it; a bare month and year is the month's last day.
DATE = (
    rf"(?:{_YEAR}-\d\d?-\d\d?|{_YEAR}/\d\d?/\d\d?|\d\d?[/.]\d\d?[/.]{_YEAR}|"
    rf"{_DAY}\s+{_MONTH},?\s+{_YEAR}|{_MONTH}\s+{_DAY},?\s+{_YEAR}|{_MONTH},?\s+{_YEAR})"
)
_DATE_RE = re.compile(DATE, re.IGNORECASE)
_SEP = r"\s*(?:to|through|until|till|thru|-|–|—)\s*"


def parse_date(text: str) -> date | None:
    """The date ``text`` is (whole, give or take punctuation and emphasis), or None. A
    numeric day/month order that could be read both ways (03/04/2026) is None: guessing it
    could move an expiry by months."""
    value = text.strip().strip("*_`'\".,;|()[] ").strip()
    match = _DATE_RE.fullmatch(value)
    return _to_date(match.group(0)) if match else None


def _to_date(text: str) -> date | None:
    value = text.strip().rstrip(".,").lower()
    try:
        if m := re.fullmatch(r"(\d{4})[-/](\d\d?)[-/](\d\d?)", value):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d\d?)[/.](\d\d?)[/.](\d{4})", value):
            first, second = int(m[1]), int(m[2])
            if first > 12 >= second:
                return date(int(m[3]), second, first)
            if second > 12 >= first:
                return date(int(m[3]), first, second)
            return date(int(m[3]), first, second) if first == second else None
        words = re.findall(r"[a-z]+|\d+", value)
        numbers = [int(w) for w in words if w.isdigit()]
        months = [_MONTHS[w] for w in words if w in _MONTHS]
        suffixes = {"st", "nd", "rd", "th"}
        if not months or any(
            not w.isdigit() and w not in _MONTHS and w not in suffixes for w in words
        ):
            return None
        year = next(n for n in numbers if n >= 1900)
        days = [n for n in numbers if n < 1900]
        month = months[0]
        day = days[0] if days else calendar.monthrange(year, month)[1]
        return date(year, month, day)
    except (ValueError, StopIteration):
        return None


def add_months(day: date, months: int) -> date:
    """``day`` moved on by ``months`` (the 31st becomes the month's last day)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class Detected:
    """What a document's own words say about its validity."""

    valid_until: date | None
    #: stated (a validity written as such), soc_report, pentest; "" when nothing was found
    kind: str
    #: The words it was read from ("Period: January 1, 2025 to December 31, 2025").
    basis: str
    #: A labelled validity that is not a date: reported by name, treated as none.
    problem: str | None = None
    #: The end of a report's period, or a test's date, when that is what was read.
    dated: date | None = None


NOTHING = Detected(None, "", "")

# "valid_until: ...", "Valid until: ...", "| Certificate expiry | ... |", "AOC valid through
# ...": a label at the start of a line or a table cell, then the value up to the line's end.
_LABEL = re.compile(
    r"(?:^|\|)\s*\**(?P<label>(?:[A-Za-z/]+(?:-[A-Za-z/]+)*\s+){0,3}?"
    r"(?:valid[_ ](?:until|through|thru|to)|"
    r"expir(?:y|es|ation)(?:[_ ](?:date|on))?|validity(?:[_ ]end))\**)\s*(?:\||:)\s*"
    r"(?P<value>[^|\n]*)",
    re.IGNORECASE | re.MULTILINE,
)
_SENTENCE = re.compile(
    rf"\b(?:valid\s+(?:until|through|thru|to)|expires?\s+on|expires?)"
    rf"\s+(?:on\s+)?(?P<date>{DATE})",
    re.IGNORECASE,
)
_SOC_TITLE = re.compile(
    r"\bSOC\s*[123]\b.*\breport\b|\breport\b.*\bSOC\s*[123]\b|"
    r"\bSOC\s*[123]\s+type\s*(?:1|2|i|ii)\b",
    re.IGNORECASE,
)
_PENTEST_TITLE = re.compile(r"\b(?:penetration[\s-]+test\w*|pen[\s-]?test\w*)\b", re.IGNORECASE)
_PERIOD = re.compile(r"\b(?:period|as\s+of)\b(?P<rest>[^\n]{0,120})", re.IGNORECASE)
_TEST_DATE = re.compile(
    r"\b(?:report\s+date|date\s+of\s+(?:the\s+)?report|test(?:ing)?\s+(?:date|window|period)"
    r"|(?:test|assessment)\s+(?:was\s+)?(?:completed|performed|conducted))(?P<rest>[^\n]{0,80})",
    re.IGNORECASE,
)


def _clean(text: str) -> str:
    return re.sub(r"[*`]+|(?<![\w])_+|_+(?![\w])", "", text)


def _latest(matches: Sequence[re.Match[str]]) -> tuple[date, str] | None:
    """The latest date written after any of ``matches``' labels (a period's or a testing
    window's end), with the words it was read from."""
    found: list[tuple[date, str]] = []
    for match in matches:
        rest = re.split(r"(?<=[a-z0-9)])\.\s", match.group("rest"))[0]
        for written in _DATE_RE.finditer(rest):
            day = _to_date(written.group(0))
            if day is not None:
                words = match.group(0)[: len(match.group(0)) - len(match.group("rest"))]
                found.append((day, " ".join((words + rest[: written.end()]).split())))
    # The latest date, in the words of its first mention (a report's cover comes first).
    return max(found, key=lambda pair: pair[0]) if found else None


def detect_validity(
    title: str, texts: Sequence[str], *, soc_months: int = 12, pentest_months: int = 12
) -> Detected:
    """The validity ``texts`` (a document's first passages, heading paths included) state or
    imply; the document's ``title`` says what kind of document it is."""
    body = _clean("\n".join(texts))
    # What the document is comes from its title (or a short first heading), not its text:
    # a policy whose first paragraph mentions its yearly penetration test is no test report.
    first = _clean(texts[0]) if texts and len(texts[0]) < 150 else ""
    head = _clean(title) + "\n" + first
    for match in _LABEL.finditer(body):
        value = match.group("value").strip().strip("*_ ")
        if not value:
            continue
        label = " ".join(match.group("label").strip("* ").split())
        found = parse_date(value)
        if found is None:
            found_in = _DATE_RE.search(value)
            found = _to_date(found_in.group(0)) if found_in else None
        if found is None:
            return Detected(
                None, "stated", f"{label}: {value}", problem=f"{label} {value[:60]!r} is not a date"
            )
        return Detected(found, "stated", f"{label}: {value}")
    if sentence := _SENTENCE.search(body):
        found = _to_date(sentence.group("date"))
        if found is not None:
            return Detected(found, "stated", sentence.group(0))
    if _SOC_TITLE.search(head) and (period := _latest(list(_PERIOD.finditer(body)))):
        end, words = period
        return Detected(add_months(end, soc_months), "soc_report", words, dated=end)
    if _PENTEST_TITLE.search(head) and (test := _latest(list(_TEST_DATE.finditer(body)))):
        end, words = test
        return Detected(add_months(end, pentest_months), "pentest", words, dated=end)
    return NOTHING
