"""One header vocabulary: the same header text names the same column whichever file kind
it comes in (a workbook, a CSV file, a Word table) and in an answer library."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest

from ddq.forms import ExtractedQuestion
from ddq.ingest.library_loaders import LibraryColumns, load_csv_library, load_xlsx_library
from ddq.questionnaire.detect.headers import HeaderRole, header_role
from ddq.questionnaire.files import extract

QUESTIONS = ("Do you encrypt customer data at rest?", "Is MFA enforced for administrators?",
             "Do you test backups every quarter?")
#: (header, what it names) of real forms: SIG, CAIQ v4, HECVAT, and common RFP columns.
HEADERS = [
    ("Ques Num", HeaderRole.ID),
    ("Question/Request", HeaderRole.QUESTION),
    ("Response", HeaderRole.ANSWER),
    ("Additional Information", HeaderRole.NOTES),
    ("Question ID", HeaderRole.ID),
    ("Question", HeaderRole.QUESTION),
    ("CSP CAIQ Answer", HeaderRole.ANSWER),
    ("CSP Implementation Description", HeaderRole.NOTES),
    ("SSRM Control Ownership", None),
    ("Comments (max 500 characters)", HeaderRole.NOTES),
    ("Vendor Response", HeaderRole.ANSWER),
    ("Yes", HeaderRole.CHOICE),
    ("N/A", HeaderRole.CHOICE),
    ("Yes/No", HeaderRole.ANSWER),
    ("Owner", HeaderRole.OWNER),
    ("Review by", HeaderRole.REVIEW_BY),
    ("", None),
]


def _rows(header: Sequence[str], answers: Sequence[Sequence[str]]) -> list[list[str]]:
    """The header over one row per question: an id, the question, then ``answers``."""
    return [list(header)] + [[f"A.{n}", question, *answer]
                             for n, (question, answer) in enumerate(zip(QUESTIONS, answers,
                                                                        strict=True), start=1)]


#: One sheet each: (header, the cells after the id and question of each row).
LAYOUTS = {
    "sig": (["Ques Num", "Question/Request", "Response", "Additional Information"],
            [["Yes", "AES-256 at rest."], ["No", "Planned for Q3."], ["", ""]]),
    "caiq": (["Question ID", "Question", "CSP CAIQ Answer", "SSRM Control Ownership",
              "CSP Implementation Description"],
             [["Yes", "CSP-owned", "AES-256 at rest."], ["No", "Shared", "Planned."],
              ["", "", ""]]),
    "hecvat": (["", "Question", "Vendor Response", "Additional Information"],
               [["Yes", "AES-256 at rest."], ["No", ""], ["", "Tested in March."]]),
    "limited comments": (["ID", "Question", "Vendor Response", "Comments (max 500 characters)"],
                         [["Yes", "AES-256 at rest."], ["", ""], ["No", "Monthly."]]),
    "choice columns": (["ID", "Question", "Yes", "No", "N/A", "Comments"],
                       [["X", "", "", "AES-256 at rest."], ["", "X", "", ""],
                        ["", "", "", ""]]),
    "yes/no beside a response": (["ID", "Question", "Yes/No", "Response"],
                                 [["Yes", "AES-256 at rest."], ["No", "Planned."], ["", ""]]),
    "owner and review": (["ID", "Question", "Answer", "Comments", "Owner", "Review by"],
                         [["Yes", "AES-256 at rest.", "CISO", "2027-06-30"],
                          ["No", "", "IT", ""], ["", "", "", ""]]),
}


def _files(samples, name: str, rows: list[list[str]]) -> dict[str, Path]:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    stem = name.replace(" ", "_")
    return {
        "xlsx": samples.xlsx(f"{stem}.xlsx", {"Questionnaire": rows}),
        "csv": samples.text(f"{stem}.csv", text.getvalue()),
        "docx": samples.docx(f"{stem}.docx", [("h1", "Security questionnaire"),
                                              ("table", rows)]),
    }


def _read(question: ExtractedQuestion) -> tuple[object, ...]:
    """What the reader found in a question's row: its id, its text, what the answer place and
    the notes place hold now."""
    return (question.qid, question.text,
            question.answer.current if question.answer else "no answer place",
            question.notes.current if question.notes else "no notes place")


@pytest.mark.unit
@pytest.mark.parametrize(("header", "role"), HEADERS)
def test_one_header_names_one_role(header: str, role: HeaderRole | None) -> None:
    assert header_role(header) == role


@pytest.mark.unit
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_the_same_header_row_is_read_the_same_in_every_format(samples, layout: str) -> None:
    header, answers = LAYOUTS[layout]
    read = {kind: [_read(q) for q in extract(path).questions]
            for kind, path in _files(samples, layout, _rows(header, answers)).items()}
    assert read["csv"] == read["xlsx"], layout
    assert read["docx"] == read["xlsx"], layout
    assert [text for _, text, *_ in read["xlsx"]] == list(QUESTIONS)


@pytest.mark.unit
def test_the_places_are_the_columns_the_headers_name(samples) -> None:
    header, answers = LAYOUTS["hecvat"]
    path = _files(samples, "hecvat", _rows(header, answers))["xlsx"]
    first = extract(path).questions[0]
    assert first.answer is not None and first.notes is not None
    # The blank header over "A.1" is the id column; the answer and notes as headed.
    assert (first.qid, first.answer.ref, first.notes.ref) == (
        "A.1", "Questionnaire!C2", "Questionnaire!D2")


@pytest.mark.unit
def test_an_answer_library_reads_the_same_headers(samples) -> None:
    header, answers = LAYOUTS["owner and review"]
    rows = _rows(header, answers)
    files = _files(samples, "library", rows)
    from_csv = load_csv_library(files["csv"], files["csv"].read_text(), LibraryColumns())
    from_xlsx = load_xlsx_library(files["xlsx"], LibraryColumns())
    for document in (from_csv, from_xlsx):
        assert [(b.library_question, b.library_answer, b.library_owner, b.library_review_by)
                for b in document.blocks] == [
            (QUESTIONS[0], "Yes. AES-256 at rest.", "CISO", date(2027, 6, 30)),
            (QUESTIONS[1], "No", "IT", None),
        ]
