"""Shared fixtures: settings in a temporary home, a knowledge base, a PostgreSQL database,
and writers for small but real sample files of every supported format.

Every test writes its own data under ``tmp_path``; nothing here reads project data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from ddq.config import Settings
from ddq.kb import KnowledgeBase

FAKE_MODEL = "fake:hashing-64"
TIER_MARKERS = ("unit", "integration", "e2e")
OLE_HEADER = bytes.fromhex("D0CF11E0A1B11AE1")


# --- one ONNX export per test session ----------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    """Every data directory a test makes shares one model folder (DDQ_MODEL_DIR), so the
    default embedder's ONNX export is made once per run, not once per temporary home."""
    if "DDQ_MODEL_DIR" not in os.environ:
        shared = Path(config.rootpath) / ".pytest_cache" / "ddq-models"
        shared.mkdir(parents=True, exist_ok=True)
        os.environ["DDQ_MODEL_DIR"] = str(shared)


# --- the marker rule -----------------------------------------------------------------------


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test carries exactly one tier marker, so ``-m unit`` etc. select cleanly."""
    offenders = []
    for item in items:
        tiers = [m for m in TIER_MARKERS if item.get_closest_marker(m) is not None]
        if len(tiers) != 1:
            offenders.append(f"{item.nodeid}: {tiers or 'no tier marker'}")
    if offenders:
        raise pytest.UsageError(
            "each test needs exactly one of unit/integration/e2e:\n" + "\n".join(offenders)
        )


# --- environment and settings ----------------------------------------------------------------


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's DDQ_* variables out of the tests (the test-only ones stay)."""
    for key in list(os.environ):
        if key.startswith("DDQ_") and not key.startswith("DDQ_TEST_"):
            monkeypatch.delenv(key)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", embedder=FAKE_MODEL)


@pytest.fixture
def kb(settings: Settings) -> Iterator[KnowledgeBase]:
    knowledge_base = KnowledgeBase(settings)
    try:
        yield knowledge_base
    finally:
        knowledge_base.close()


# --- PostgreSQL ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh, uniquely named database on the server in DDQ_TEST_POSTGRES_URL.

    Skipped only when the variable is unset; when it is set and the server cannot be
    reached, every test that needs it errors instead of passing quietly.
    """
    base = os.environ.get("DDQ_TEST_POSTGRES_URL")
    if not base:
        pytest.skip(
            "DDQ_TEST_POSTGRES_URL is not set (e.g. postgresql://postgres@127.0.0.1:5432/test); "
            "the PostgreSQL store tests need a server"
        )
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    url = make_url(base)
    admin_url = url.set(drivername="postgresql+psycopg") if url.drivername == "postgresql" else url
    name = f"ddq_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(
        admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    problem = None
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except SQLAlchemyError as exc:
        problem = str(exc).splitlines()[0]
    if problem is not None:
        admin.dispose()
        pytest.fail(
            f"DDQ_TEST_POSTGRES_URL={base} is set, but no test database could be "
            f"created there: {problem}",
            pytrace=False,
        )
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def empty_pg_url(pg_url: str) -> str:
    """The session's PostgreSQL database, migrated, with every table emptied."""
    from sqlalchemy import text

    from ddq.store.db import open_engine
    from ddq.store.schema import Base

    engine = open_engine(pg_url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)  # every table we own
    try:
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()
    return pg_url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that takes this runs twice: on a SQLite file, and on the emptied PostgreSQL
    database of DDQ_TEST_POSTGRES_URL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'ddq.sqlite3'}"
    return str(request.getfixturevalue("empty_pg_url"))


@pytest.fixture
def engine(database_url: str) -> Iterator[Any]:
    """A migrated engine on ``database_url``."""
    from ddq.store.db import open_engine

    opened = open_engine(database_url)
    try:
        yield opened
    finally:
        opened.dispose()


