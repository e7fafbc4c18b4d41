"""What a question asks for: the kind of value a correct answer must contain.

A questionnaire row is a yes/no question ("Do you encrypt backups?"), a request for a value
of one type ("How often…" wants a frequency, "What is your RTO?" a duration, "Which TLS
versions…" a version, "Which identity provider…" a name), a list, a description, or not a
question at all (a heading, an instruction, "N/A", an empty cell). The answerer reads the
type to know which sentence answers: the one that holds a value of that type for the
question's subject, even when the question's other words ("often", "provider") are not in
it.

The rules are English grammar and the field's general vocabulary, nothing keyed on one
questionnaire.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class QuestionType(StrEnum):
    """What a correct answer must contain."""

    VERDICT = "verdict"
    FREQUENCY = "frequency"
    DURATION = "duration"
    DATE = "date"
    VERSION = "version"
    NAMED = "named"
    LIST = "list"
    DESCRIPTION = "description"
    NOT_A_QUESTION = "not_a_question"


#: The value types: a question of one of these wants a value, not only a verdict.
VALUE_TYPES = frozenset({QuestionType.FREQUENCY, QuestionType.DURATION, QuestionType.DATE,
                         QuestionType.VERSION, QuestionType.NAMED})

_F = re.IGNORECASE

_YES_NO_START = re.compile(
    r"^\s*(?:do|does|did|is|are|was|were|can|could|will|would|have|has|had|should|shall|"
    r"may|must)\b", _F)
# "Please confirm whether…", "Confirm that…", "Indicate if…": a yes/no question in the
# imperative.
_CONFIRM = re.compile(
    r"^\s*(?:please\s+)?(?:confirm|indicate|state|specify|advise|tell us)\s+"
    r"(?:whether|if|that)\b", _F)

_FREQUENCY = re.compile(
    r"\bhow\s+(?:often|frequently|regularly)\b|\bat\s+what\s+(?:interval|frequency|cadence)\b|"
    r"\b(?:what|which)\s+(?:is\s+the\s+)?(?:frequency|cadence|interval)\b|"
    r"\bhow\s+many\s+times\s+(?:a|per|each)\b|\bfrequency\s+of\b", _F)
_DURATION = re.compile(
    r"\bhow\s+(?:long|quickly|soon|fast)\b|\bwithin\s+what\s+(?:time|period|timeframe)|"
    r"\bwhat\s+(?:is\s+)?(?:the\s+|your\s+)?(?:time\s*frame|timeframe|period)\b|"
    r"\bhow\s+many\s+(?:days|hours|weeks|months|years|minutes)\b|"
    r"\b(?:rto|rpo|recovery\s+time\s+objective|recovery\s+point\s+objective)\b|"
    r"\bretention\s+period\b|\bretained\s+for\s+how\b", _F)
_DATE = re.compile(
    r"^\s*when\b|\bwhen\s+(?:was|were|did|is|will)\b|\b(?:what|which)\s+(?:is\s+the\s+)?date\b|"
    r"\bdate\s+of\s+(?:the|your)\b|\bas\s+of\s+when\b", _F)
_VERSION = re.compile(
    r"\b(?:what|which)\s+(?:\w+\s+){0,3}(?:versions?|standard|protocols?|editions?|"
    r"releases?)\b", _F)
# "Which identity provider…", "What cipher…", "Who is responsible…".
_NAMED = re.compile(
    r"^\s*who\b|\bwho\s+(?:is|are|owns|approves|performs|conducts|handles)\b|"
    r"\b(?:what|which)\s+(?:\w+\s+){0,3}(?:provider|vendor|supplier|tool|product|platform|"
    r"service|solution|software|algorithm|cipher|system|region|location|country|"
    r"jurisdiction|cloud|hosting|host|firm|auditor|company|role|team|person|officer|"
    r"technology|mechanism|method|key\s+length|hash|database|language|library|"
    r"identity\s+provider|idp|siem|edr|mdm|format|model)\b|"
    r"\bwhere\s+(?:is|are|do|does)\b|\bwhat\s+is\s+the\s+name\b|\bname\s+(?:of|the)\b", _F)
_LIST = re.compile(
    r"^\s*(?:please\s+)?(?:list|enumerate|itemi[sz]e)\b|"
    r"\b(?:what|which)\s+(?:\w+\s+){0,2}(?:subprocessors|sub-processors|policies|"
    r"certifications|controls|locations|regions|countries|third\s+parties|vendors|suppliers|"
    r"types|categories)\b|\bprovide\s+a\s+list\b|\ba\s+list\s+of\b", _F)
_DESCRIPTION = re.compile(
    r"^\s*(?:please\s+)?(?:describe|explain|outline|summari[sz]e|detail|provide|elaborate|"
    r"discuss|walk)\b|^\s*how\b|\bwhat\s+(?:is|are)\s+(?:your|the)\s+(?:process|procedure|"
    r"approach|policy|strategy|methodology|plan)\b|^\s*what\b|^\s*why\b", _F)

#: Lines that instruct the reader rather than ask ("Please answer all questions below.").
_INSTRUCTION = re.compile(
    r"^\s*(?:(?:please\s+)?(?:answer|complete|fill|select|choose|respond|return|submit|"
    r"refer|see|note|use)\b|instructions?\b|note\s*:|section\b|part\s+[a-z0-9]+\b)", _F)
_NOT_APPLICABLE = re.compile(r"^\s*(?:n/?a|none|nil|tbd|tba|-+|\?+|\.+|not applicable)\s*$",
                             _F)
_WORD = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*")
#: A heading is short and asks nothing: "Access Control", "3. Encryption & Key Management".
_HEADING_WORDS = 6
_SECTION_NUMBER = re.compile(r"^\s*(?:\d+(?:\.\d+)*|[A-Z]{1,4}-?\d+|[IVX]+)[.):]?\s+\S")
_SMALL_WORDS = frozenset("a an and or of the to for in on with by at & vs".split())
#: Past this, a "question" is a pasted document, not a question a person can answer.
MAX_QUESTION_CHARS = 2000
#: A question needs words; more than this share of non-ASCII letters reads as another
#: language (or script) than the knowledge base's English.
_FOREIGN_SHARE = 0.3
# Frequent English function words: a question without any of them is unlikely to be
# English, even when it is written in Latin letters ("¿Cifran los datos en reposo?").
_ENGLISH = frozenset(
    """
    a an the and or of to in on for with by at from as is are was were be been do does did
    have has had you your we our it its this that these those which who what when where why
    how can could would should will shall may must any all each every if not no there
    please describe provide list explain per one more than within after before about into
    over under between during
    """.split())


@dataclass(frozen=True, slots=True)
class QuestionShape:
    """A question's type, and what else a compound question asks ("Do you X, and how
    often?" is a verdict that also wants a frequency)."""

    type: QuestionType
    #: A value type the answer should also hold, or None.
    wants: QuestionType | None = None
    #: Why the question is not a question (empty otherwise).
    problem: str = ""
    #: How many questions it asks ("(1) Do you …? (2) Are you …?" asks two).
    parts: int = 1


