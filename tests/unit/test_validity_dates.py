"""Validity dates read from a document's own words: stated dates, a SOC report's period,
a penetration test's date; a stated validity that is not a date is a problem, not a date."""

from __future__ import annotations

from datetime import date

import pytest

from ddq.errors import DDQError
from ddq.trust.dates import add_months, detect_validity, parse_date
from ddq.trust.settings import trust_settings

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2026-06-30", date(2026, 6, 30)),
        ("2026/06/30", date(2026, 6, 30)),
        ("30 June 2026", date(2026, 6, 30)),
        ("June 30, 2026", date(2026, 6, 30)),
        ("Sept. 30th, 2024", date(2024, 9, 30)),
        ("1st March 2026", date(2026, 3, 1)),
        ("**Dec 31 2025**", date(2025, 12, 31)),
        ("June 2027", date(2027, 6, 30)),  # a month alone: its last day
        ("February 2028", date(2028, 2, 29)),
        ("31/12/2025", date(2025, 12, 31)),  # only one order is a date
        ("12/31/2025", date(2025, 12, 31)),
    ],
)
def test_dates_as_documents_write_them(written: str, expected: date) -> None:
    assert parse_date(written) == expected


@pytest.mark.parametrize(
    "written", ["03/04/2026", "next spring", "2026-13-01", "31 February 2026", "Q3 2026", ""]
)
def test_what_is_not_one_date_is_none(written: str) -> None:
    # 03/04/2026 could be March or April: a guess could move an expiry by a month.
    assert parse_date(written) is None


def test_months_are_added_to_the_last_day_of_a_shorter_month() -> None:
    assert add_months(date(2025, 12, 31), 12) == date(2026, 12, 31)
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2026, 3, 15), 0) == date(2026, 3, 15)


def test_front_matter_and_labels_state_a_validity() -> None:
    front = detect_validity("Policy", ["---", "valid_until: 2025-06-30", "---"])
    assert (front.valid_until, front.kind, front.basis) == (
        date(2025, 6, 30),
        "stated",
        "valid_until: 2025-06-30",
    )
    table = detect_validity(
        "ISO 27001 Certificate", ["| Issued | June 2025 | Certificate expiry | June 2027 |"]
    )
    assert (table.valid_until, table.basis) == (date(2027, 6, 30), "Certificate expiry: June 2027")
    aoc = detect_validity("PCI DSS AOC", ["| AOC valid through | February 18, 2027 |"])
    assert aoc.valid_until == date(2027, 2, 18)
    sentence = detect_validity("Certificate", ["This certificate is valid until 30 June 2027."])
    assert sentence.valid_until == date(2027, 6, 30)


def test_a_soc_report_is_current_for_the_given_months_after_its_period() -> None:
    text = ["**Period: January 1, 2025 to December 31, 2025**", "Opinion ..."]
    report = detect_validity("Northwind AI — SOC 2 Type 2 Report", text)
    assert (report.valid_until, report.dated, report.kind) == (
        date(2026, 12, 31),
        date(2025, 12, 31),
        "soc_report",
    )
    assert report.basis == "Period: January 1, 2025 to December 31, 2025"
    inline = detect_validity(
        "Pentest summary",
        ["Scope: web apps Testing window: March 9 – March 27, 2026 Report date: April 10, 2026"],
    )
    assert inline.valid_until == date(2027, 4, 10)
    assert inline.basis.endswith("Report date: April 10, 2026")
    strict = detect_validity("SOC 2 Type II report", text, soc_months=0)
    assert strict.valid_until == date(2025, 12, 31)
    ended = detect_validity("Acme SOC 1 report", ["For the period ended 31 March 2026."])
    assert ended.valid_until == date(2027, 3, 31)


def test_a_penetration_test_is_current_for_the_given_months_after_its_latest_date() -> None:
    text = ["Testing window: March 9 – March 27, 2026", "Report date: April 10, 2026"]
    test = detect_validity("Penetration Test — Executive Summary", text, pentest_months=6)
    assert (test.valid_until, test.dated, test.kind) == (
        date(2026, 10, 10),
        date(2026, 4, 10),
        "pentest",
    )


def test_a_passing_mention_does_not_make_a_policy_a_report() -> None:
    # A programme document that mentions its SOC 2 period and its last test is not the
    # report: it has no validity of its own.
    text = [
        "An independent audit firm issues a SOC 2 Type II report every year. The latest one "
        "covers 1 January to 31 December 2025.",
        "The latest test was completed on 21 August 2026.",
        "Exceptions are valid until the next review.",
    ]
    assert detect_validity("Information security programme", text).valid_until is None
    assert detect_validity("Information security programme", text).problem is None
    policy = [
        "Quillon Labs: vulnerability management policy summary",
        "An external penetration test is run every year. The latest test was completed on "
        "21 August 2026; no critical or high finding remained open.",
    ]
    assert detect_validity("Vulnerability management policy", policy).valid_until is None


def test_a_stated_validity_that_is_not_a_date_is_reported_and_treated_as_none() -> None:
    found = detect_validity("Policy", ["valid_until: next spring"])
    assert found.valid_until is None
    assert found.problem == "valid_until 'next spring' is not a date"


def test_today_and_the_windows_come_from_the_environment_and_are_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DDQ_TODAY", "2027-01-15")
    monkeypatch.setenv("DDQ_EXPIRY_WARNING_DAYS", "45")
    settings = trust_settings()
    assert (settings.current_date(), settings.expiry_warning_days) == (date(2027, 1, 15), 45)
    assert trust_settings(today=date(2026, 1, 1)).current_date() == date(2026, 1, 1)
    monkeypatch.setenv("DDQ_TODAY", "")  # set but empty: not pinned
    assert trust_settings().today is None
    monkeypatch.setenv("DDQ_TODAY", "soon")
    with pytest.raises(DDQError, match="DDQ_TODAY"):
        trust_settings()