# --- sample files --------------------------------------------------------------------------------


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_bytes(pages: Sequence[Sequence[str]], *, title: str | None = None) -> bytes:
    """A minimal valid PDF: one Helvetica text line per string, one list per page."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")
    pages_obj = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    kids: list[int] = []
    for lines in pages:
        ops = ["BT", "/F1 11 Tf", "14 TL", "72 740 Td"]
        ops += [f"({_pdf_escape(line)}) Tj T*" for line in lines]
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1")
        content = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] "
                b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
                % (pages_obj, font, content)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj
    objects[pages_obj - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    info = add(b"<< /Title (%s) >>" % _pdf_escape(title).encode("latin-1")) if title else None
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    trailer = b"<< /Size %d /Root %d 0 R" % (len(objects) + 1, catalog)
    if info is not None:
        trailer += b" /Info %d 0 R" % info
    out += b"trailer\n%s >>\nstartxref\n%d\n%%%%EOF\n" % (trailer, xref)
    return bytes(out)


class SampleFiles:
    """Writes small, real files of every supported format into one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, name: str) -> Path:
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def text(self, name: str, content: str) -> Path:
        """Markdown, plain text, HTML or CSV: whatever the suffix of ``name`` says."""
        path = self._path(name)
        path.write_text(content, encoding="utf-8")
        return path

    def raw(self, name: str, data: bytes) -> Path:
        path = self._path(name)
        path.write_bytes(data)
        return path

    def pdf(self, name: str, pages: Sequence[Sequence[str]], *, title: str | None = None) -> Path:
        return self.raw(name, pdf_bytes(pages, title=title))

    def encrypted_pdf(self, name: str, password: str = "s3cret") -> Path:
        import io

        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes([["Confidential."]]))))
        writer.encrypt(user_password=password, owner_password=password)
        path = self._path(name)
        with path.open("wb") as handle:
            writer.write(handle)
        return path

    def docx(self, name: str, parts: Sequence[tuple[str, object]], *, title: str = "") -> Path:
        """``parts``: ("h1".."h3", text), ("p", text), ("bullet", text), ("table", rows)."""
        import docx

        document = docx.Document()
        document.core_properties.title = title
        for kind, value in parts:
            if kind.startswith("h"):
                document.add_heading(str(value), level=int(kind[1:]))
            elif kind == "p":
                document.add_paragraph(str(value))
            elif kind == "bullet":
                document.add_paragraph(str(value), style="List Bullet")
            elif kind == "table":
                rows = [list(map(str, row)) for row in value]  # type: ignore[attr-defined]
                table = document.add_table(rows=len(rows), cols=len(rows[0]))
                for r, row in enumerate(rows):
                    for c, cell in enumerate(row):
                        table.cell(r, c).text = cell
            else:
                raise ValueError(kind)
        path = self._path(name)
        document.save(str(path))
        return path

    def xlsx(
        self,
        name: str,
        sheets: dict[str, Sequence[Sequence[object]]],
        *,
        hidden: Sequence[str] = (),
    ) -> Path:
        from openpyxl import Workbook

        workbook = Workbook()
        workbook.remove(workbook.active)
        for sheet_name, rows in sheets.items():
            sheet = workbook.create_sheet(sheet_name)
            for row in rows:
                sheet.append(list(row))
            if sheet_name in hidden:
                sheet.sheet_state = "hidden"
        path = self._path(name)
        workbook.save(str(path))
        return path

    def ole(self, name: str) -> Path:
        """What a password-protected .docx/.xlsx really is: an OLE compound file."""
        return self.raw(name, OLE_HEADER + b"\x00" * 1016)


SECURITY_MD = """\
# Security Policy

## Encryption

Customer data is encrypted at rest with AES-256.

Encryption keys are rotated every year by the security team.

- TLS 1.2 or newer protects all data in transit.
- Customer-managed encryption keys are not supported.

## Access Control

Multi-factor authentication is required for all staff accounts.
"""

LIBRARY_CSV = """\
Question,Answer,Owner
Do you have a SOC 2 Type II report?,Yes. Our SOC 2 Type II report is renewed every year.,Compliance
Do you run background checks on employees?,Yes. All employees are screened before hiring.,HR
"""


def write_knowledge_folder(samples: SampleFiles) -> Path:
    """Mixed, realistic knowledge files (one per supported format) in ``samples.folder``."""
    samples.text("security.md", SECURITY_MD)
    samples.text(
        "continuity.txt",
        "Backups are taken daily and kept for 35 days.\n\n"
        "Disaster recovery is tested twice a year in a second region.\n",
    )
    samples.text(
        "privacy.html",
        "<html><head><title>Privacy Notice</title><style>p {color: red}</style></head>"
        "<body><h1>Privacy</h1><p>Personal data is processed only in the EU.</p>"
        "<ul><li>A data protection officer reviews every new processor.</li></ul>"
        "</body></html>",
    )
    samples.docx(
        "hr.docx",
        [
            ("h1", "People"),
            ("p", "Security awareness training is yearly."),
            ("bullet", "Phishing simulations run every quarter."),
        ],
    )
    samples.pdf(
        "incident.pdf",
        [["Incident response plan."], ["Customers are notified of breaches within 72 hours."]],
        title="Incident Response",
    )
    samples.text("library.csv", LIBRARY_CSV)
    samples.xlsx(
        "answers.xlsx",
        {
            "Vendor": [
                ["Question", "Approved Answer"],
                [
                    "Is penetration testing performed annually?",
                    "Yes. An independent firm tests the platform every year.",
                ],
            ]
        },
    )
    return samples.folder


@pytest.fixture
def samples(tmp_path: Path) -> SampleFiles:
    return SampleFiles(tmp_path / "files")


@pytest.fixture
def knowledge_folder(samples: SampleFiles) -> Path:
    return write_knowledge_folder(samples)


@pytest.fixture(scope="session")
def sample_kit() -> tuple[type[SampleFiles], object]:
    """For wider-scoped fixtures: the writer class and the knowledge-folder recipe."""
    return SampleFiles, write_knowledge_folder
