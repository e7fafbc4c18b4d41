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
# A number: digits (a space before the unit optional, "6h"), or a word (a space needed:
# "a day", never the "a" of "as").
_NUMBER_WORD = (r"(?:\d+(?:[.,]\d+)?|(?:one|two|three|four|five|six|seven|eight|nine|ten|"
                r"eleven|twelve|fifteen|eighteen|twenty|thirty|forty|sixty|ninety|"
                r"a|an|a few|several)(?=[-\s]))")
_PERIOD_UNIT = (r"(?:h|hrs?|hours?|mins?|minutes?|seconds?|days?|business\s+days?|"
                r"working\s+days?|calendar\s+days?|weeks?|months?|years?|yrs?|quarters?)")
_MONTH = (r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*")
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
        r"for\s+the\s+(?:life|duration)\s+of)\b|"
        # A period given by its ends: "1 January to 31 December 2025".
        rf"\b\d{{1,2}}\s+{_MONTH}\s+(?:to|through|until|–|-)\s+\d{{1,2}}\s+{_MONTH}", _F),
    QuestionType.DATE: re.compile(
        r"\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|"
        r"aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?\s+"
        r"(?:\d{1,2},?\s+)?(?:19|20)\d\d\b|\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|"
        r"sep|oct|nov|dec)[a-z]*\.?\s+(?:19|20)\d\d\b|\b(?:19|20)\d\d-\d\d(?:-\d\d)?\b|"
        r"\bQ[1-4]\s+(?:19|20)\d\d\b|\b(?:H[12]|FY)\s*(?:19|20)?\d\d\b|"
        r"\b(?:in|since|during|of)\s+(?:19|20)\d\d\b", _F),
    QuestionType.VERSION: re.compile(
        r"\b(?:TLS|SSL|SSH|HTTP|SAML|OAuth|PCI\s+DSS|CVSS|v(?:ersion)?)\s*v?\d+(?:\.\d+)*\+?|"
        r"\b\d+\.\d+(?:\.\d+)*\+?(?!\s*%)|\b(?:ISO(?:/IEC)?|NIST|SP)\s*\d{3,5}|"
        r"\b(?:19|20)\d\d\s+(?:version|edition|release)\b|\b(?:FIDO|WPA|SHA|PKCS)\s*-?\d+\b",
        _F),
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
        "algorithm algorithms "
        "where located location locations".split()),
    QuestionType.LIST: frozenset("list lists include includes including".split()),
}


#: The events a date question asks the date of: a passage with a date of another event
#: ("issued on 3 March") does not answer "When does it expire?".
DATE_EVENTS = frozenset(
    """
    expire expires expired expiry expiration renew renews renewed renewal issued issue
    signed start started starts end ends ended reviewed updated approved published released
    """.split())


def value_in(text: str, kind: QuestionType, *, asked: frozenset[str] = frozenset()
             ) -> str | None:
    """The first value of type ``kind`` in ``text``, or None (also for types without one).
    A name among the ``asked`` words (the question's own, lower-cased) is not one: "Which
    firm audits your SOC 2 controls?" is not answered by "SOC"."""
    if kind is QuestionType.NAMED:
        return _new_name(text.strip(), asked)
    pattern = _PATTERNS.get(kind)
    if pattern is None:
        return None
    found = pattern.search(text)
    return found.group(0).strip() if found else None


def has_value(text: str, kind: QuestionType, *, asked: frozenset[str] = frozenset()) -> bool:
    return value_in(text, kind, asked=asked) is not None


def type_words(kind: QuestionType | None) -> frozenset[str]:
    """The words that only say which type of value is asked (see :data:`TYPE_WORDS`)."""
    return TYPE_WORDS.get(kind, frozenset()) if kind is not None else frozenset()


# Capitalised words that are parts of a name, not names ("SOC 2 Type II", "Annex A").
_NOT_NAMES = frozenset(
    """
    type ii iii iv level part section annex table figure appendix january february march
    april may june july august september october november december monday tuesday
    wednesday thursday friday saturday sunday
    """.split())


def _new_name(text: str, asked: frozenset[str]) -> str | None:
    """The first name in ``text`` that the question does not already use. A capitalised
    word that goes on a name the question uses ("Type II" after "SOC 2") is part of it."""
    follows_asked = False
    last_end = -1
    for match in _NAME.finditer(text):
        words = set(re.findall(r"[a-z0-9]+", match.group(0).lower()))
        between = text[last_end:match.start()] if last_end >= 0 else " x "
        adjacent = last_end >= 0 and re.fullmatch(r"[\s\d./-]*", between) is not None
        # Digits between ("SOC 2 Type") keep the chain: they are the asked name's number.
        chained = adjacent and follows_asked
        last_end = match.end()
        if words <= asked or words <= _NOT_NAMES or chained:
            follows_asked = True
            continue
        follows_asked = False
        return match.group(0)
    return None
