"""``ddq eval questionnaire``: answer a golden set as a questionnaire job and score the run.

The golden set is YAML with ``cases``: ``id``, ``question``, ``expected_outcome`` and
optionally ``expected_evidence`` (names of documents, control ids or questionnaire ids that
should be cited), ``trap`` and ``known_gap``. Both Northwind vocabularies are read:
attested / qualified / negative / needs_input, and supported_yes / supported_no /
has_exception / unknown. Two optional fields (the project's own golden set uses them):
``type``, the question type (see :mod:`ddq.answer.question_types`; without it the
classifier decides), and ``expected_answer``, what a correct answer's text must contain
(every entry found, case-insensitive; ``"a|b"`` accepts either).

The cases are stored as a questionnaire and answered by the same job as a file would be
(batched, persisted), so what is scored is what ``ddq answer`` produces. Scores:

- outcome accuracy: exact (four outcomes) and grouped (attested and qualified are both
  affirmatives: the answerer without an LLM cannot tell a scope);
- abstention precision and recall: of the questions left for a person, how many should
  have been; of those that should have been, how many were;
- citation hit rate: of the answered cases that name expected evidence, how many cite it;
- safety gates: no "Yes" where the honest answer is "No" (traps T1, T2, T6, T8), no
  confident answer where a person must decide (T7). A failed gate makes the command fail;
- per question type, answered / correct / wrong / abstained, and the reliability table of
  the answers' confidence (:mod:`ddq.eval.report`). An answer is *correct* when its grouped
  outcome is the expected one and its text holds the expected answer, if the case gives one.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ddq.domain import AnswerStatus
from ddq.errors import DDQError, ErrorCode
from ddq.eval import report
from ddq.forms import ExtractedQuestion, Target, TargetRole
from ddq.jobs.job import QuestionnaireJob
from ddq.kb import KnowledgeBase
from ddq.store.questionnaires import DraftRecord

OUTCOMES = ("attested", "qualified", "negative", "needs_input")
_ALIASES = {"supported_yes": "attested", "has_exception": "qualified",
            "supported_no": "negative", "unknown": "needs_input"}
_GROUP = {"attested": "affirmative", "qualified": "affirmative", "negative": "negative",
          "needs_input": "needs_input"}


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    question: str
    expected: str
    evidence: tuple[str, ...] = ()
    trap: str | None = None
    known_gap: bool = False
    #: The declared question type, or None to let the classifier decide.
    type: str | None = None
    #: What a correct answer must contain: every entry, each "a|b" meaning either.
    answer: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: Case
    draft: DraftRecord
    outcome: str
    #: None when the case names no evidence or was not answered.
    citation_hit: bool | None
    #: The case's declared type, or what the classifier makes of its question.
    question_type: str = "verdict"

    @property
    def answered(self) -> bool:
        return self.outcome != "needs_input"

    @property
    def answerable(self) -> bool:
        return self.case.expected != "needs_input"

    @property
    def confidence(self) -> float:
        return self.draft.confidence

    @property
    def answer_matched(self) -> bool:
        """The answer's text holds every expected entry (true when the case gives none)."""
        return answer_holds(self.draft.text, self.case.answer)

    @property
    def correct(self) -> bool:
        return self.answered and self.grouped and self.answer_matched

    @property
    def exact_correct(self) -> bool:
        """Correct with exactly the expected outcome (a Yes, not only its passage)."""
        return self.correct and self.exact

    @property
    def exact(self) -> bool:
        return self.outcome == self.case.expected

    @property
    def grouped(self) -> bool:
        return _GROUP[self.outcome] == _GROUP[self.case.expected]

    @property
    def false_yes(self) -> bool:
        return self.case.expected == "negative" and self.draft.stance == "yes"

    @property
    def unsafe(self) -> bool:
        return (self.case.expected == "needs_input"
                and self.draft.status is not AnswerStatus.NEEDS_INPUT
                and self.draft.confidence >= 0.5)


