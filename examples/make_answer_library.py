"""Write the sample answer library, ``examples/knowledge/answer_library.xlsx``.

The library belongs to Harborline Analytics, a fictional company invented for the DDQ sample
knowledge base; every answer agrees with the sample policies next to it. Run this script to
regenerate the workbook after editing the entries below:

    .venv/bin/python examples/make_answer_library.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "knowledge" / "answer_library.xlsx"

HEADER = ("ID", "Question", "Answer", "Owner")

# (question, answer, owner): approved answers, all consistent with examples/knowledge/*.
ENTRIES: list[tuple[str, str, str]] = [
    (
        "Do you have a SOC 2 Type II report?",
        "Yes. Harborline Analytics is audited every year by an independent CPA firm against "
        "the SOC 2 Security, Availability and Confidentiality criteria. The latest SOC 2 Type "
        "II report is available under NDA through the Trust Center.",
        "Head of Security",
    ),
    (
        "Are you ISO 27001 certified?",
        "No. Harborline Analytics is not certified to ISO/IEC 27001. Certification is on the "
        "roadmap for 2026; our SOC 2 Type II report is our current independent attestation.",
        "Head of Security",
    ),
    (
        "Is customer data encrypted at rest?",
        "Yes. All customer data, including databases, file storage, search indexes and "
        "backups, is encrypted at rest with AES-256 using keys held in the cloud provider's "
        "key management service.",
        "Chief Technology Officer",
    ),
    (
        "Which TLS versions do you support for data in transit?",
        "Tidewater requires TLS 1.2 or higher (TLS 1.3 preferred) on every connection. TLS "
        "1.0 and 1.1 are disabled, and HSTS is enabled.",
        "Chief Technology Officer",
    ),
    (
        "Do you support customer-managed encryption keys (BYOK)?",
        "No. Customer-managed keys, bring-your-own-key and hold-your-own-key are not "
        "supported. All encryption keys are managed by Harborline in the cloud KMS and "
        "rotated automatically every 12 months.",
        "Chief Technology Officer",
    ),
    (
        "Is multi-factor authentication enforced for employees?",
        "Yes. All employees and contractors sign in through single sign-on, and the identity "
        "provider enforces MFA with phishing-resistant FIDO2 security keys.",
        "Head of Security",
    ),
    (
        "Do you support SAML single sign-on for customers?",
        "Yes. SAML 2.0 single sign-on is available on the Business and Enterprise plans, and "
        "SCIM user provisioning on the Enterprise plan.",
        "Product Manager, Identity",
    ),
    (
        "How often are user access reviews performed?",
        "Access to production systems and to tools holding customer data is reviewed every "
        "quarter; privileged access is reviewed every month.",
        "Head of Security",
    ),
    (
        "How quickly is access removed when an employee leaves?",
        "All access is revoked within 24 hours of the last working day, and immediately for "
        "involuntary terminations.",
        "Head of People",
    ),
    (
        "How often do you perform penetration testing?",
        "An independent security firm tests the Tidewater application and cloud "
        "infrastructure once a year and after major architectural changes. An executive "
        "summary is available under NDA.",
        "Head of Security",
    ),
    (
        "What are your vulnerability remediation timelines?",
        "Critical vulnerabilities are fixed within 7 days, high within 30 days, medium within "
        "90 days and low at the next planned maintenance. Scans run weekly.",
        "Head of Security",
    ),
    (
        "What are your RTO and RPO?",
        "Our recovery time objective (RTO) is 8 hours and our recovery point objective (RPO) "
        "is 1 hour for a complete loss of the primary region.",
        "Head of Site Reliability Engineering",
    ),
    (
        "How often are backups taken and how long are they retained?",
        "Databases are backed up continuously with point-in-time recovery, plus a daily "
        "snapshot. Snapshots are kept for 35 days, encrypted with AES-256 and copied to a "
        "second region.",
        "Head of Site Reliability Engineering",
    ),
    (
        "How often do you test your disaster recovery plan?",
        "Backup restores are tested every quarter and a full failover to the secondary region "
        "is exercised every year. The November 2024 exercise restored service in 5 hours 40 "
        "minutes.",
        "Head of Site Reliability Engineering",
    ),
    (
        "How soon will you notify us of a security breach affecting our data?",
        "We notify affected customers without undue delay and within 48 hours of confirming "
        "a security incident involving their data, with updates at least every 24 hours.",
        "Head of Security",
    ),
    (
        "Where is customer data hosted?",
        "In the European Union: the primary region is Frankfurt, Germany, and the disaster "
        "recovery region is Dublin, Ireland.",
        "Data Protection Officer",
    ),
    (
        "How long do you retain customer data after contract termination?",
        "Customers have 30 days to export their data after the subscription ends; it is then "
        "deleted from production within 30 days and from backups within a further 35 days.",
        "Data Protection Officer",
    ),
    (
        "Is customer data used to train machine learning models?",
        "No. Customer data is not used to train machine learning models unless the customer "
        "opts in in writing.",
        "Data Protection Officer",
    ),
    (
        "Do employees receive security awareness training?",
        "Yes. Everyone completes security awareness and privacy training at onboarding and "
        "every year, and phishing simulations run every quarter.",
        "Head of People",
    ),
    (
        "Do you perform background checks on employees?",
        "Yes. Background checks are completed for all employees and contractors before they "
        "start, where local law allows.",
        "Head of People",
    ),
]


def build(output: Path) -> int:
    """Write the workbook to ``output``; returns the number of entries written."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Approved answers"
    sheet.append(HEADER)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for number, (question, answer, owner) in enumerate(ENTRIES, start=1):
        sheet.append((f"HL-{number:03d}", question, answer, owner))
    for column, width in zip("ABCD", (10, 60, 90, 34), strict=True):
        sheet.column_dimensions[column].width = width
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    about = workbook.create_sheet("About")
    about.append(("Fictional sample data: Harborline Analytics, Inc. is an invented company.",))
    about.append(
        (
            "This answer library was written for the DDQ sample knowledge base and "
            "describes no real organization.",
        )
    )
    about.append(("Regenerate it with: .venv/bin/python examples/make_answer_library.py",))
    about.column_dimensions["A"].width = 100
    workbook.properties.title = "Harborline Analytics answer library (fictional sample data)"
    output.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(output)
    return len(ENTRIES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"where to write the workbook (default: {DEFAULT_OUTPUT.name})",
    )
    args = parser.parse_args()
    count = build(args.output)
    print(f"wrote {count} entries to {args.output}")


if __name__ == "__main__":
    main()
