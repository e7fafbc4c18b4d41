"""CSV questionnaires: detection, write-back that keeps every original cell, refusals."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from ddq.errors import DDQError, ErrorCode
from ddq.forms import ExtractOptions, FileFormat, TargetRole
from ddq.questionnaire.formats.csv.reading import extract_csv
from ddq.questionnaire.formats.csv.writing import write_csv

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
INBOUND = SHARED_DATA / "northwind" / "questionnaires" / "Inbound_Security_Questionnaire.csv"


@pytest.fixture(scope="module")
def inbound() -> Path:
    if not INBOUND.is_file():
        pytest.fail(f"shared test data is missing: {INBOUND}")
    return INBOUND


def write(tmp_path: Path, name: str, data: bytes | str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


def cells(path: Path, encoding: str = "utf-8-sig", delimiter: str = ",") -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.reader(handle, delimiter=delimiter))


# --- the Northwind inbound questionnaire -------------------------------------------------------


@pytest.mark.unit
def test_inbound_questionnaire_extracts_18_questions(inbound: Path) -> None:
    extraction = extract_csv(inbound)
    rows = cells(inbound)[1:]
    assert extraction.format is FileFormat.CSV
    assert [q.key for q in extraction.questions] == [f"Q{n:02d}" for n in range(1, 19)]
    assert [q.qid for q in extraction.questions] == [r[0] for r in rows]
    assert [q.section for q in extraction.questions] == [(r[1],) for r in rows]
    assert [q.text for q in extraction.questions] == [r[2] for r in rows]
    first = extraction.questions[0]
    assert first.location == "row 2"
    assert first.answer is not None and first.notes is None
    assert (first.answer.role, first.answer.ref, first.answer.current) == (
        TargetRole.ANSWER, "row:0:Answer", None)
    assert extraction.layout["new_columns"] == ["Answer"]
    assert extraction.layout["columns"] == {"id": "id", "question": "question",
                                            "section": "domain", "answer": "Answer",
                                            "notes": None}


@pytest.mark.unit
def test_new_answer_column_is_appended_and_original_cells_kept(inbound: Path,
                                                               tmp_path: Path) -> None:
    extraction = extract_csv(inbound)
    values = {q.answer.ref: f"answer {q.key}" for q in extraction.questions[::2] if q.answer}
    dst = tmp_path / "answered.csv"
    assert write_csv(inbound, dst, values) == 9
    before, after = cells(inbound), cells(dst)
    assert after[0] == [*before[0], "Answer"]
    for old, new in zip(before[1:], after[1:], strict=True):
        assert new[:len(old)] == old
        expected = f"answer {old[0]}" if int(old[0][1:]) % 2 == 1 else None
        assert (new[3] if len(new) > 3 else None) == expected
    reread = extract_csv(dst)
    assert reread.layout["new_columns"] == []
    assert [q.answer.current for q in reread.questions if q.answer][:2] == ["answer Q01", None]


# --- detection -----------------------------------------------------------------------------


@pytest.mark.unit
def test_semicolons_bom_crlf_and_existing_columns(tmp_path: Path) -> None:
    text = ("Ref;Category;Question;Yes/No;Comments\r\n"
            "A-1;Access;Is MFA enforced?;Yes;For all staff\r\n"
            'A-2;Access;"Are reviews; done quarterly?";;\r\n'
            "\r\n"
            "A-3;Crypto;Is data encrypted, at rest?;;\r\n")
    src = write(tmp_path, "q.csv", b"\xef\xbb\xbf" + text.encode())
    extraction = extract_csv(src)
    assert extraction.layout["delimiter"] == ";" and extraction.layout["bom"] is True
    assert extraction.layout["line_terminator"] == "\r\n"
    assert [q.key for q in extraction.questions] == ["A-1", "A-2", "A-3"]
    assert [q.location for q in extraction.questions] == ["row 2", "row 3", "row 5"]
    first, second, _ = extraction.questions
    assert first.answer is not None and first.notes is not None
    assert first.answer.allowed == ("Yes", "No", "N/A") and first.answer.current == "Yes"
    assert (first.notes.ref, first.notes.current) == ("row:0:Comments", "For all staff")
    assert second.text == "Are reviews; done quarterly?"
    assert second.answer is not None and second.answer.ref == "row:1:Yes/No"
    assert extraction.layout["new_columns"] == []

    dst = tmp_path / "answered.csv"
    write_csv(src, dst, {"row:1:Yes/No": "No", "row:1:Comments": "Twice a year;\nby owners"})
    data = dst.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data[3:].decode().split("\r\n")
    original = text.split("\r\n")
    assert lines[2] == 'A-2;Access;"Are reviews; done quarterly?";No;"Twice a year;\nby owners"'
    assert [line for i, line in enumerate(lines) if i != 2] == [
        line for i, line in enumerate(original) if i != 2]


@pytest.mark.unit
def test_tabs_cp1252_and_section_rows(tmp_path: Path) -> None:
    text = ("Security questionnaire for Acme\n"
            "\n"
            "#\tQuestion\tResponse\tNotes\n"
            "Governance\t\t\t\n"
            "1\tDo you have a privacy officer (Datenschutz, café)?\t\t\n"
            "1\tIs there a DPA?\tYes\t\n"
            "\t\t\t\n"
            "Operations\n"
            "3\tAre backups tested?\t\t\n")
    src = write(tmp_path, "q.csv", text, encoding="cp1252")
    extraction = extract_csv(src)
    assert extraction.layout["encoding"] == "cp1252"
    assert extraction.layout["delimiter"] == "\t" and extraction.layout["header_row"] == 3
    assert [(q.key, q.section) for q in extraction.questions] == [
        ("row 5", ("Governance",)), ("row 6", ("Governance",)), ("3", ("Operations",))]
    assert "appears 2 times" in extraction.warnings[0]
    dst = tmp_path / "answered.csv"
    write_csv(src, dst, {"row:1:Response": "Yes ≥ one, café", "row:1:Notes": "@dpo"})
    out = dst.read_bytes().decode("cp1252")
    assert out.splitlines()[4] == "1\tDo you have a privacy officer (Datenschutz, café)?\t" \
                                  "Yes >= one, café\t'@dpo"
    assert out.replace(out.splitlines()[4], text.splitlines()[4]) == text


@pytest.mark.unit
def test_numbered_section_rows_are_headings(tmp_path: Path) -> None:
    text = ("ID,Question,Answer\n"
            "1,Access Control,\n"
            "1.1,Is MFA enforced for administrators?,\n"
            "1.2,Password policy,\n"
            "2,Describe your encryption standards,\n"
            "2.1,Is data encrypted at rest?,\n")
    src = write(tmp_path, "q.csv", text)
    extraction = extract_csv(src)
    # "2" asks something itself, so it stays a question although "2.1" is numbered inside it,
    # and it is outside section 1.
    assert [(q.qid, q.section) for q in extraction.questions] == [
        ("1.1", ("Access Control",)), ("1.2", ("Access Control",)), ("2", ()), ("2.1", ())]
    dst = tmp_path / "answered.csv"
    write_csv(src, dst, {q.answer.ref: "Yes" for q in extraction.questions[:1] if q.answer})
    assert cells(dst, "utf-8")[1:3] == [["1", "Access Control", ""],
                                        ["1.1", "Is MFA enforced for administrators?", "Yes"]]


@pytest.mark.unit
def test_yes_no_columns_to_mark(tmp_path: Path) -> None:
    text = ("Question,Yes,No,N/A,Comments\n"
            "Is MFA enforced?,,,,\n"
            "Are backups encrypted?,x,,,daily\n"
            "Do you hold FedRAMP?,,,,\n")
    src = write(tmp_path, "q.csv", text)
    extraction = extract_csv(src)
    # "No" beside "Yes" is a choice, not the number column.
    assert extraction.layout["columns"]["id"] is None
    assert extraction.layout["choices"] == ["Yes", "No", "N/A"]
    mfa, backups, fedramp = extraction.questions
    assert mfa.answer is not None and mfa.notes is not None
    assert (mfa.answer.ref, mfa.answer.allowed, mfa.answer.current) == (
        "row:0:Yes|No|N/A", ("Yes", "No", "N/A"), None)
    assert mfa.notes.ref == "row:0:Comments"
    assert backups.answer is not None and backups.answer.current == "Yes"
    assert fedramp.answer is not None
    dst = tmp_path / "answered.csv"
    write_csv(src, dst, {mfa.answer.ref: "yes", mfa.notes.ref: "Okta",
                         backups.answer.ref: "No", fedramp.answer.ref: ""})
    # The file marks with a lower-case x, so the answers do too.
    assert cells(dst, "utf-8")[1:] == [["Is MFA enforced?", "x", "", "", "Okta"],
                                       ["Are backups encrypted?", "", "x", "", "daily"],
                                       ["Do you hold FedRAMP?", "", "", "", ""]]
    with pytest.raises(DDQError) as caught:
        write_csv(src, tmp_path / "refused.csv", {mfa.answer.ref: "Maybe"})
    assert "'Maybe' is none of the choices (Yes / No / N/A)" in str(caught.value)
    assert not (tmp_path / "refused.csv").exists()
    # Beside the choices, a response column takes the text, before a comments column.
    from ddq.questionnaire.detect.headers import classify_headers

    both = classify_headers(["Question", "Yes", "No", "Response", "Comments"])
    assert (both.answer, both.notes, [c for c, _ in both.choices]) == (None, 3, [1, 2])


@pytest.mark.unit
def test_prompts_in_a_csv_are_not_answers(tmp_path: Path) -> None:
    src = write(tmp_path, "q.csv", "Question,Response,Comments\n"
                                   "Do you encrypt data?,Please select,[Enter comments]\n"
                                   "Is MFA enforced?,Yes,For admins\n")
    assert [(q.answer.current, q.notes.current) for q in extract_csv(src).questions
            if q.answer and q.notes] == [(None, None), ("Yes", "For admins")]


@pytest.mark.unit
def test_a_section_written_once_covers_the_rows_below_it(tmp_path: Path) -> None:
    src = write(tmp_path, "q.csv", "Category,ID,Question,Response\n"
                                   "Access Control,AC-1,Is MFA enforced?,\n"
                                   ",AC-2,Are access reviews quarterly?,\n"
                                   "Encryption,EN-1,Is data encrypted at rest?,\n")
    assert [q.section for q in extract_csv(src).questions] == [
        ("Access Control",), ("Access Control",), ("Encryption",)]


@pytest.mark.unit
def test_sig_and_caiq_headers(tmp_path: Path) -> None:
    from ddq.questionnaire.detect.headers import classify_headers

    sig = classify_headers(["Ques Num", "Question/Request", "Response", "Additional Information"])
    assert (sig.id, sig.answer, sig.notes) == (0, 2, 3)
    caiq = classify_headers(["Question ID", "Question", "CSP CAIQ Answer",
                             "SSRM Control Ownership", "CSP Implementation Description"])
    assert (caiq.id, caiq.question, caiq.notes) == (0, 1, 4)


@pytest.mark.unit
def test_options_pick_columns_by_name_or_number(tmp_path: Path) -> None:
    src = write(tmp_path, "q.csv", "Code,Ask,Theme\nX1,Do you log access?,Ops\n")
    with pytest.raises(DDQError) as excinfo:
        extract_csv(src)
    assert excinfo.value.code is ErrorCode.NO_QUESTION_COLUMN
    by_name = extract_csv(src, ExtractOptions(question_column="ask", id_column="CODE",
                                              answer_column="Vendor Answer"))
    [question] = by_name.questions
    assert (question.key, question.text) == ("X1", "Do you log access?")
    assert question.answer is not None and question.answer.ref == "row:0:Vendor Answer"
    assert by_name.layout["new_columns"] == ["Vendor Answer"]
    by_number = extract_csv(src, ExtractOptions(question_column="2", answer_column="3"))
    assert by_number.questions[0].answer is not None
    assert by_number.questions[0].answer.ref == "row:0:Theme"
    assert by_number.questions[0].answer.current == "Ops"
    with pytest.raises(DDQError) as missing:
        extract_csv(src, ExtractOptions(question_column="2", id_column="nope"))
    assert missing.value.code is ErrorCode.INVALID_INPUT and "'nope'" in str(missing.value)


# --- writing -------------------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize("value", ["=HYPERLINK(\"x\")", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_values_are_neutralised(tmp_path: Path, value: str) -> None:
    src = write(tmp_path, "q.csv", "id,question\n1,Is it safe?\n")
    dst = tmp_path / "answered.csv"
    write_csv(src, dst, {"row:0:Answer": value})
    assert cells(dst)[1][2] == "'" + value


@pytest.mark.unit
def test_last_record_without_line_end_and_quoted_cells_kept(tmp_path: Path) -> None:
    text = 'id,question,answer\n1,"Multi\nline, ""quoted"" question?",\n2,Second?,kept'
    src = write(tmp_path, "q.csv", text)
    extraction = extract_csv(src)
    assert [q.text for q in extraction.questions] == ['Multi\nline, "quoted" question?',
                                                      "Second?"]
    assert extraction.questions[1].answer is not None
    assert extraction.questions[1].answer.current == "kept"
    dst = tmp_path / "answered.csv"
    write_csv(src, dst, {"row:0:answer": "Yes"})
    assert dst.read_text() == 'id,question,answer\n1,"Multi\nline, ""quoted"" question?",Yes' \
                              "\n2,Second?,kept"


@pytest.mark.unit
@pytest.mark.parametrize("ref", ["row:5:Answer", "row:x:Answer", "A1", "row:0:"])
def test_unknown_ref_is_refused_without_output(tmp_path: Path, ref: str) -> None:
    src = write(tmp_path, "q.csv", "id,question\n1,Is it safe?\n")
    dst = tmp_path / "answered.csv"
    with pytest.raises(DDQError) as excinfo:
        write_csv(src, dst, {ref: "x"})
    assert excinfo.value.code is ErrorCode.INVALID_INPUT
    assert not dst.exists()


@pytest.mark.unit
def test_export_never_overwrites_the_original(tmp_path: Path) -> None:
    src = write(tmp_path, "q.csv", "id,question\n1,Is it safe?\n")
    with pytest.raises(DDQError) as excinfo:
        write_csv(src, tmp_path / "sub" / ".." / "q.csv", {"row:0:Answer": "x"})
    assert excinfo.value.code is ErrorCode.INVALID_INPUT
    assert src.read_text() == "id,question\n1,Is it safe?\n"


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(("data", "code", "words"), [
    (b"", ErrorCode.EMPTY_FILE, "empty"),
    (b"\n\r\n  \n", ErrorCode.EMPTY_FILE, "no rows"),
    (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 4, ErrorCode.UNREADABLE_FILE,
     "binary"),
    (b"\x81\x8d\x8f\x90\x9d" * 40, ErrorCode.UNREADABLE_FILE, "UTF-8"),
    (b"name,owner,notes\nBackups,SRE,daily\n", ErrorCode.NO_QUESTION_COLUMN,
     "'name', 'owner', 'notes'"),
    (b"id,question,answer\n1,,\n2,,\n", ErrorCode.NO_QUESTIONS, "no questions"),
], ids=["empty", "blank-lines", "binary", "not-text", "no-question-column", "no-questions"])
def test_bad_input_is_a_clear_error(tmp_path: Path, data: bytes, code: ErrorCode,
                                    words: str) -> None:
    src = write(tmp_path, "q.csv", data)
    with pytest.raises(DDQError) as excinfo:
        extract_csv(src)
    assert excinfo.value.code is code
    message = str(excinfo.value)
    assert words in message and str(src) in message and "\n" not in message
    if code is ErrorCode.NO_QUESTION_COLUMN:
        assert "--question-column" in message


@pytest.mark.unit
def test_binary_source_writes_nothing(tmp_path: Path) -> None:
    src = write(tmp_path, "q.csv", b"\x00\x01\x02" * 100)
    dst = tmp_path / "answered.csv"
    with pytest.raises(DDQError) as excinfo:
        write_csv(src, dst, {"row:0:Answer": "x"})
    assert excinfo.value.code is ErrorCode.UNREADABLE_FILE
    assert not dst.exists()


@pytest.mark.unit
def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DDQError) as excinfo:
        extract_csv(tmp_path / "nope.csv")
    assert excinfo.value.code is ErrorCode.NOT_FOUND


@pytest.mark.unit
def test_reader_matches_csv_module_on_tricky_quoting(tmp_path: Path) -> None:
    rows = [["id", "question"], ["1", 'He said "why?"'], ["2", "a,b\r\nc"], ["3", ""]]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    src = write(tmp_path, "q.csv", buffer.getvalue())
    extraction = extract_csv(src)
    assert [q.text for q in extraction.questions] == ['He said "why?"', "a,b\r\nc"]
    dst = tmp_path / "answered.csv"
    write_csv(src, dst, {"row:1:Answer": "ok"})
    assert cells(dst) == [rows[0] + ["Answer"], rows[1], rows[2] + ["ok"], rows[3]]