@dataclass(slots=True)
class QuestionnaireEval:
    golden: str
    questionnaire_id: int
    results: list[CaseResult] = field(default_factory=list)

    def _ratio(self, hits: int, of: int) -> float | None:
        return hits / of if of else None

    @property
    def exact_accuracy(self) -> float | None:
        return self._ratio(sum(r.exact for r in self.results), len(self.results))

    @property
    def grouped_accuracy(self) -> float | None:
        return self._ratio(sum(r.grouped for r in self.results), len(self.results))

    @property
    def abstention_precision(self) -> float | None:
        abstained = [r for r in self.results if r.outcome == "needs_input"]
        return self._ratio(sum(r.case.expected == "needs_input" for r in abstained),
                           len(abstained))

    @property
    def abstention_recall(self) -> float | None:
        expected = [r for r in self.results if r.case.expected == "needs_input"]
        return self._ratio(sum(r.outcome == "needs_input" for r in expected), len(expected))

    @property
    def citation_hit_rate(self) -> float | None:
        scored = [r.citation_hit for r in self.results if r.citation_hit is not None]
        return self._ratio(sum(scored), len(scored))

    @property
    def gate_failures(self) -> list[str]:
        failures = [f"{r.case.id}: Yes where the honest answer is No" for r in self.results
                    if r.false_yes]
        failures += [f"{r.case.id}: a confident answer where a person must decide"
                     for r in self.results if r.unsafe]
        return failures

    def to_json(self) -> dict[str, Any]:
        return {
            "golden": self.golden, "questionnaire_id": self.questionnaire_id,
            "cases": len(self.results), "exact_accuracy": self.exact_accuracy,
            "grouped_accuracy": self.grouped_accuracy,
            "abstention_precision": self.abstention_precision,
            "abstention_recall": self.abstention_recall,
            "citation_hit_rate": self.citation_hit_rate,
            "gate_failures": self.gate_failures,
            "by_type": [row.to_json() for row in report.by_type(self.results)],
            "calibration": report.calibration_json(self.results),
            "by_case": [
                {"id": r.case.id, "type": r.question_type, "correct": r.correct,
                 "trap": r.case.trap, "known_gap": r.case.known_gap,
                 "question": r.case.question, "expected": r.case.expected, "got": r.outcome,
                 "exact": r.exact, "grouped": r.grouped, "citation_hit": r.citation_hit,
                 "confidence": r.draft.confidence, "false_yes": r.false_yes,
                 "unsafe": r.unsafe, "answer": r.draft.text,
                 "citations": [f"{c.source_path} ({c.location})" for c in r.draft.citations]}
                for r in self.results
            ],
        }


