"""Values of the types questions ask for, found in evidence text.

"How often…" is answered by the sentence that holds a frequency ("every year", "quarterly"),
"How long…" by one with a period ("18 months", "RTO 6 h"), "When was…" by a date, "Which TLS
versions…" by a version, "Which provider…" by a name. The words that only say which type is
wanted ("often", "long", "tool") are not terms the evidence must repeat.
"""

from __future__ import annotations

import re

from ddq.answer.question_types import QuestionType

_F = re.IGNORECASE
_NUMBER_WORD = (r"(?:\d+(?:[.,]\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|"
                r"eleven|twelve|fifteen|eighteen|twenty|thirty|forty|sixty|ninety|"
                r"a|an|a few|several)")
_PERIOD_UNIT = (r"(?:h|hrs?|hours?|mins?|minutes?|seconds?|s|days?|business\s+days?|"
                r"working\s+days?|calendar\s+days?|weeks?|months?|years?|yrs?|quarters?)")
_CADENCE = (r"(?:year|month|quarter|week|day|hour|minute|release|sprint|build|deployment|"
            r"commit|change|pull\s+request)")

_PATTERNS: dict[QuestionType, re.Pattern[str]] = {
    QuestionType.FREQUENCY: re.compile(
        r"\b(?:annual(?:ly)?|yearly|bi-?annual(?:ly)?|semi-?annual(?:ly)?|"
        r"(?:bi-?)?(?:monthly|weekly|quarterly|daily|hourly|nightly)|"
        rf"every\s+(?:{_NUMBER_WORD}\s+)?{_CADENCE}s?|"
        rf"(?:once|twice|\w+\s+times)\s+(?:a|per|each|every)\s+{_CADENCE}|"
        rf"(?:per|each|on\s+every|with\s+every)\s+{_CADENCE}|"
        r"continuous(?:ly)?|real[-\s]time|around\s+the\s+clock|24\s*/\s*7|24x7|"
        r"at\s+least\s+(?:once|annually|quarterly|monthly|weekly|daily|yearly))\b", _F),
    QuestionType.DURATION: re.compile(
        rf"\b{_NUMBER_WORD}(?:\s*(?:-|to|–)\s*\d+)?[-\s]*{_PERIOD_UNIT}\b|"
        r"\b(?:indefinitely|until\s+(?:deletion|termination|the\s+end)|"
        r"for\s+the\s+(?:life|duration)\s+of)\b|\b(?:RTO|RPO)\b\s*(?:of|:|=|is)?\s*\d", _F),
    QuestionType.DATE: re.compile(
        r"\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|"
        r"aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?\s+"
        r"(?:\d{1,2},?\s+)?(?:19|20)\d\d\b|\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|"
        r"sep|oct|nov|dec)[a-z]*\.?\s+(?:19|20)\d\d\b|\b(?:19|20)\d\d-\d\d(?:-\d\d)?\b|"
        r"\bQ[1-4]\s+(?:19|20)\d\d\b|\b(?:H[12]|FY)\s*(?:19|20)?\d\d\b|"
        r"\b(?:in|since|during|of)\s+(?:19|20)\d\d\b", _F),
    QuestionType.VERSION: re.compile(
        r"\b(?:TLS|SSL|SSH|HTTP|SAML|OAuth|PCI\s+DSS|CVSS|v(?:ersion)?)\s*v?\d+(?:\.\d+)*\+?|"
        r"\b\d+\.\d+(?:\.\d+)*\+?(?!\s*%)|\b(?:ISO(?:/IEC)?|NIST|SP)\s*\d{3,5}", _F),
    QuestionType.LIST: re.compile(r"[^,;]+[,;][^,;]+[,;][^,;]+|(?:^|\n)\s*[-*•]\s", _F),
}

# A name: a capitalised or mixed-case word after the first, or a code of letters and
# digits ("AES-256", "FIDO2", "GKE").
_NAME = re.compile(r"(?<!^)(?<![.:!?]\s)\b(?:[A-Z][a-z]+(?:[A-Z]\w*)?|[A-Z]{2,}[\w-]*|"
                   r"[A-Za-z]+-?\d+\w*)\b")

#: Words of a question that say which kind of value it wants, not what it is about.
TYPE_WORDS: dict[QuestionType, frozenset[str]] = {
    QuestionType.FREQUENCY: frozenset(
        "often frequently frequency regularly regular interval intervals cadence times "
        "schedule scheduled basis".split()),
    QuestionType.DURATION: frozenset(
        "long quickly soon fast timeframe timeframes time frame period periods duration "
        "many days hours weeks months years minutes within".split()),
    QuestionType.DATE: frozenset("when date dates last recent recently performed".split()),
    QuestionType.VERSION: frozenset(
        "version versions standard standards protocol protocols release releases "
        "supported".split()),
    QuestionType.NAMED: frozenset(
        "name names named tool tools product products solution solutions technology "
        "technologies mechanism mechanisms method methods brand platform software who "
        "where located location locations".split()),
    QuestionType.LIST: frozenset("list lists include includes including".split()),
}


def value_in(text: str, kind: QuestionType) -> str | None:
    """The first value of type ``kind`` in ``text``, or None (also for types without one)."""
    if kind is QuestionType.NAMED:
        match = _NAME.search(text.strip())
        return match.group(0) if match else None
    pattern = _PATTERNS.get(kind)
    if pattern is None:
        return None
    found = pattern.search(text)
    return found.group(0).strip() if found else None


def has_value(text: str, kind: QuestionType) -> bool:
    return value_in(text, kind) is not None


def type_words(kind: QuestionType | None) -> frozenset[str]:
    """The words that only say which type of value is asked (see :data:`TYPE_WORDS`)."""
    return TYPE_WORDS.get(kind, frozenset()) if kind is not None else frozenset()
