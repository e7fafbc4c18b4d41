"""The answerer that needs no LLM (the embedded default).

1. An approved library entry whose question matches closely is the answer, cited.
2. Otherwise the best evidence units (lines or sentences) of the retrieved chunks are
   composed into a short answer, each one cited.
3. When the evidence does not mention what the question is about, or matches weakly, it
   abstains with "needs input" and says what it looked for. It never guesses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ddq.answer.evidence import (
    Memo,
    Plan,
    Unit,
    clip,
    label_of,
    sentences_of,
    units_that_count,
    where,
)
from ddq.answer.lexicon import Lexicon, only_acronyms
from ddq.answer.library_match import REWORDED_FLOOR, library_reuse
from ddq.answer.question_types import (
    VALUE_TYPES,
    QuestionType,
    question_shape,
    without_enumerators,
)
from ddq.answer.safety import without_instructions
from ddq.answer.support import (
    QUALIFIERS,
    Subject,
    asks_metadata,
    is_label,
    is_metadata,
    subject_numbers,
    trim_labels,
    unique_sentences,
    without_label,
)
from ddq.answer.text import (
    answer_line,
    asks_alternatives,
    asks_prohibition,
    asks_universal,
    evidence_units,
    field_value,
    has_negative_cue,
    is_yes_no_question,
    key_words,
    negation_elsewhere,
    says_universal,
    stance_sentences,
    strip_verdict,
    term_alternatives,
)
from ddq.answer.values import DATE_EVENTS, has_value, type_words
from ddq.domain import (
    Answer,
    AnswerStatus,
    Citation,
    RetrievalResult,
    SearchHit,
    StoredChunk,
)
from ddq.index.keyword import BM25KeywordIndex
from ddq.models.base import Embedder
from ddq.models.cache import CachedEmbedder, VectorCache

NEEDS_INPUT = "Needs input"
_SAME_POINT = 0.85
#: A supporting line (beyond the best one) must say something: at least this many words.
_MIN_SUPPORT_WORDS = 4
#: Evidence-unit vectors kept between batches (about 1.5 KB each with a 384-d model).
_CACHE_SIZE = 20_000
#: Stemmed terms of evidence units, and the units of chunk texts, kept between questions:
#: retrieved chunks recur across the questions of a questionnaire.
_TEXT_CACHE_SIZE = 50_000
#: A unit that holds a value of the type asked ("every year" for "how often") scores this
#: much more than one that does not.
_VALUE_BONUS = 0.08
#: A Yes needs the answering unit to cover this share of the question's key terms
#: (predicate words weighing less) and to match it this closely.
_YES_SUPPORT = 0.8
#: A further sentence is quoted when the terms it adds make up this share of the weight.
_ADDS_WEIGHT = 0.15
_YES_SIMILARITY = 0.45
#: A unit covering this share of the key terms (predicate words weighing less) is a
#: candidate down to the abstain threshold minus the margin; one covering half, at the
#: threshold; in between, in proportion (measured on the four golden sets).
_FULL = 0.9
_HALF = 0.5
#: The answering unit covers at least this share of the key terms (predicate words
#: weighing less): a close vector alone is not an answer.
_MIN_SUPPORT = 0.35
_FULL_MARGIN = 0.12
#: Retrieved chunks beyond ``evidence_chunks`` read for a concept of the question that the
#: first ones do not name (see ``_evidence_hits``).
_EXTRA_CHUNKS = 2


@dataclass(frozen=True, slots=True)
class AnswerSettings:
    library_match_threshold: float = 0.86
    abstain_threshold: float = 0.40
    min_term_coverage: float = 0.4
    evidence_chunks: int = 5
    max_units: int = 3



class ExtractiveAnswerer:
    def __init__(self, *, embedder: Embedder, keyword_index: BM25KeywordIndex,
                 settings: AnswerSettings | None = None,
                 vector_cache: VectorCache | None = None) -> None:
        self.embedder = embedder
        self.keyword_index = keyword_index
        self.settings = settings or AnswerSettings()
        self.vector_cache = vector_cache
        self._cache: Memo[np.ndarray] = Memo(_CACHE_SIZE)
        self._stem_cache: Memo[frozenset[str]] = Memo(_TEXT_CACHE_SIZE)
        self._unit_cache: Memo[list[str]] = Memo(_TEXT_CACHE_SIZE)
        self._concept_cache: Memo[frozenset[str]] = Memo(_TEXT_CACHE_SIZE)
        self._spelled_cache: Memo[str] = Memo(_TEXT_CACHE_SIZE)
        self.lexicon = Lexicon(keyword_index.stem_terms)

    def answer(self, retrieval: RetrievalResult) -> Answer:
        return self.answer_many([retrieval])[0]

    def answer_many(self, retrievals: Sequence[RetrievalResult]) -> list[Answer]:
        """Answer a batch: the vectors of the whole batch in one model call (two at most),
        a unit that several questions share embedded once, and a unit embedded only when
        its vector can change the answer (see :func:`units_that_count`)."""
        plans: list[Answer | Plan] = []
        for retrieval in retrievals:
            library = self._library_answer(retrieval)
            plans.append(library if library is not None
                         else self._prepare(retrieval, self._units(retrieval)))
        unfit = {n: [self._unfit(p, i) for i in range(len(p.units))]
                 for n, p in enumerate(plans) if isinstance(p, Plan)}
        counting = {n: units_that_count(unfit[n], [self._may_support(p, i)
                                                   for i in range(len(p.units))])
                    for n, p in enumerate(plans) if isinstance(p, Plan)}
        lookup = self._vectors(self._texts(plans, counting))
        answers = [p if isinstance(p, Answer) else self._compose(p, lookup, unfit[n])
                   for n, p in enumerate(plans)]
        # No unit that may answer matched: the abstention names the closest of all.
        again = {n: list(range(len(p.units))) for n, (p, a) in enumerate(zip(
            plans, answers, strict=True)) if a is None and isinstance(p, Plan)}
        if again:
            lookup.update(self._vectors(self._texts(plans, again)))
        done: list[Answer] = []
        for n, (plan, answer) in enumerate(zip(plans, answers, strict=True)):
            if answer is None:
                assert isinstance(plan, Plan)
                answer = self._compose(plan, lookup, unfit[n])
                assert answer is not None  # every vector is there now
            done.append(answer)
        return done

    def _texts(self, plans: list[Answer | Plan], units: dict[int, list[int]]) -> list[str]:
        """The texts to embed for these units of these plans (both readings of each unit,
        and the question when retrieval passed no vector on), each once."""
        texts: dict[str, None] = {}
        for n, indices in units.items():
            plan = plans[n]
            assert isinstance(plan, Plan)
            if plan.vector is None:
                texts[plan.question] = None
            for i in indices:
                texts[plan.units[i].in_context] = None
                texts[self._embedded(plan.units[i])] = None
        return list(texts)

    def _vectors(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Vectors for texts: from a bounded in-memory cache, then the persistent cache (an
        evidence sentence is embedded once per knowledge base, not once per questionnaire),
        then one model call for the rest, which is written back."""
        found = {t: v for t in texts if (v := self._cache.get(t)) is not None}
        missing = [t for t in texts if t not in found]
        if missing:
            if self.vector_cache is not None:
                vectors = CachedEmbedder(self.embedder, self.vector_cache).lookup(missing).vectors
            else:
                vectors = self.embedder.embed(missing)
            for text, vector in zip(missing, vectors, strict=True):
                found[text] = self._cache.put(text, vector)
        return found

    def _library_answer(self, retrieval: RetrievalResult) -> Answer | None:
        reuse = library_reuse(retrieval.question, retrieval.library_matches,
                              threshold=self.settings.library_match_threshold,
                              lexicon=self.lexicon)
        if reuse is None:
            return None
        return self._from_library(retrieval.question, reuse.match.chunk,
                                  reuse.match.similarity, reworded=reuse.reworded)

    def _prepare(self, retrieval: RetrievalResult, units: list[Unit]) -> Plan | Answer:
        """Everything about a question that needs no vectors, and the abstentions that
        follow from it alone: text that is not a question, and a question whose key terms
        the evidence does not mention, are answered "needs input" without embedding any of
        its evidence."""
        question = retrieval.question
        shape = question_shape(question)
        if shape.type is QuestionType.NOT_A_QUESTION:
            return self._abstain(question, [], [], shape.problem)
        unknown = [a for a in only_acronyms(question) if not self.lexicon.knows(a)]
        if unknown:
            return self._abstain(
                question, [], [],
                f"the question is only {', '.join(unknown)}, an acronym the domain "
                "vocabulary does not know; a person should say what it stands for")
        all_terms = key_words(question)
        # "How often…", "Which tool…": the value answers those words, they need not recur.
        drop = type_words(shape.wants or shape.type)
        terms = [t for t in all_terms if t not in drop] or all_terms
        if not asks_metadata(question, shape):
            # "Version 3.2, approved by …" answers no question about the practice.
            units = [u for u in units if not is_metadata(u.text)]
        if not units:
            return self._abstain(question, terms, [], "nothing relevant was retrieved")
        lexicon = self.lexicon
        asked = lexicon.stems(question)
        matches = lexicon.matches(asked)
        stems = {term: self._stem(term) for term in terms}
        concepts_of = {
            term: frozenset(m.concept.name for m in matches
                            if stems[term] in {asked[i] for i in m.positions})
            for term in terms}
        # "annually" is answered by "every year", "enforced" by "mandatory".
        accepted = {term: {stems[term], *lexicon.synonyms(stems[term]),
                           *(self._stem(a) for a in term_alternatives(term))}
                    for term in terms}
        spans: dict[str, frozenset[str]] = {}
        for m in matches:
            spans[m.concept.name] = spans.get(m.concept.name, frozenset()) | {
                asked[i] for i in m.positions}
        strict = frozenset(c for c in spans if lexicon.is_strict(c))
        if shape.parts > 1:
            # "(1) Encryption? (2) Background checks?": no passage is about every part;
            # each is answered by its own, and only a narrow concept must be met as such.
            spans = {c: v for c, v in spans.items() if c in strict}
        subject = Subject(
            concepts=spans, strict=strict,
            parties=lexicon.parties(question) if shape.parts == 1 else frozenset(),
            modifiers=lexicon.modifiers(question),
            numbers=frozenset(subject_numbers(without_enumerators(question)))
            if shape.parts == 1 else frozenset())
        plan = Plan(question, retrieval.vector, shape, terms, units, stems, accepted,
                     concepts_of, self._term_weights(list(stems.values())),
                     [self._stems(u.said) for u in units],
                     [self._concepts(u.said) for u in units], subject, lexicon,
                     frozenset(re.findall(r"[a-z0-9]+", question.lower())))
        whole_coverage, whole_missing = plan.coverage(list(range(len(units))))
        if whole_coverage < self.settings.min_term_coverage:
            closest = max(range(len(units)), key=lambda i: plan.coverage([i])[0])
            return self._abstain(
                question, terms, whole_missing,
                f"the evidence does not mention {', '.join(whole_missing)}; the closest "
                f"passage found ({where(units[closest])}: "
                f"{clip(answer_line(units[closest].text))!r}) was not used",
            )
        return plan

    def _compose(self, plan: Plan, lookup: dict[str, np.ndarray], unfit: list[str]
                 ) -> Answer | None:
        """The answer from the units' vectors. A unit without one in ``lookup`` can neither
        answer nor support (see :func:`units_that_count`); None when no unit with a vector
        may answer and some vectors are missing (the abstention needs them all)."""
        question, terms, units = plan.question, plan.terms, plan.units
        s = self.settings
        asked = plan.vector if plan.vector is not None else lookup[question]
        have = np.array([u.in_context in lookup and self._embedded(u) in lookup
                         for u in units], dtype=bool)
        none = np.zeros_like(asked)
        vectors = np.stack([asked] + [lookup[u.in_context] if h else none
                                      for u, h in zip(units, have, strict=True)])
        similarities = vectors[1:] @ vectors[0]
        # The same units with their acronyms spelled out: "RTO 6 h" matches "What is your
        # recovery time objective?" only so. The closer of the two readings counts.
        spelled = np.stack([lookup[self._embedded(u)] if h else none
                            for u, h in zip(units, have, strict=True)]) @ vectors[0]
        similarities = np.where(have, np.maximum(similarities, spelled), -np.inf)
        kind = plan.value_type
        holds_value = [kind is not None and has_value(u.text, kind) for u in units]
        scores = np.array([
            0.75 * float(similarities[i]) + 0.25 * plan.coverage([i])[0]
            + (_VALUE_BONUS if holds_value[i] else 0.0)
            for i in range(len(units))
        ])
        order = [int(i) for i in np.argsort(-scores, kind="stable")]
        # The answering passage is the best one about the question's subject and party.
        # A long passage about several things embeds far from a short question; one that
        # has the question's key terms is still a candidate a little below the threshold:
        # the more of them it has (from half to nearly all), the lower its floor.
        supports = [plan.coverage([i], light=True)[0] for i in range(len(units))]
        full = [v >= _FULL for v in supports]
        floor = [s.abstain_threshold - _FULL_MARGIN * min(1.0, max(
            0.0, (v - _HALF) / (_FULL - _HALF))) for v in supports]
        candidates = [i for i in order if similarities[i] >= floor[i]]
        best = next((i for i in candidates if not unfit[i]), None)
        if best is None and not have.all():
            return None
        if best is None:
            top = candidates[0] if candidates else order[0]
            best_similarity = float(similarities[top])
            if not candidates:
                return self._abstain(
                    question, terms, plan.coverage([top])[1],
                    f"the closest evidence matches weakly (similarity {best_similarity:.2f})")
            quote = answer_line(units[top].text)
            return self._abstain(
                question, terms, [],
                f"the closest evidence ({where(units[top])}: {clip(quote)!r}) is about "
                f"something adjacent: {unfit[top]}; it was not used")
        best_similarity = float(similarities[best])
        chosen = self._supporting(plan, best, order, scores, similarities, vectors[1:])
        covered, missing = plan.coverage(chosen)
        # A unit with every key term needs a little less similarity for its verdict too.
        stance = self._verdict(plan, best, chosen, best_similarity
                               + (_FULL_MARGIN if full[best] else 0.0)) \
            if plan.shape.type is QuestionType.VERDICT else None
        # The confidence sees the similarity that made it a candidate.
        if full[best]:
            best_similarity = max(best_similarity, s.abstain_threshold)
        lines = unique_sentences(self._quotes(plan, chosen, stance))
        body = " ".join(line + ("" if line[-1:] in ".!?" else ".") for line in lines)
        prefix = {"yes": "Yes — ", "no": "No — "}.get(stance or "", "")
        # A passage that opens with the verdict itself ("No. Not supported.") needs no
        # other; one that opens with a word ("No secrets in code; …") still does.
        if stance and re.match(rf"\s*{stance}\s*[.,;:!—–-]", body, re.IGNORECASE):
            prefix = ""
        span = 1.0 - s.abstain_threshold
        support = plan.coverage([best], light=True)[0]
        confidence = 0.6 * min(1.0, max(0.0, (best_similarity - s.abstain_threshold) / span
                                        + 0.3)) + 0.4 * max(covered, support)
        citations = [
            Citation(units[i].chunk.id, *label_of(units[i].chunk), quote=units[i].text)
            for i in chosen
        ]
        reason = (
            f"composed from {len(chosen)} evidence passage(s); best match {best_similarity:.2f}, "
            f"key terms covered {covered:.0%}"
        )
        if missing:
            reason += f" (not: {', '.join(missing)})"
        return Answer(question, AnswerStatus.ANSWERED, prefix + body, round(confidence, 3),
                      reason, citations, stance)

    def _unfit(self, plan: Plan, index: int) -> str:
        """Why a unit cannot be the answering one ("" when it can): it is about something
        adjacent, or it gives no value of the type asked ("When was the last test?" is not
        answered by a passage without a date, "Which firm audits you?" by one without a
        name other than the question's own)."""
        problem = plan.problem([index])
        if problem:
            return problem
        unit = plan.units[index]
        kind = plan.shape.type
        if kind in VALUE_TYPES and not has_value(unit.text, kind, asked=plan.asked_words):
            return f"it gives no {kind.value} for it"
        if kind is QuestionType.DATE:
            # "When does the certificate EXPIRE?" is not answered by the date it was issued.
            events = [t for t in plan.terms if t in DATE_EVENTS
                      and not plan.accepted[t] & plan.unit_stems[index]]
            if events:
                return f"its date is not when it was {', '.join(events)}"
        support, missing = plan.coverage([index], light=True)
        # A part of a several-part question is answered by a unit about that part only.
        if support < _MIN_SUPPORT and plan.shape.parts == 1:
            return f"it says little of what is asked (not: {', '.join(missing)})"
        return ""

    def _supporting(self, plan: Plan, best: int, order: list[int], scores: np.ndarray,
                    similarities: np.ndarray, unit_vectors: np.ndarray) -> list[int]:
        """The answering unit first, then the few others that add what it lacks: a term it
        misses (any question), or more of the answer (a description or a list)."""
        s = self.settings
        wide = plan.shape.type in (QuestionType.DESCRIPTION, QuestionType.LIST)
        limit = s.max_units if wide else 2
        chosen = [best]
        covered = plan.coverage(chosen)[0]
        for index in order:
            if len(chosen) >= limit or index in chosen:
                continue
            if similarities[index] < s.abstain_threshold or scores[index] < scores[best] - 0.08:
                continue
            # The checks that need no vector come first: a unit that fails them needs none.
            if not self._may_support(plan, index):
                continue
            # A line that says what a chosen one already says adds length, not support.
            if any(float(unit_vectors[index] @ unit_vectors[c]) >= _SAME_POINT
                   for c in chosen):
                continue
            more = plan.coverage([*chosen, index])[0]
            if not wide and more <= covered + 1e-9:
                continue
            chosen.append(index)
            covered = more
        return chosen

    def _may_support(self, plan: Plan, index: int) -> bool:
        """Whether a unit may support the answering one, as far as its words say (the
        vector checks of :meth:`_supporting` come after): it is not about something
        adjacent, and it is more than a bare value ("last_reviewed: 2026-01-15" matches
        through its heading only)."""
        text = plan.units[index].text
        return (len(field_value(text).split()) >= _MIN_SUPPORT_WORDS
                and not plan.problem([index]))

    def _verdict(self, plan: Plan, best: int, chosen: list[int], similarity: float
                 ) -> str | None:
        """"yes", "no" or None (the passage does not say), read from the answering unit;
        a Yes needs the chosen units, all affirmative, to support the whole question."""
        question = plan.question
        unit = plan.units[best]
        key_stems = set(plan.stems.values())
        # The verdict is read from the best-matching unit only: another chosen line is
        # about something near the subject, and its "not" is not this question's "No".
        said = stance_sentences(unit.text, self._stems, key_stems)
        negative = any(has_negative_cue(sentence) for sentence in said)
        if negative and all(negation_elsewhere(sentence, self._stems, key_stems)
                            for sentence in said if has_negative_cue(sentence)):
            # "Keys are rotated on a schedule, and never embedded in code": the "never" is
            # about something else. Not a No; and, with a "never" in it, not a Yes either.
            return None
        if negative:
            # "SOC 2 or ISO 27001?": a No from the line about one of them is not a No to
            # the question; only a person can say "No" to both from separate evidence.
            # "Are shared accounts prohibited?": "users never share accounts" says Yes in
            # other words; a verdict read from its "never" would be the opposite.
            if asks_alternatives(question) or asks_prohibition(question):
                return None
            return "no"
        support, missing = plan.coverage(chosen, light=True)
        if support < _YES_SUPPORT or similarity < _YES_SIMILARITY:
            return None
        # A Yes that needs another unit's support needs that unit affirmative too.
        if plan.coverage([best], light=True)[0] < _YES_SUPPORT and any(
                has_negative_cue(sentence) for i in chosen if i != best
                for sentence in stance_sentences(plan.units[i].text, self._stems,
                                                 key_stems)):
            return None
        # "Do you operate your OWN datacenters?", "a PUBLIC bug bounty": a word that
        # changes which practice is meant must be in the passage for a Yes.
        if QUALIFIERS.intersection(missing):
            return None
        # "Were ALL findings remediated?", "Is access ALWAYS removed within a day?":
        # evidence of a practice is not evidence of no exception; it takes a passage that
        # says so for all of them too ("enforced for all staff").
        if asks_universal(question) and not says_universal(question, unit.text):
            return None
        return "yes"

    def _quotes(self, plan: Plan, chosen: list[int], stance: str | None) -> list[str]:
        """The sentences of the chosen units that support the answer, the answering one
        first: from the answering unit, the sentence its No is read from, or else its
        sentence that covers most of the question (or holds the value asked), then any
        sentence of the chosen units that adds a term not yet covered. A description or a
        list also keeps every sentence with a term."""
        kind = plan.value_type
        wide = plan.shape.type in (QuestionType.DESCRIPTION, QuestionType.LIST)
        have: set[str] = set()
        quotes: list[str] = []
        for n, index in enumerate(chosen):
            sentences = sentences_of(answer_line(plan.units[index].text))
            terms = [self._terms_in(plan, sentence) for sentence in sentences]
            keep = [False] * len(sentences)
            first = 0
            if n == 0:
                ranks = [(plan.weight_of(found)
                          + (1.0 if kind is not None and has_value(sentence, kind) else 0.0),
                          -i) for i, (sentence, found) in enumerate(zip(sentences, terms,
                                                                         strict=True))]
                first = max(range(len(sentences)), key=ranks.__getitem__)
                if stance == "no":
                    # "There is no paid bug bounty." is the answer, whatever else covers.
                    said = stance_sentences(plan.units[index].text, self._stems,
                                            set(plan.stems.values()))
                    negative = [i for i, sentence in enumerate(sentences)
                                if any(has_negative_cue(part) and part in sentence
                                       for part in said)]
                    first = negative[0] if negative else first
                keep[first] = True
                have |= terms[first]
            for i, found in enumerate(terms):
                # A sentence joins for a term that matters, not for "security" alone.
                adds = plan.weight_of(found - have) >= _ADDS_WEIGHT
                if not keep[i] and (adds or (wide and found)):
                    keep[i] = True
                    have |= found
            picked = [i for i, k in enumerate(keep) if k]
            if not picked:
                continue
            # The answering sentence first, then the others in their order.
            if n == 0:
                # Its label ("Customer-managed keys (CMEK / BYOK).") stays in front of it.
                lead = first - 1 if first > 0 and is_label(sentences[first - 1]) else first
                picked.sort(key=lambda i: (i not in (lead, first), i))
            quotes.append(without_label(trim_labels(sentences, picked)))
        return quotes

    def _terms_in(self, plan: Plan, sentence: str) -> set[str]:
        """The question's key terms a sentence covers (by stem, synonym or concept)."""
        stems, concepts = self._stems(sentence), self._concepts(sentence)
        return {t for t in plan.stems
                if plan.accepted[t] & stems or plan.concepts_of[t] & concepts}

    def _units(self, retrieval: RetrievalResult) -> list[Unit]:
        units: list[Unit] = []
        for hit in self._evidence_hits(retrieval):
            chunk = hit.chunk
            text = (strip_verdict(chunk.answer) if chunk.answer else chunk.text) or ""
            # Text addressed to a model is not evidence of anything (see answer.safety).
            found = self._unit_cache.get_or_make(
                text, lambda t: evidence_units(without_instructions(t)))
            units.extend(Unit(chunk, unit) for unit in found)
        return units

    def _evidence_hits(self, retrieval: RetrievalResult) -> list[SearchHit]:
        """The first ``evidence_chunks`` hits, then (at most :data:`_EXTRA_CHUNKS`) later
        ones that name a concept of the question the first ones never name: "Is EDR
        deployed?" ranks the incident-response plan (detection, response) above the line
        that says "endpoint protection (EDR)"."""
        first = list(retrieval.hits[: self.settings.evidence_chunks])
        asked = self._concepts(retrieval.question)
        if not asked:
            return first
        wanted = asked - frozenset().union(*(self._concepts(h.chunk.text) for h in first))
        extra: list[SearchHit] = []
        for hit in retrieval.hits[self.settings.evidence_chunks:]:
            if not wanted or len(extra) >= _EXTRA_CHUNKS:
                break
            named = self._concepts(hit.chunk.text) & wanted
            if named:
                extra.append(hit)
                wanted -= named
        return first + extra

    def _embedded(self, unit: Unit) -> str:
        """A unit's second reading: in context, its acronyms spelled out once ("RTO
        (recovery time objective) 6 h"), which the model reads better than "RTO". The same
        text as :attr:`Unit.in_context` (embedded once) when it has none."""
        return self._spelled_cache.get_or_make(unit.in_context, self.lexicon.spelled_out)

    def _concepts(self, text: str) -> frozenset[str]:
        return self._concept_cache.get_or_make(
            text, lambda t: self.lexicon.concepts(self.lexicon.stems(t)))

    def _stems(self, text: str) -> frozenset[str]:
        return self._stem_cache.get_or_make(
            text, lambda t: frozenset(self.keyword_index.stem_terms(t)))

    def _stem(self, word: str) -> str:
        stems = self.keyword_index.stem_terms(word)
        return stems[0] if stems else word

    def _term_weights(self, stems: list[str]) -> dict[str, float]:
        idf = self.keyword_index.idf(stems)
        known = [v for v in idf.values() if v > 0]
        rare = (max(known) if known else 1.0) + 1.0
        # A term the corpus never uses is the most telling of all: it weighs most.
        return {st: (idf.get(st) or rare) for st in stems}

    def _from_library(self, question: str, chunk: StoredChunk, similarity: float, *,
                      reworded: bool = False) -> Answer:
        answer = chunk.answer or chunk.text
        confidence = min(1.0, 0.75 + (similarity - self.settings.library_match_threshold) * 2)
        if reworded:
            # Below the threshold: for a person to check, never in the confident band.
            confidence = min(0.74, 0.5 + (similarity - REWORDED_FLOOR))
        stance = None
        if is_yes_no_question(question):
            words = answer.split(None, 1)
            first = words[0].strip(".,;:!").lower() if words else ""
            stance = first if first in ("yes", "no") else None
        citation = Citation(chunk.id, *label_of(chunk), quote=f"Q: {chunk.question}")
        kind = "a reworded" if reworded else "a matching"
        reason = (
            f"approved library answer to {kind} question (similarity {similarity:.2f}): "
            f"{chunk.question!r}"
        )
        return Answer(question, AnswerStatus.LIBRARY, answer, round(confidence, 3), reason,
                      [citation], stance, drafted_by="library")

    def _abstain(self, question: str, terms: list[str], missing: list[str], why: str) -> Answer:
        looked_for = ", ".join(terms) or question
        reason = f"{why}; looked for: {looked_for}"
        return Answer(question, AnswerStatus.NEEDS_INPUT, NEEDS_INPUT, 0.0, reason, [], None)
