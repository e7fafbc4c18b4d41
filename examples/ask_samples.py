"""Answer every question in a file from an ingested DDQ knowledge base, with citations.

The demo that ``make demo`` runs after ingesting the sample knowledge base (Harborline
Analytics, a fictional company)::

    .venv/bin/ddq ingest examples/knowledge --home .ddq-demo
    .venv/bin/python examples/ask_samples.py --home .ddq-demo \\
        examples/sample_questions.txt examples/out_of_scope_questions.txt

The questions file holds one question per line; blank lines and lines starting with ``#`` are
skipped. The knowledge base (and so the embedding model) is opened once for all questions.
Each answer is printed as ``ddq ask`` prints it, followed by a one-line summary. Expected
failures (a missing file, a bad setting, an empty knowledge base) print one line to stderr and
exit with status 1.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from ddq.cli_output import console, print_answer
from ddq.config import load_settings
from ddq.domain import AnswerStatus
from ddq.errors import DDQError, ErrorCode
from ddq.kb import KnowledgeBase


def read_questions(path: Path) -> list[str]:
    """The questions in ``path``: one per line, without blanks and ``#`` comments."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DDQError(ErrorCode.NOT_FOUND, f"questions file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DDQError(
            ErrorCode.UNREADABLE_FILE, f"cannot read questions file {path}: {exc}"
        ) from exc
    questions = [line.strip() for line in text.splitlines()]
    questions = [q for q in questions if q and not q.startswith("#")]
    if not questions:
        raise DDQError(ErrorCode.INVALID_INPUT, f"questions file {path} holds no questions")
    return questions


def ask_all(home: Path, question_sets: list[tuple[Path, list[str]]]) -> Counter[AnswerStatus]:
    """Answer every set of questions from the knowledge base in ``home``, printing each."""
    settings = load_settings(home=home)
    tally: Counter[AnswerStatus] = Counter()
    with KnowledgeBase(settings) as kb:
        if kb.store.counts(kb.workspace).documents == 0:
            raise DDQError(
                ErrorCode.NOT_FOUND,
                f"the knowledge base in {home} is empty; run `ddq ingest examples/knowledge "
                f"--home {home}` first",
            )
        for path, questions in question_sets:
            console.print(f"\n[bold]== {path} ==[/bold]\n")
            for number, question in enumerate(questions, start=1):
                if number > 1:
                    console.print()
                answer = kb.ask(question)
                print_answer(answer)
                tally[answer.status] += 1
    return tally


def summary(tally: Counter[AnswerStatus]) -> str:
    total = sum(tally.values())
    return (
        f"{total} questions: {tally[AnswerStatus.ANSWERED]} answered from documents, "
        f"{tally[AnswerStatus.LIBRARY]} library matches, "
        f"{tally[AnswerStatus.NEEDS_INPUT]} need input"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Answer the questions in a file from an ingested DDQ knowledge base."
    )
    parser.add_argument(
        "questions", type=Path, nargs="+", help="text files with one question per line"
    )
    parser.add_argument(
        "--home",
        type=Path,
        default=Path(".ddq-demo"),
        help="DDQ data directory that `ddq ingest` wrote (default: .ddq-demo)",
    )
    args = parser.parse_args(argv)
    try:
        question_sets = [(path, read_questions(path)) for path in args.questions]
        tally = ask_all(args.home, question_sets)
    except DDQError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    console.print()
    console.print(summary(tally))
    return 0


if __name__ == "__main__":
    sys.exit(main())
