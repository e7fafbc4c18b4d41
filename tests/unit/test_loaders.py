"""Loaders per format: structure (headings, list items, tables), locations for citations,
answer-library column detection, and bad input turned into errors that name the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddq.domain import ChunkKind, LoadedDocument, Location
from ddq.errors import DDQError, ErrorCode
from ddq.ingest.chunking import chunk_document
from ddq.ingest.library_loaders import LibraryColumns
from ddq.ingest.loaders import load_file
from ddq.models.base import approximate_token_count

pytestmark = pytest.mark.unit


def load(path: Path, columns: LibraryColumns | None = None) -> LoadedDocument:
    return load_file(path, path.read_bytes(), columns)


def count(texts: list[str]) -> list[int]:
    return [approximate_token_count(t) for t in texts]


def chunks_of(document: LoadedDocument, max_tokens: int = 230):
    return chunk_document(document, max_tokens=max_tokens, overlap_tokens=20, count_tokens=count)


MARKDOWN = """\
# Security Policy

Intro paragraph that
spans two lines.

## Encryption

Data is encrypted at rest with **AES-256**.

- TLS 1.2 protects data in transit.
- Keys rotate yearly.

### Key Management

| Control | Status |
|---------|--------|
| CMEK    | No     |

```
# not a heading, just a shell comment
```

## Access Control

