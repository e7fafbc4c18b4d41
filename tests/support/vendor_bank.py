"""The questions of the vendor-form reproductions in ``vendor_forms``, and their answers.

Every wording here is written for these tests in the style of the public forms (HECVAT,
CAIQ, SIG); none is copied from a vendor's file. The answers are those of one fictional
vendor, Harborline Analytics (product: Tidewater), so that an answered form of one kind can
answer a blank form of another:

- ``HECVAT``: one bank for HECVAT 3.x Full and Lite. A question is in the Full, the Lite or
  both; in both it is worded the same or reworded (``full`` != ``lite``); its answer in the
  answered Full (last year) and the answered Lite (this year) is the same except for two
  whose answers changed (DATA-03, VULN-02). A few Full questions are left unanswered, and
  none of those is in the Lite. Two Lite questions are not in the Full at all.
- ``CAIQ``: CAIQ v4-style questions; ``CAIQ_TO_HECVAT`` names the HECVAT question each
  overlapping one matches, with the same answer as this year's HECVAT Lite.
- ``SIG``: three domain tabs; ``HECVAT4``: the merged 2025 workbook's sheets;
  ``WORD``: a Word questionnaire's two tables.
"""

from __future__ import annotations

from dataclasses import dataclass

YN = "yn"  # a Yes/No/N/A choice with "Additional Information" beside it
TEXT = "text"  # a written answer, no dropdown


@dataclass(frozen=True, slots=True)
class BankQuestion:
    qid: str
    section: str
    #: The wording in the HECVAT Full, or None when the Full does not ask it.
    full: str | None
    #: The wording in the HECVAT Lite, or None when the Lite does not ask it.
    lite: str | None
    kind: str
    #: The answered Full's choice (Yes/No/N/A) or text; None: left unanswered.
    full_answer: str | None
    #: The answered Lite's choice or text; None: left unanswered or not in the Lite.
    lite_answer: str | None
    #: "Additional Information" in the answered forms (None: left empty).
    notes: str | None = None
    #: The Lite's notes where they differ from the Full's (the changed answers).
    lite_notes: str | None = None

    @property
    def changed(self) -> bool:
        return (self.full is not None and self.lite is not None
                and self.full_answer != self.lite_answer and self.kind == YN)


def _q(qid: str, section: str, full: str | None, lite: str | None, kind: str,
       full_answer: str | None, lite_answer: str | None = "=", notes: str | None = None,
       lite_notes: str | None = None) -> BankQuestion:
    """``lite="="``: the Lite words it as the Full does; ``lite_answer="="``: the same answer."""
    lite = full if lite == "=" else lite
    if lite_answer == "=":
        lite_answer = full_answer if lite is not None else None
    return BankQuestion(qid, section, full, lite, kind, full_answer, lite_answer, notes,
                        lite_notes)