def classify_question(text: str) -> QuestionType:
    """What a correct answer to ``text`` must contain (see :class:`QuestionType`)."""
    return question_shape(text).type


def question_shape(text: str) -> QuestionShape:
    """The question's type, the value a compound question also wants, and, for text that is
    not a question, why not."""
    problem = not_a_question(text)
    if problem:
        return QuestionShape(QuestionType.NOT_A_QUESTION, problem=problem)
    body = " ".join(text.split())
    parts = count_parts(body)
    if parts > 1:
        # Several questions in one: each part wants its own answer, none one verdict.
        return QuestionShape(QuestionType.DESCRIPTION, parts=parts)
    value = _value_type(body)
    if _YES_NO_START.match(body) or _CONFIRM.match(body):
        # "Do you X, and how often?": a verdict that also wants the value.
        return QuestionShape(QuestionType.VERDICT, wants=value)
    if value is not None:
        return QuestionShape(value)
    if _LIST.search(body):
        return QuestionShape(QuestionType.LIST)
    return QuestionShape(QuestionType.DESCRIPTION)


_ENUMERATOR = re.compile(r"(?:^|\s)\(?(?:\d{1,2}|[a-h]|[ivx]{1,4})\)\s+(?=\w)", _F)


def count_parts(body: str) -> int:
    """How many questions ``body`` asks: its question marks, or its enumerated parts
    ("(1) … (2) …", "a) … b) …"), whichever is more."""
    marks = len(re.findall(r"\?(?=\s|$)", body))
    enumerated = len(_ENUMERATOR.findall(body))
    return max(1, marks, enumerated if enumerated >= 2 else 1)


