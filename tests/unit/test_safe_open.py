"""The safe-open layer's limits come from the settings and bound real files only where
set: the shipped examples pass the defaults, and each work limit, lowered, refuses them
with one line that names the file and the setting to raise."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddq.config import Settings
from ddq.errors import DDQError, ErrorCode
from ddq.ingest.loaders import load_file
from ddq.questionnaire.files import extract
from ddq.safe_open import _PASSED, check_package, check_text_file, read_bounded
from support import hostile_files

pytestmark = pytest.mark.unit

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
WORKBOOK = EXAMPLES / "questionnaires" / "harborline_vendor_security.xlsx"
DOCUMENT = EXAMPLES / "questionnaires" / "harborline_investor_ddq.docx"


@pytest.fixture(autouse=True)
def _fresh() -> None:
    _PASSED.clear()  # the layer remembers files that passed; each test checks afresh


def test_the_settings_build_both_sets_of_limits(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, max_cells=1234, max_knowledge_mb=2,
                        max_questionnaire_mb=3, parse_seconds=7)
    assert settings.package_limits.max_cells == 1234
    assert settings.package_limits.max_file_bytes == 3 * 1024 * 1024
    assert settings.knowledge_limits.max_file_bytes == 2 * 1024 * 1024
    assert settings.knowledge_limits.parse_seconds == 7
    assert settings.knowledge_limits.purpose == "a knowledge file"


def test_the_examples_pass_the_default_limits(tmp_path: Path) -> None:
    limits = Settings(home=tmp_path).knowledge_limits
    for path in sorted((EXAMPLES / "knowledge").iterdir()):
        document = load_file(path, read_bounded(path, limits), None, limits)
        assert document.blocks, path
    assert extract(WORKBOOK, limits=Settings(home=tmp_path).package_limits).questions
    assert extract(DOCUMENT, limits=Settings(home=tmp_path).package_limits).questions


@pytest.mark.parametrize(("setting", "path", "says"), [
    ("max_cells", WORKBOOK, "DDQ_MAX_CELLS"),
    ("max_rows", WORKBOOK, "DDQ_MAX_ROWS"),
    ("max_paragraphs", DOCUMENT, "DDQ_MAX_PARAGRAPHS"),
    ("max_xml_elements", DOCUMENT, "DDQ_MAX_XML_ELEMENTS"),
    ("max_text_chars", DOCUMENT, "DDQ_MAX_TEXT_CHARS"),
])
def test_a_lowered_work_limit_refuses_a_real_file(tmp_path: Path, setting: str, path: Path,
                                                  says: str) -> None:
    limits = Settings(home=tmp_path, **{setting: 5}).package_limits
    with pytest.raises(DDQError) as refused:
        check_package(path, path.suffix[1:].upper(), limits)
    assert refused.value.code is ErrorCode.FILE_TOO_LARGE
    assert str(path) in refused.value.detail and says in refused.value.detail
    assert "\n" not in refused.value.detail


def test_a_lowered_shared_strings_limit_refuses_a_workbook(tmp_path: Path) -> None:
    # Excel keeps a workbook's text in its shared string table (openpyxl writes it inline).
    table = "".join(f"<si><t>Answer {n}</t></si>" for n in range(10))
    strings = (f'<sst xmlns="{hostile_files.MAIN_NS}" count="10" uniqueCount="10">{table}'
               "</sst>").encode()
    path = hostile_files._xlsx(tmp_path / "shared.xlsx", hostile_files._sheet(
        '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'), strings=strings)
    limits = Settings(home=tmp_path, max_shared_strings=5).package_limits
    with pytest.raises(DDQError, match="DDQ_MAX_SHARED_STRINGS"):
        check_package(path, "XLSX", limits)
    check_package(path, "XLSX", Settings(home=tmp_path).package_limits)


def test_a_lowered_depth_limit_refuses_a_real_document(tmp_path: Path) -> None:
    limits = Settings(home=tmp_path, max_xml_depth=8).package_limits
    with pytest.raises(DDQError) as refused:
        check_package(DOCUMENT, "DOCX", limits)
    assert refused.value.code is ErrorCode.UNSAFE_FILE
    assert "DDQ_MAX_XML_DEPTH" in refused.value.detail


def test_a_file_that_passed_is_not_scanned_again_until_it_changes(tmp_path: Path) -> None:
    copy = tmp_path / "copy.xlsx"
    copy.write_bytes(WORKBOOK.read_bytes())
    limits = Settings(home=tmp_path).package_limits
    check_package(copy, "XLSX", limits)
    assert len(_PASSED) == 1
    check_package(copy, "XLSX", limits)
    assert len(_PASSED) == 1
    copy.write_bytes(b"not a zip any more")
    with pytest.raises(DDQError, match="not a zip package"):
        check_package(copy, "XLSX", limits)


def test_text_files_are_bounded_in_lines_before_they_are_read(tmp_path: Path) -> None:
    lines = tmp_path / "lines.csv"
    lines.write_text("Question,Answer\n" + "q,a\n" * 50)
    limits = Settings(home=tmp_path, max_rows=20).package_limits
    with pytest.raises(DDQError, match="DDQ_MAX_ROWS"):
        check_text_file(lines, limits)
    assert check_text_file(lines, Settings(home=tmp_path).package_limits) > 0


def test_staging_left_by_a_killed_upload_is_cleaned_and_a_live_one_kept(tmp_path: Path
                                                                         ) -> None:
    import os
    import time

    from ddq.api.knowledge import _clean_staging

    old, live = tmp_path / ".incoming-old", tmp_path / ".incoming-live"
    for folder in (old, live):
        folder.mkdir()
        (folder / "policy.docx").write_bytes(b"x")
    hours_ago = time.time() - 2 * 3600
    os.utime(old, (hours_ago, hours_ago))
    (tmp_path / "policy.md").write_text("kept")
    _clean_staging(tmp_path)
    assert not old.exists() and live.exists() and (tmp_path / "policy.md").exists()