GENERAL = "General Information"
HECVAT: tuple[BankQuestion, ...] = (
    # General information: fields of the form, answered as text, the same in both.
    _q("GNRL-01", GENERAL, "Vendor Name", "=", TEXT, "Harborline Analytics, Inc."),
    _q("GNRL-02", GENERAL, "Product Name", "=", TEXT, "Tidewater"),
    _q("GNRL-03", GENERAL, "Product Description", "=", TEXT,
       "Hosted demand-forecasting analytics for retailers and universities."),
    _q("GNRL-04", GENERAL, "Vendor Contact Name", "=", TEXT, "Dana Okafor"),
    _q("GNRL-05", GENERAL, "Vendor Contact Email", "=", TEXT, "security@harborline.example"),
    _q("GNRL-06", GENERAL, "Date Completed", "=", TEXT, "2024-03-11", "2025-03-14"),
    # Company overview
    _q("COMP-01", "Company Overview",
       "Describe your organization's business background and ownership structure.", "=",
       TEXT, "Privately held since its founding in 2016; no parent company."),
    _q("COMP-02", "Company Overview",
       "Have you had a security breach or unplanned outage affecting this product in the "
       "last 12 months?", "=", YN, "No", notes="No incidents in the period."),
    _q("COMP-03", "Company Overview",
       "Do you have a dedicated information security staff or office?",
       "Does your organization have a dedicated information security team?", YN, "Yes",
       notes="A six-person security team reports to the CISO."),
    _q("COMP-04", "Company Overview",
       "Do you have a dedicated software development team?", None, YN, "Yes"),
    _q("COMP-05", "Company Overview",
       "Will you provide references from other higher-education customers?", None, YN, None),
    # Documentation
    _q("DOCU-01", "Documentation",
       "Have you undergone a SOC 2 Type II audit of this product?", "=", YN, "Yes",
       notes="SOC 2 Type II, period ending 31 December 2024."),
    _q("DOCU-02", "Documentation",
       "Have you completed the CSA CAIQ for this product?", None, YN, "Yes"),
    _q("DOCU-03", "Documentation",
       "Do you conform to a recognised security framework (for example ISO 27001, NIST CSF "
       "or CIS Controls)?",
       "Is your security program aligned with an industry framework such as ISO 27001 or "
       "the NIST Cybersecurity Framework?", YN, "Yes",
       notes="ISO/IEC 27001:2022 certified since 2021."),
    _q("DOCU-04", "Documentation", "Is this product authorised under FedRAMP?", None, YN,
       "No", notes="Not pursued; no federal customers."),
    _q("DOCU-05", "Documentation",
       "Can you share the summary of your most recent penetration test?", None, YN, None),
    # IT accessibility
    _q("ITAC-01", "IT Accessibility",
       "Has the product been evaluated against WCAG 2.1 AA?", "=", YN, "Yes",
       notes="Third-party audit in 2024; a VPAT is available."),
    _q("ITAC-02", "IT Accessibility",
       "Do you have a documented process for fixing reported accessibility defects?", None,
       YN, "Yes"),
    # Application security
    _q("APPL-01", "Application Security",
       "Do you follow a documented secure software development lifecycle?", "=", YN, "Yes",
       notes="SSDLC with threat modelling and peer code review."),
    _q("APPL-02", "Application Security",
       "Are applications scanned for vulnerabilities before each release?",
       "Is every release scanned for security vulnerabilities before it ships?", YN, "Yes",
       notes="Static analysis on every merge; dynamic scans weekly."),
    _q("APPL-03", "Application Security",
       "Do you keep a software bill of materials for the open-source components you use?",
       None, YN, "Yes"),
    _q("APPL-04", "Application Security",
       "Is the product's web interface protected by a web application firewall?", None, YN,
       "Yes"),
    # Authentication, authorization and account management
    _q("AAAI-01", "Authentication, Authorization, and Account Management",
       "Does the product support single sign-on with SAML 2.0?", "=", YN, "Yes",
       notes="SAML 2.0 and OpenID Connect."),
    _q("AAAI-02", "Authentication, Authorization, and Account Management",
       "Is multi-factor authentication enforced for administrative accounts?", "=", YN, "Yes"),
    _q("AAAI-03", "Authentication, Authorization, and Account Management",
       "Can customers set their own password complexity rules?",
       "Are password rules configurable by the customer?", YN, "No",
       notes="Passwords follow our fixed policy; single sign-on is recommended."),
    _q("AAAI-04", "Authentication, Authorization, and Account Management",
       "Are user access reviews performed at least quarterly?", None, YN, "Yes"),
    # Data
    _q("DATA-01", "Data", "Is customer data encrypted at rest?", "=", YN, "Yes",
       notes="AES-256 through the cloud provider's key management service."),
    _q("DATA-02", "Data",
       "Is customer data encrypted in transit using TLS 1.2 or later?", "=", YN, "Yes",
       notes="TLS 1.2 and 1.3 only."),
    _q("DATA-03", "Data", "Do you support customer-managed encryption keys?", "=", YN,
       "No", "Yes", notes="Not offered.", lite_notes="Bring your own key through AWS KMS "
       "since January 2025."),
    _q("DATA-04", "Data", "Is customer data stored only in the United States?",
       "Will institutional data be stored exclusively in U.S. data centers?", YN, "Yes",
       notes="AWS us-east-1 and us-west-2."),
    _q("DATA-05", "Data", "Are backups tested by restoring them at least annually?", None,
       YN, "Yes"),
    _q("DATA-06", "Data", "Do you use customer data to train machine learning models?", None,
       YN, "No", notes="Never."),
    # Incident handling
    _q("HFIH-01", "Incident Handling",
       "Do you have a documented incident response plan?", "=", YN, "Yes",
       notes="Tested twice a year with tabletop exercises."),
    _q("HFIH-02", "Incident Handling",
       "Will you notify customers of a security incident within 72 hours?",
       "Do you commit to notifying the institution of a data breach within 72 hours?", YN,
       "Yes"),
    _q("HFIH-03", "Incident Handling", "Do you carry cyber liability insurance?", None, YN,
       None),
    # Vulnerability management
    _q("VULN-01", "Vulnerability Management",
       "Are systems scanned for vulnerabilities at least monthly?", "=", YN, "Yes",
       notes="Weekly authenticated scans of every host."),
    _q("VULN-02", "Vulnerability Management",
       "Is an independent penetration test performed at least annually?", "=", YN, "No",
       "Yes", notes="Internal red team only.",
       lite_notes="An annual third-party test since 2024."),
    _q("VULN-03", "Vulnerability Management",
       "Are critical vulnerabilities remediated within 15 days?", None, YN, "Yes"),
    # Policies, processes and procedures
    _q("PPPR-01", "Policies, Processes, and Procedures",
       "Do you require security awareness training for all employees?", "=", YN, "Yes",
       notes="At hire and every year after."),
    _q("PPPR-02", "Policies, Processes, and Procedures",
       "Are background checks performed on employees with access to customer data?", None,
       YN, "Yes"),
    _q("PPPR-03", "Policies, Processes, and Procedures",
       "Do you have a documented change management process?",
       "Are changes to production systems governed by a documented change management "
       "process?", YN, "Yes"),
    # HIPAA (Full only)
    _q("HIPA-01", "HIPAA", "Will you sign a Business Associate Agreement?", None, YN, "N/A",
       notes="The product does not process protected health information."),
    # Asked in the Lite only
    _q("PRIV-01", "Privacy", None,
       "Do you sell or share institutional data with third parties for advertising?", YN,
       None, "No"),
    _q("AIQU-01", "Artificial Intelligence", None,
       "Does the product use generative AI on institutional data?", YN, None, None),
)