def without_enumerators(text: str) -> str:
    """``text`` without its part numbers ("(1)", "b)"), which name no subject."""
    return _ENUMERATOR.sub(" ", text)


def _value_type(body: str) -> QuestionType | None:
    """The first value type the question asks for, in order of how specific its cue is."""
    for kind, pattern in ((QuestionType.FREQUENCY, _FREQUENCY),
                          (QuestionType.DURATION, _DURATION),
                          (QuestionType.DATE, _DATE)):
        if pattern.search(body):
            return kind
    # "Which certifications do you hold?" wants a list, "Which TLS versions…" versions.
    if _LIST.search(body) and not _VERSION.search(body):
        return None
    if _VERSION.search(body):
        return QuestionType.VERSION
    if _NAMED.search(body):
        return QuestionType.NAMED
    return None


def not_a_question(text: str) -> str:
    """Why ``text`` is not a question a person could answer from evidence, or "" when it is.

    Empty text, "N/A", a heading, an instruction, a pasted document (over
    :data:`MAX_QUESTION_CHARS`), or text in another language.
    """
    body = " ".join((text or "").split())
    if not body:
        return "the question is empty"
    if _NOT_APPLICABLE.match(body):
        return f"{body!r} is a placeholder, not a question"
    if len(body) > MAX_QUESTION_CHARS:
        return (f"the question is {len(body):,} characters long, more than a question "
                f"({MAX_QUESTION_CHARS:,}); a person should split it")
    words = _WORD.findall(body)
    if not words:
        return "the question has no words"
    if _INSTRUCTION.match(body) and not body.endswith("?"):
        return "the row is an instruction to the person filling in the form, not a question"
    letters = [c for w in words for c in w]
    foreign = sum(1 for c in letters if ord(c) > 127) / len(letters)
    lowered = {w.lower() for w in words}
    if foreign > _FOREIGN_SHARE or (len(words) >= 4 and not lowered & _ENGLISH):
        return "the question does not read as English, the language of the knowledge base"
    asks = (body.endswith("?") or _YES_NO_START.match(body) or _CONFIRM.match(body)
            or _DESCRIPTION.match(body) or _LIST.match(body))
    if not asks and _is_heading(body, words):
        return "the row reads as a heading, not a question"
    return ""


def _is_heading(body: str, words: list[str]) -> bool:
    """Short, asking nothing, and set like a title ("Access Control", "3. Encryption and
    Key Management"), or ending in a colon. A statement in sentence case ("Multi-factor
    authentication for remote access") is a form's yes/no row, not a heading."""
    if len(words) > _HEADING_WORDS or body.endswith("."):
        return False
    if body.endswith(":"):
        return True
    significant = [w for w in words if w.lower() not in _SMALL_WORDS]
    titled = all(w[:1].isupper() for w in significant)
    return titled or bool(_SECTION_NUMBER.match(body))