1. MFA is required for staff.
"""


def test_markdown_headings_become_heading_paths(samples) -> None:
    document = load(samples.text("policy.md", MARKDOWN))
    assert document.title == "Security Policy"
    assert document.format == "markdown"
    paths = {c.location.heading_path: c.text for c in chunks_of(document)}
    assert set(paths) == {
        ("Security Policy",),
        ("Security Policy", "Encryption"),
        ("Security Policy", "Encryption", "Key Management"),
        ("Security Policy", "Access Control"),
    }
    assert paths[("Security Policy",)] == "Intro paragraph that spans two lines."
    # Headings give context; they are not repeated as text of their own.
    assert "Encryption" not in paths[("Security Policy", "Encryption")].split("\n")


def test_markdown_list_items_tables_and_code(samples) -> None:
    document = load(samples.text("policy.md", MARKDOWN))
    items = [b.text for b in document.blocks if b.is_list_item]
    assert items == [
        "TLS 1.2 protects data in transit.",
        "Keys rotate yearly.",
        "Control | Status",
        "CMEK | No",
        "MFA is required for staff.",
    ]
    headings = [(b.heading_level, b.text) for b in document.blocks if b.is_heading]
    assert (1, "not a heading, just a shell comment") not in headings
    texts = [b.text for b in document.blocks]
    assert "Data is encrypted at rest with AES-256." in texts  # emphasis markers dropped
    encryption = next(
        c
        for c in chunks_of(document)
        if c.location.heading_path == ("Security Policy", "Encryption")
    )
    # Each list item stays a line of its own inside the chunk.
    assert encryption.text.split("\n") == [
        "Data is encrypted at rest with AES-256.",
        "TLS 1.2 protects data in transit.",
        "Keys rotate yearly.",
    ]


def test_plain_text_paragraphs(samples) -> None:
    path = samples.text(
        "data_retention.txt", "Logs are kept\nfor one year.\n\n\n  Backups   are kept 35 days. \n"
    )
    document = load(path)
    assert document.title == "data retention"
    assert [b.text for b in document.blocks] == [
        "Logs are kept for one year.",
        "Backups are kept 35 days.",
    ]


HTML = """\
<!doctype html>
<html><head><title>Trust Center</title>
<style>.x { color: red }</style><script>var secret = "do not index";</script></head>
<body>
<h1>Security</h1>
<h2>Encryption</h2>
<p>Data is encrypted&nbsp;at rest.</p>
<ul><li>TLS everywhere</li><li>HSTS enabled</li></ul>
<h2>Features</h2>
<table><tr><th>Feature</th><th>Supported</th></tr><tr><td>CMEK</td><td>No</td></tr></table>
</body></html>
"""


def test_html_headings_lists_and_skipped_markup(samples) -> None:
    document = load(samples.text("trust.html", HTML))
    assert document.title == "Trust Center"
    texts = " ".join(b.text for b in document.blocks)
    assert "do not index" not in texts
    assert "color" not in texts
    assert [b.text for b in document.blocks if b.is_list_item] == [
        "TLS everywhere",
        "HSTS enabled",
        "Feature | Supported",
        "CMEK | No",
    ]
    by_path = {c.location.heading_path: c.text for c in chunks_of(document)}
    assert by_path == {
        ("Security", "Encryption"): "Data is encrypted at rest.\nTLS everywhere\nHSTS enabled",
        # A table row keeps its cells together, as in Markdown and DOCX.
        ("Security", "Features"): "Feature | Supported\nCMEK | No",
    }


def test_docx_headings_lists_tables_and_title(samples) -> None:
    path = samples.docx(
        "policy.docx",
        [
            ("h1", "Security"),
            ("p", "We follow ISO 27001."),
            ("h2", "Encryption"),
            ("bullet", "AES-256 at rest"),
            ("bullet", "TLS 1.2 in transit"),
            ("table", [["Feature", "Supported"], ["CMEK", "No"]]),
            ("h2", "Access"),
            ("p", "MFA for everyone."),
        ],
    )
    document = load(path)
    assert document.title == "Security"  # no core title: the first heading
    assert document.format == "docx"
    items = [b.text for b in document.blocks if b.is_list_item]
    assert items == ["AES-256 at rest", "TLS 1.2 in transit", "Feature | Supported", "CMEK | No"]
    by_path = {c.location.heading_path: c.text for c in chunks_of(document)}
    assert by_path == {
        ("Security",): "We follow ISO 27001.",
        ("Security", "Encryption"): "AES-256 at rest\nTLS 1.2 in transit\n"
        "Feature | Supported\nCMEK | No",
        ("Security", "Access"): "MFA for everyone.",
    }
    titled = load(samples.docx("titled.docx", [("p", "Body text.")], title="Policy Handbook"))
    assert titled.title == "Policy Handbook"


def test_pdf_pages_are_kept_in_locations(samples) -> None:
    path = samples.pdf(
        "report.pdf",
        [
            ["Security overview (2024).", "All data is encrypted at rest."],
            ["Backups run daily."],
            ["Penetration tests run yearly."],
        ],
        title="SOC Summary",
    )
    document = load(path)
    assert document.title == "SOC Summary"
    assert [b.location.page for b in document.blocks] == [1, 2, 3]
    assert "All data is encrypted at rest." in document.blocks[0].text
    chunks = chunks_of(document)
    assert [(c.location.page, c.text) for c in chunks] == [
        (1, document.blocks[0].text),
        (2, "Backups run daily."),
        (3, "Penetration tests run yearly."),
    ]
    assert Location(page=2).describe() == "p. 2"
    untitled = load(samples.pdf("plain_name.pdf", [["Text."]]))
    assert untitled.title == "plain_name"


def test_xlsx_library_rows_carry_sheet_and_row(samples) -> None:
    path = samples.xlsx(
        "library.xlsx",
        {
            "Cover": [["Acme answer library"], ["Approved by Legal"]],
            "Security": [
                ["Acme security answers"],
                [],
                ["ID", "Control Question", "Approved Answer", "Owner"],
                [1, "Do you encrypt data at rest?", "Yes, with AES-256.", "CISO"],
                [2, "Do you support SSO?", None, "IT"],  # no answer yet: not an entry
                [3, "Do you support SAML?", "Yes.", None],
            ],
            "Old": [["Question", "Answer"], ["Retired question?", "Retired answer."]],
        },
        hidden=["Old"],
    )
    document = load(path)
    assert document.format == "xlsx"
    rows = [
        (b.location.sheet, b.location.row, b.library_question, b.library_answer, b.library_owner)
        for b in document.blocks
    ]
    assert rows == [
        ("Security", 4, "Do you encrypt data at rest?", "Yes, with AES-256.", "CISO"),
        ("Security", 6, "Do you support SAML?", "Yes.", None),
    ]
    chunks = chunks_of(document)
    assert [c.kind for c in chunks] == [ChunkKind.LIBRARY, ChunkKind.LIBRARY]
    # Cited to the answer's cell and the form's id for the question.
    assert chunks[0].location.describe() == "sheet 'Security', cell B4, question 1"


def test_csv_library_with_semicolons(samples) -> None:
    path = samples.text(
        "answers.csv",
        "Question;Response\n"
        "Is MFA enforced?;Yes, for all staff.\n"
        "\n"
        "Where is data hosted?;In the EU (Frankfurt).\n",
    )
    document = load(path)
    assert [(b.location.row, b.library_question, b.library_answer) for b in document.blocks] == [
        (2, "Is MFA enforced?", "Yes, for all staff."),
        (4, "Where is data hosted?", "In the EU (Frankfurt)."),
    ]
    assert document.blocks[0].location.sheet is None


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("Question", "Answer"),
        ("Control Question", "Approved Answer"),
        ("question text", "Response"),
        ("Query", "Vendor Response"),
        ("Requirement", "Answer (max 500 chars)"),
    ],
)
def test_library_column_detection(samples, question: str, answer: str) -> None:
    path = samples.text("lib.csv", f"Ref,{question},{answer}\nA1,Is data backed up?,Yes.\n")
    blocks = load(path).blocks
    assert [(b.library_question, b.library_answer) for b in blocks] == [
        ("Is data backed up?", "Yes.")
    ]


def test_unrecognised_columns_error_names_the_columns_seen(samples) -> None:
    path = samples.xlsx("odd.xlsx", {"Sheet1": [["Item", "Requirement Detail", "Our Position"],
                                                [1, "Is data backed up?", "Daily."]]})
    with pytest.raises(DDQError) as caught:
        load(path)
    assert caught.value.code is ErrorCode.NO_QUESTION_COLUMN
    assert str(path) in caught.value.detail
    assert "'Item', 'Requirement Detail', 'Our Position'" in caught.value.detail


def test_csv_without_question_column_is_a_table_of_records(samples) -> None:
    path = samples.text(
        "controls.csv",
        "control_code,title,implementation_statement\n"
        "CC6.8,Customer-managed keys,CMEK is not yet supported.\n,,\n"
        "CC6.7,Encryption at rest,AES-256 at rest.\n",
    )
    document = load(path)
    assert [b.text for b in document.blocks] == [
        "control_code: CC6.8\ntitle: Customer-managed keys\n"
        "implementation_statement: CMEK is not yet supported.",
        "control_code: CC6.7\ntitle: Encryption at rest\nimplementation_statement: AES-256 at "
        "rest.",
    ]
    assert [b.location.row for b in document.blocks] == [2, 4]
    assert document.blocks[0].location.heading_path == ("CC6.8 CMEK is not yet supported.",)
    assert all(b.library_question is None for b in document.blocks)


def test_csv_questionnaire_without_answers_is_refused(samples) -> None:
    path = samples.text("inbound.csv", "id,question\nQ1,Do you encrypt data?\n")
    with pytest.raises(DDQError) as caught:
        load(path)
    # Read as a questionnaire, it has a question and no answer: nothing to store.
    assert caught.value.code is ErrorCode.EMPTY_FILE
    assert "1 question and none answered" in caught.value.detail


def test_question_column_override(samples) -> None:
    path = samples.text(
        "odd.csv", "Item,Requirement Detail,Our Position\n1,Is data backed up?,Daily.\n"
    )
    document = load(path, LibraryColumns(question="requirement detail", answer="Our Position"))
    assert [(b.library_question, b.library_answer) for b in document.blocks] == [
        ("Is data backed up?", "Daily.")
    ]
    with pytest.raises(DDQError) as caught:
        load(path, LibraryColumns(question="Prompt"))
    assert caught.value.code is ErrorCode.NO_QUESTION_COLUMN
    assert "'Prompt'" in caught.value.detail
    assert "'Requirement Detail'" in caught.value.detail


def test_question_column_without_answer_column(samples) -> None:
    path = samples.xlsx("half.xlsx", {"Sheet1": [["Question", "Notes"], ["Q?", "n"]]})
    with pytest.raises(DDQError) as caught:
        load(path)
    assert caught.value.code is ErrorCode.NO_ANSWER_COLUMN
    assert "no answer column" in caught.value.detail
    assert "sheet 'Sheet1'" in caught.value.detail
    assert "'Question', 'Notes'" in caught.value.detail


def _corrupt_zip(samples, name: str) -> Path:
    return samples.raw(name, b"PK\x03\x04" + b"\x17not really a zip archive" * 20)


def _zip_without_office_parts(samples, name: str) -> Path:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return samples.raw(name, buffer.getvalue())


BAD_INPUTS = {
    "empty markdown": (lambda s: s.raw("empty.md", b""), ErrorCode.EMPTY_FILE),
    "whitespace only": (lambda s: s.raw("blank.txt", b"  \n\t\n"), ErrorCode.EMPTY_FILE),
    "unsupported suffix": (
        lambda s: s.raw("notes.rtf", b"{\\rtf1 hello}"),
        ErrorCode.UNSUPPORTED_FORMAT,
    ),
    "encrypted pdf": (lambda s: s.encrypted_pdf("secret.pdf"), ErrorCode.ENCRYPTED_FILE),
    "pdf without text": (lambda s: s.pdf("scan.pdf", [[]]), ErrorCode.EMPTY_FILE),
    "corrupt pdf": (
        lambda s: s.raw("broken.pdf", b"%PDF-1.4\n1 0 obj garbage"),
        ErrorCode.UNREADABLE_FILE,
    ),
    "encrypted docx": (lambda s: s.ole("locked.docx"), ErrorCode.ENCRYPTED_FILE),
    "encrypted xlsx": (lambda s: s.ole("locked.xlsx"), ErrorCode.ENCRYPTED_FILE),
    "corrupt docx": (lambda s: _corrupt_zip(s, "broken.docx"), ErrorCode.UNREADABLE_FILE),
    "corrupt xlsx": (lambda s: _corrupt_zip(s, "broken.xlsx"), ErrorCode.UNREADABLE_FILE),
    "zip that is no docx": (
        lambda s: _zip_without_office_parts(s, "other.docx"),
        ErrorCode.UNREADABLE_FILE,
    ),
    "zip that is no xlsx": (
        lambda s: _zip_without_office_parts(s, "other.xlsx"),
        ErrorCode.UNREADABLE_FILE,
    ),
    "binary junk as txt": (
        lambda s: s.raw("junk.txt", bytes(range(256)) * 8),
        ErrorCode.UNREADABLE_FILE,
    ),
    "xlsx without question column": (
        lambda s: s.xlsx("numbers.xlsx", {"Data": [["Year", "Revenue"], [2024, 10]]}),
        ErrorCode.NO_QUESTION_COLUMN,
    ),
    "csv with a header only": (
        lambda s: s.text("people.csv", "Name,Email\n"),
        ErrorCode.NO_QUESTION_COLUMN,
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_a_clear_error_naming_the_file(samples, case: str) -> None:
    write, code = BAD_INPUTS[case]
    path = write(samples)
    with pytest.raises(DDQError) as caught:
        load(path)
    assert caught.value.code is code, caught.value.detail
    assert caught.value.detail.startswith(str(path)), caught.value.detail
    assert "\n" not in caught.value.detail


def test_a_review_by_column_dates_each_library_row(samples) -> None:
    from datetime import date

    from ddq.ingest.library_loaders import review_date

    path = samples.text(
        "answers.csv",
        "Question,Answer,Owner,Review by\n"
        "Is MFA enforced?,\"Yes, for all staff.\",IT,2027-03-31\n"
        "Where is data hosted?,In the EU.,Ops,31/01/2026\n"
        "Is data backed up?,Daily.,Ops,next spring\n",
    )
    document = load(path)
    assert [(b.library_owner, b.library_review_by) for b in document.blocks] == [
        ("IT", date(2027, 3, 31)), ("Ops", date(2026, 1, 31)), ("Ops", None)]
    assert review_date("2026-06-30 00:00:00") == date(2026, 6, 30)  # a workbook's datetime
    assert review_date("2026-02-30") is None and review_date("") is None


def test_a_tab_separated_answered_questionnaire_is_a_library(samples) -> None:
    path = samples.text("answers.tsv", "Question\tAnswer\tNotes\n"
                                       "Is MFA enforced?\tYes\tFor all staff.\n"
                                       "Is data encrypted at rest?\t\t\n")
    document = load(path)
    assert [b.library_answer for b in document.blocks] == ["Yes. For all staff."]
    assert document.notes == ["1 answered question as library entries",
                              "1 question without an answer skipped"]