@dataclass(frozen=True, slots=True)
class CaiqQuestion:
    qid: str
    domain: str
    text: str
    answer: str | None  # "Yes", "No", "NA"; None: left unanswered
    ownership: str | None
    description: str | None
    control: str  # the CCM control id


CAIQ: tuple[CaiqQuestion, ...] = (
    CaiqQuestion("A&A-02.1", "Audit & Assurance",
                 "Are independent audit and assurance assessments conducted at least "
                 "annually?", "Yes", "CSP-owned", "A SOC 2 Type II report is issued each year.",
                 "A&A-02"),
    CaiqQuestion("AIS-04.1", "Application & Interface Security",
                 "Is a secure software development lifecycle defined and followed?", "Yes",
                 "CSP-owned", "SSDLC with threat modelling and peer code review.", "AIS-04"),
    CaiqQuestion("AIS-05.1", "Application & Interface Security",
                 "Is application security testing performed on every release?", "Yes",
                 "CSP-owned", None, "AIS-05"),
    CaiqQuestion("BCR-08.1", "Business Continuity Management and Operational Resilience",
                 "Are backups of cloud data restored as a test at least annually?", "Yes",
                 "CSP-owned", "Quarterly restore tests.", "BCR-08"),
    CaiqQuestion("CEK-03.1", "Cryptography, Encryption & Key Management",
                 "Is data at rest encrypted with industry-accepted cryptographic methods?",
                 "Yes", "Shared CSP and CSC", "AES-256 through AWS KMS.", "CEK-03"),
    CaiqQuestion("CEK-08.1", "Cryptography, Encryption & Key Management",
                 "Can cloud service customers manage their own data encryption keys?", "Yes",
                 "Shared CSP and CSC", "Bring your own key through AWS KMS.", "CEK-08"),
    CaiqQuestion("HRS-05.1", "Human Resources",
                 "Can customers review the results of employee background checks?", "No",
                 "CSP-owned", "Summaries only, under NDA.", "HRS-05"),
    CaiqQuestion("HRS-11.1", "Human Resources",
                 "Is a security awareness training program established for all employees?",
                 "Yes", "CSP-owned", "At hire and every year after.", "HRS-11"),
    CaiqQuestion("IAM-02.1", "Identity & Access Management",
                 "Can customers configure the password policy for their own users?", "No",
                 "CSP-owned", "A fixed policy; single sign-on is recommended.", "IAM-02"),
    CaiqQuestion("IAM-14.1", "Identity & Access Management",
                 "Is multi-factor authentication required for privileged access?", "Yes",
                 "CSP-owned", None, "IAM-14"),
    CaiqQuestion("IAM-16.1", "Identity & Access Management",
                 "Is federated single sign-on with SAML 2.0 supported for customer users?",
                 "Yes", "Shared CSP and CSC", "SAML 2.0 and OpenID Connect.", "IAM-16"),
    CaiqQuestion("IVS-03.1", "Infrastructure & Virtualization Security",
                 "Is data in transit encrypted with TLS 1.2 or later?", "Yes", "CSP-owned",
                 "TLS 1.2 and 1.3 only.", "IVS-03"),
    CaiqQuestion("LOG-01.1", "Logging and Monitoring",
                 "Are logging and monitoring policies established and reviewed annually?",
                 None, None, None, "LOG-01"),
    CaiqQuestion("SEF-01.1", "Security Incident Management, E-Discovery, & Cloud Forensics",
                 "Is a security incident management plan established and maintained?", "Yes",
                 "CSP-owned", "Tested twice a year.", "SEF-01"),
    CaiqQuestion("SEF-07.1", "Security Incident Management, E-Discovery, & Cloud Forensics",
                 "Are customers notified of security breaches within 72 hours?", "Yes",
                 "CSP-owned", None, "SEF-07"),
    CaiqQuestion("TVM-06.1", "Threat & Vulnerability Management",
                 "Is independent penetration testing performed at least annually?", "Yes",
                 "CSP-owned", "An annual third-party test since 2024.", "TVM-06"),
    CaiqQuestion("TVM-07.1", "Threat & Vulnerability Management",
                 "Are vulnerability scans run at least monthly?", "Yes", "CSP-owned",
                 "Weekly authenticated scans.", "TVM-07"),
    CaiqQuestion("UEM-08.1", "Universal Endpoint Management",
                 "Are mobile devices that access customer data centrally managed?", "NA",
                 "CSP-owned", "Staff do not reach customer data from mobile devices.", "UEM-08"),
)