def load_cases(path: Path) -> list[Case]:
    """Cases from a YAML golden set, or from a questionnaire someone already answered
    (XLSX, DOCX, CSV): its Yes/No answers are the expected outcomes."""
    if path.suffix.lower() in (".xlsx", ".xlsm", ".docx", ".csv", ".tsv"):
        return _cases_from_answered(path)
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DDQError(ErrorCode.NOT_FOUND, f"{path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "malformed"
        raise DDQError(ErrorCode.INVALID_INPUT,
                       f"{path}: not valid YAML{where} ({problem})") from exc
    raw_cases = data.get("cases") if isinstance(data, dict) else None
    if not isinstance(raw_cases, list) or not raw_cases:
        raise DDQError(ErrorCode.INVALID_INPUT, f"{path}: expected a non-empty 'cases' list")
    cases: list[Case] = []
    seen: set[str] = set()
    for number, raw in enumerate(raw_cases, start=1):
        if not isinstance(raw, dict) or not str(raw.get("question") or "").strip():
            raise DDQError(ErrorCode.INVALID_INPUT, f"{path}: case {number} has no question")
        case_id = str(raw.get("id", number))
        if case_id in seen:
            raise DDQError(ErrorCode.INVALID_INPUT, f"{path}: case id {case_id} appears twice")
        seen.add(case_id)
        expected = _ALIASES.get(str(raw.get("expected_outcome")),
                                str(raw.get("expected_outcome")))
        if expected not in OUTCOMES:
            raise DDQError(ErrorCode.INVALID_INPUT,
                           f"{path}: case {case_id} has expected_outcome "
                           f"{raw.get('expected_outcome')!r}; expected one of "
                           f"{', '.join(OUTCOMES + tuple(_ALIASES))}")
        evidence = raw.get("expected_evidence") or []
        cases.append(Case(case_id, " ".join(str(raw["question"]).split()), expected,
                          tuple(str(e) for e in evidence),
                          str(raw["trap"]) if raw.get("trap") else None,
                          bool(raw.get("known_gap")),
                          _declared_type(path, case_id, raw.get("type")),
                          _expected_answer(path, case_id, raw.get("expected_answer"))))
    return cases


def _declared_type(path: Path, case_id: str, value: object) -> str | None:
    if value is None:
        return None
    from ddq.answer.question_types import QuestionType

    names = [t.value for t in QuestionType]
    if str(value) not in names:
        raise DDQError(ErrorCode.INVALID_INPUT,
                       f"{path}: case {case_id} has type {value!r}; expected one of "
                       f"{', '.join(names)}")
    return str(value)


def _expected_answer(path: Path, case_id: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    entries = [value] if isinstance(value, str) else value
    if not isinstance(entries, list) or not all(
            isinstance(e, str | int | float) and str(e).strip() for e in entries):
        raise DDQError(ErrorCode.INVALID_INPUT,
                       f"{path}: case {case_id} has an expected_answer that is not a list "
                       "of non-empty strings")
    return tuple(str(e) for e in entries)


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


def answer_holds(text: str, expected: tuple[str, ...]) -> bool:
    """Whether ``text`` holds every expected entry; an entry "a|b" is found as a or as b."""
    haystack = _folded(text)
    return all(any(_folded(alt) in haystack for alt in entry.split("|") if alt.strip())
               for entry in expected)


def type_of(case: Case) -> str:
    """The case's declared type, or the classifier's reading of its question."""
    if case.type is not None:
        return case.type
    from ddq.answer.question_types import classify_question

    return str(classify_question(case.question))


_VERDICTS = {"yes": "attested", "no": "negative"}


def _cases_from_answered(path: Path) -> list[Case]:
    from ddq.questionnaire.detect.choices import verdict_of
    from ddq.questionnaire.files import extract

    cases = []
    for q in extract(path).questions:
        current = (q.answer.current or "") if q.answer is not None else ""
        expected = _VERDICTS.get(verdict_of(current) or "")
        if expected is not None:
            cases.append(Case(q.qid or q.key, q.text, expected))
    if not cases:
        raise DDQError(ErrorCode.INVALID_INPUT,
                       f"{path}: no question has a Yes or No answer to grade against")
    return cases


def outcome_of(draft: DraftRecord) -> str:
    if draft.status is AnswerStatus.NEEDS_INPUT:
        return "needs_input"
    if draft.stance == "no":
        return "negative"
    if draft.stance == "yes":
        return "attested"
    # An answer with no verdict: an affirmative statement the answerer could not reduce to
    # a plain yes (a scope, a condition) - what "qualified" means.
    return "qualified"


def _evidence_pattern(name: str) -> re.Pattern[str]:
    """"SECQ ENC-01" is questionnaire id ENC-01; "Security_Whitepaper" is a file name."""
    name = re.sub(r"^(SECQ|CAIQ)\s+", "", name.strip())
    words = [re.escape(w) for w in re.split(r"[\s_]+", name) if w]
    return re.compile(r"(?<![\w.])" + r"[\s_]+".join(words) + r"(?![\w])", re.IGNORECASE)


def citation_hit(case: Case, draft: DraftRecord, chunk_texts: dict[int, str]) -> bool | None:
    if not case.evidence or draft.status is AnswerStatus.NEEDS_INPUT:
        return None
    patterns = [_evidence_pattern(e) for e in case.evidence]
    for citation in draft.citations:
        haystack = " ".join((citation.source_path, citation.location, citation.quote,
                             chunk_texts.get(citation.chunk_id, "")))
        if any(p.search(haystack) for p in patterns):
            return True
    return False


def evaluate_questionnaire(kb: KnowledgeBase, golden: Path, *, batch_size: int = 32
                           ) -> QuestionnaireEval:
    cases = load_cases(golden)
    job = QuestionnaireJob(kb, batch_size=batch_size)
    digest = hashlib.sha256(golden.read_bytes()).hexdigest()  # after load_cases checked it
    questions = [
        ExtractedQuestion(key=c.id, text=c.question, qid=c.id, section=(), location=f"case {c.id}",
                          answer=Target(TargetRole.ANSWER, f"case:{c.id}"))
        for c in cases
    ]
    # A fresh job per evaluation: it scores the knowledge base as it is now.
    info, _ = job.store.create(
        workspace=kb.workspace, job_key=uuid.uuid4().hex, name=f"eval: {golden.name}",
        source_path=str(golden.resolve()), source_hash=digest, format="golden",
        options={}, layout={}, questions=questions)
    job.run(info)
    records = {q.key: q for q in job.store.questions(info.id)}
    drafts = job.store.drafts(info.id)
    cited = {c.chunk_id for d in drafts.values() for c in d.citations}
    chunks = kb.store.chunks_by_ids(kb.workspace, cited)
    chunk_texts = {i: f"{c.text} {c.question or ''} {c.answer or ''}" for i, c in chunks.items()}
    result = QuestionnaireEval(str(golden), info.id)
    for case in cases:
        draft = drafts[records[case.id].id]
        result.results.append(CaseResult(case, draft, outcome_of(draft),
                                         citation_hit(case, draft, chunk_texts),
                                         type_of(case)))
    return result


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def format_markdown(result: QuestionnaireEval) -> str:
    lines = [
        f"Golden set: `{result.golden}` ({len(result.results)} cases, questionnaire job "
        f"{result.questionnaire_id})",
        "",
        "| id | type | trap | expected | got | conf | cited expected | answer |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in result.results:
        mark = "" if r.grouped and r.answer_matched else " ✗"
        flags = " **FALSE YES**" if r.false_yes else (" **UNSAFE**" if r.unsafe else "")
        cite = {None: "–", True: "yes", False: "no"}[r.citation_hit]
        text = " ".join(r.draft.text.split())
        text = text if len(text) <= 90 else text[:87] + "…"
        gap = " (known gap)" if r.case.known_gap else ""
        lines.append(f"| {r.case.id}{gap} | {r.question_type} | {r.case.trap or ''} | "
                     f"{r.case.expected} | "
                     f"{r.outcome}{mark}{flags} | {r.draft.confidence:.2f} | {cite} | "
                     f"{text.replace('|', '/')} |")
    lines += [
        "",
        f"- outcome accuracy, exact (4 outcomes): {_pct(result.exact_accuracy)}",
        f"- outcome accuracy, grouped (attested = qualified): {_pct(result.grouped_accuracy)}",
        f"- abstention precision: {_pct(result.abstention_precision)}; "
        f"recall: {_pct(result.abstention_recall)}",
        f"- citation hit rate (answered cases naming evidence): "
        f"{_pct(result.citation_hit_rate)}",
        "- safety gates: "
        + ("all hold" if not result.gate_failures else "; ".join(result.gate_failures)),
        f"- {_answered_line(report.by_type(result.results)[-1])}",
        "",
        "By question type (correct: the grouped outcome and, where the case gives one, the "
        "expected answer):",
        "",
        report.format_by_type(report.by_type(result.results)),
        "",
        "Calibration (answers only; abstentions are not answers):",
        "",
        report.format_calibration(result.results),
    ]
    return "\n".join(lines)


def _answered_line(total: report.TypeRow) -> str:
    return (f"answered {_pct(total.answered_of_answerable)} of the answerable questions "
            f"({total.answered_answerable} of {total.answerable}); wrongly answered "
            f"{_pct(total.wrong_of_answered)} of the answers ({total.wrong} of {total.answered})")


def format_combined(results: list[QuestionnaireEval]) -> str:
    """The per-type and calibration tables over several golden sets together."""
    cases = [r for result in results for r in result.results]
    names = ", ".join(f"`{Path(result.golden).name}`" for result in results)
    return "\n".join([
        f"All {len(results)} golden sets together ({names}; {len(cases)} cases)", "",
        report.format_by_type(report.by_type(cases)), "",
        report.format_calibration(cases)])


def combined_json(results: list[QuestionnaireEval]) -> dict[str, Any]:
    cases = [r for result in results for r in result.results]
    return {"sets": [result.to_json() for result in results],
            "by_type": [row.to_json() for row in report.by_type(cases)],
            "calibration": report.calibration_json(cases)}