#: CAIQ question → the HECVAT (Lite) question it matches; the answers agree. (A&A-02.1,
#: "independent audit and assurance assessments at least annually", is not DOCU-01's "SOC 2
#: Type II audit of this product": a Yes to the first does not say which audit it was.)
CAIQ_TO_HECVAT: dict[str, str] = {
    "AIS-04.1": "APPL-01", "AIS-05.1": "APPL-02",
    "CEK-03.1": "DATA-01", "CEK-08.1": "DATA-03", "HRS-11.1": "PPPR-01",
    "IAM-02.1": "AAAI-03", "IAM-14.1": "AAAI-02", "IAM-16.1": "AAAI-01",
    "IVS-03.1": "DATA-02", "SEF-01.1": "HFIH-01", "SEF-07.1": "HFIH-02",
    "TVM-06.1": "VULN-02", "TVM-07.1": "VULN-01",
}

#: A plain question: (id, text, answer or None, notes or None).
Plain = tuple[str, str, str | None, str | None]

SIG: dict[str, tuple[Plain, ...]] = {
    "A. Enterprise Risk Management": (
        ("A.1", "Is there a documented risk management program approved by management?",
         "Yes", "Reviewed by the board each year."),
        ("A.2", "Is a formal risk assessment performed at least annually?", "Yes", None),
        ("A.3", "Is there a dedicated risk governance committee?", "No",
         "Risks are reviewed by the executive team."),
    ),
    "E. Human Resources Security": (
        ("E.1", "Are background checks performed before employment?", "Yes",
         "Criminal and employment history."),
        ("E.2", "Is security awareness training required every year?", "Yes", None),
        ("E.3", "Is there a disciplinary process for security policy violations?", None, None),
    ),
    "H. Access Control": (
        ("H.1", "Is multi-factor authentication required for remote access?", "Yes",
         "Hardware keys for all staff."),
        ("H.2", "Are user access rights reviewed at least quarterly?", "Yes", None),
        ("H.3", "Are shared or generic accounts prohibited?", "Yes", None),
        ("H.4", "Are passwords stored with a salted one-way hash?", "N/A",
         "No passwords are stored; sign-in is through single sign-on only."),
    ),
}

#: The HECVAT 4 sheets in order: sheet → questions; the first is the "Start Here" sheet
#: whose routing questions open the sections (START-02 the on-premises one, START-03 the
#: case-specific one, START-04 the AI one).
HECVAT4: dict[str, tuple[Plain, ...]] = {
    "Start Here": (
        ("GNRL-01", "Vendor Name", "Harborline Analytics, Inc.", None),
        ("GNRL-02", "Product Name", "Tidewater", None),
        ("START-01", "Is the product hosted by the vendor (software as a service)?", "Yes",
         None),
        ("START-02", "Is any part of the product installed on the institution's premises?",
         "No", None),
        ("START-03", "Will the product store or process protected health information?", "No",
         None),
        ("START-04", "Does the product include artificial intelligence features?", "Yes",
         "Forecasting models; no generative AI."),
    ),
    "Organization": (
        ("ORGN-01", "Do you have a dedicated information security team?", "Yes",
         "Six people, reporting to the CISO."),
        ("ORGN-02", "Have you undergone a SOC 2 Type II audit in the last 12 months?", "Yes",
         None),
        ("ORGN-03", "Do all employees complete security awareness training every year?",
         "Yes", None),
    ),
    "Product": (
        ("PROD-01", "Does the product support single sign-on with SAML 2.0?", "Yes", None),
        ("PROD-02", "Is customer data encrypted at rest?", "Yes", "AES-256."),
        ("PROD-03", "Is customer data encrypted in transit with TLS 1.2 or later?", "Yes",
         None),
        ("PROD-04", "Can customers export all of their data at the end of the contract?",
         None, None),
    ),
    "On-Premises": (
        ("ONPR-01", "Does the installed software receive security patches at least monthly?",
         "N/A", "Nothing is installed on premises."),
        ("ONPR-02", "Can the installed software run without outbound internet access?",
         "N/A", None),
    ),
    "Case-Specific": (
        ("HIPA-01", "Will you sign a Business Associate Agreement?", "N/A", None),
        ("PCID-01", "Is the product in scope of a PCI DSS assessment?", "No", None),
    ),
    "AI": (
        ("AIQU-01", "Are institutional data used to train your AI models?", "No", "Never."),
        ("AIQU-02", "Can the institution turn off the product's AI features?", "Yes", None),
    ),
}

#: A Word questionnaire: section heading → questions, each table's rows.
WORD: dict[str, tuple[Plain, ...]] = {
    "1. Data Protection": (
        ("1.1", "Is customer data encrypted at rest?", "Yes", "AES-256 with managed keys."),
        ("1.2", "Is customer data encrypted in transit?", "Yes", None),
        ("1.3", "Do you support customer-managed encryption keys?", "No",
         "Planned for next year."),
        ("1.4", "Where is customer data stored?", None, None),
    ),
    "2. Access Management": (
        ("2.1", "Is multi-factor authentication enforced for all staff?", "Yes", None),
        ("2.2", "Are access rights reviewed at least quarterly?", "N/A",
         "Only two administrators; reviewed monthly."),
        ("2.3", "Do you support single sign-on with SAML 2.0?", "Yes", "And OpenID Connect."),
    ),
}
