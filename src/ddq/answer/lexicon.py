"""The field's vocabulary: acronyms, their expansions and the synonyms questionnaires and
policies use for the same thing.

A *concept* is a set of ways to say one thing ("MFA", "multi-factor authentication",
"2FA", "two-factor authentication"). Forms are matched on stemmed words in order, with
stop words skipped, so "customer-managed keys" is found in "keys managed by the customer"
only when a form says so, and never in "customer data … keys are managed in a KMS".

Three users:

- retrieval adds a question's other forms to its keyword query ("Is MFA enforced?" also
  searches "multi-factor authentication");
- coverage counts a question's concept as present when the evidence says it in any form;
- the subject guard requires the question's *specific* concepts (customer-managed keys, an
  extension of a period, a party such as the company's suppliers) in the passage it
  answers from.

Single words with the same meaning in this field ("enforced" / "mandatory" / "required")
are :data:`SYNONYMS`, matched by stem.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

StemTerms = Callable[[str], Sequence[str]]

# One concept a line: its forms separated by "|". The first form names it in reasons. A
# "!" marks a concept made of common words that means something narrower than its words
# ("customer-managed keys" is not "the customer's data and keys managed in a KMS"): only
# one of its forms says it. An indented line starting with "|" continues the one above.
_CONCEPTS = """
annually | annual | yearly | once a year | every year | each year | per year | twelve months
    | 12 months | every twelve months | every 12 months
quarterly | every quarter | each quarter | three months | every three months | every 3 months
monthly | every month | each month | once a month
multi-factor authentication | mfa | 2fa | two-factor authentication | two factor | multifactor
    | strong authentication | second factor
single sign-on | sso | saml | oidc | openid connect | federated identity | federated sign-in
    | federated login
identity provider | idp | okta | azure ad | entra id | onelogin | ping identity | jumpcloud
    | auth0 | google workspace identity
user provisioning | scim | automated provisioning | just-in-time provisioning
!customer-managed keys | cmk | cmek | byok | hyok | bring your own key | hold your own key
    | customer-managed encryption keys | customer managed keys | keys managed by the customer
    | customer-supplied keys | customer-controlled keys
key management service | kms | key management system | hardware security module | hsm
    | key vault | cloud kms
encryption at rest | data at rest | at rest | stored data | data in storage | storage encryption
    | encrypted when stored | disk encryption | encrypted on disk | on-disk encryption
encryption in transit | in transit | data in motion | transport encryption | tls | ssl | https
    | encrypted connections | encrypted connection
transport layer security | tls | ssl
advanced encryption standard | aes | aes-256 | aes-128 | aes256
cipher | cryptographic algorithm | encryption algorithm | aes | aes-256 | aes-128
    | aes256 | rsa | chacha20
recovery time objective | rto | time to recover | restore service within
recovery point objective | rpo | maximum data loss | data loss window
disaster recovery | dr | recovery plan | failover | disaster recovery plan
business continuity | bcp | business continuity plan | continuity plan | bcdr | continuity
endpoint detection and response | edr | xdr | endpoint protection | antivirus | anti-virus
    | anti-malware | antimalware | malware protection | crowdstrike | sentinelone
    | microsoft defender
security information and event management | siem | log management | central logging
    | centralized logging | centralised logging | log aggregation | splunk | datadog
    | sumo logic | elastic security
security operations | soc team | security operations center | security operations centre
data processing agreement | dpa | data processing addendum | data protection agreement
    | processing agreement
data protection officer | dpo | privacy officer
static application security testing | sast | static analysis | static code analysis
    | code scanning
dynamic application security testing | dast | dynamic testing | dynamic scanning
software composition analysis | sca | dependency scanning | dependency scan
    | open source scanning | dependabot | snyk
software dependencies | third-party dependencies | third-party libraries | third-party components
    | open source dependencies | open-source components | dependencies | libraries | packages
software bill of materials | sbom | bill of materials
mobile device management | mdm | device management | endpoint management | intune | jamf
    | managed devices
voluntary product accessibility template | vpat | accessibility conformance report | acr | wcag
penetration test | pentest | pen test | penetration testing | ethical hacking | red team
vulnerability disclosure | bug bounty | disclosure program | disclosure process | security.txt
web application firewall | waf
distributed denial of service | ddos | denial of service | dos protection
intrusion detection | ids | ips | intrusion prevention
data loss prevention | dlp
role-based access control | rbac | role-based | roles
least privilege | need to know | minimum necessary access
privileged access management | pam | privileged access | just-in-time access | jit access
    | just in time
access review | user access review | access recertification | recertification
    | entitlement review | recertify | recertified | recertifies
background check | background screening | pre-employment screening | screening | vetting
security awareness training | awareness training | security training
acceptable use policy | aup | acceptable use | rules of behavior | rules of behaviour
    | rules for use | usage rules
phishing simulation | phishing test | simulated phishing
non-disclosure agreement | nda | confidentiality agreement | confidentiality terms
    | confidentiality undertaking
iso 27001 | iso/iec 27001 | isms certification
federal risk and authorization management program | fedramp
payment card industry | pci | pci dss | cardholder data | payment card
health insurance portability | hipaa | business associate agreement | baa
    | protected health information | phi
general data protection regulation | gdpr | eu data protection
personal data | personally identifiable information | pii | personal information
subprocessor | sub-processor | subprocessors | processor | subcontractor
third party | vendor | supplier | service provider | outsourced provider | third-party
    | subservice provider | subservice providers | subprocessor | sub-processor | subprocessors
incident response | incident management | ir plan | incident response plan
    | security incident handling
notification | notify | notified | notifies
change management | change control | change approval | change process
infrastructure as code | iac | terraform | cloudformation | pulumi
continuous integration | ci/cd | cicd | pipeline | deployment pipeline | continuous delivery
multi-tenant isolation | tenant isolation | logical isolation | tenant separation
    | segregated between tenants | tenant segregation | per-tenant
network segmentation | segmentation | segmented | network isolation | vpc | subnet
data retention | retention | retained | retain | retention period
data deletion | deletion | deleted | erase | erasure | purge | secure disposal | disposal
    | destroy | destruction | sanitisation | sanitization
patch management | patching | patched | security updates | operating system updates
    | automatic updates
remote wipe | wipe | wipeable | remotely erased | remote erase
time synchronisation | ntp | time synchronization | synchronized clocks | clock synchronisation
cloud security posture management | cspm | posture monitoring | posture management
security posture | posture
recognized standard | recognised standard | industry standard | iso | nist | cis benchmark
    | iso/iec
service level agreement | sla | slas | service level | remediation targets
    | remediation deadlines | remediation timelines
threat intelligence | threat intel | threat feeds | threat information
risk assessment | risk analysis | risk review
risk acceptance | accepted risk | risk exception
asset inventory | inventory | asset register | configuration management database | cmdb
software development lifecycle | sdlc | secure development | development lifecycle | secure sdlc
code review | peer review | pull request review | four-eyes review
segregation of duties | separation of duties | author and approver
virtual private network | vpn
zero trust | ztna
audit log | audit trail | audit logs | activity log
google cloud platform | gcp | google cloud
amazon web services | aws
microsoft azure | azure
cloud provider | cloud service provider | csp | hosting provider | iaas | aws | gcp | azure
    | google cloud
"""

# Single words a policy uses for the question's word (matched by stem, both ways).
_SYNONYMS = """
enforced mandatory required requires enforce enforces must compulsory
reviewed review reviews revisited revisit reassessed reassess re-evaluated recertified
updated update revised refreshed
programme program
organisation organization
annually annual yearly year
quarterly quarter
monthly month
weekly week
daily day
employees employee staff personnel workforce
user users staff employees personnel workforce accounts
tested test tests testing exercised exercise drills drill tabletop
performed conducted carried completed executed run
deployed installed implemented in-use
protected protection protects secured safeguarded
prohibited forbidden disallowed banned never
prior before ahead
second secondary
accuracy accurate accurately
ownership owner owners owned
oversight oversee oversees governance
endpoints endpoint devices device laptops laptop workstations notebooks notebook
upon on after
centrally central centralized centralised
classification classified levels tiers categories category
segregation separation separate separated
restricted limited controlled
documented written write writes defined
assessed evaluated reviewed
segregated isolated separated segmented
hosted runs operated
encrypted encryption encrypt
notified notify notification notifies told informed
held kept retained stored
hosted stored located
locations location regions region countries country
clients client customers customer
agreement agreements contract contracts
practised practiced exercised rehearsed tested
vetting screening screened
edition version
remediated remediate remediation fixed fix fixes
weakness weaknesses vulnerability vulnerabilities flaw flaws
checked scanned scan inspected
logged logging logs log recorded
monitored monitoring watched
approved approval authorised authorized
revoked removed disabled deprovisioned
provisioned granted
suspicious anomalous malicious
offices office premises facilities
attestation attest attested report
entitlements entitlement permissions access
leadership executive executives
finished finish completed concluded
recertify recertified recertifies recertification
departing departure departs leaver leavers leaves leaving
elevated elevation privileged
files file documents document
acknowledge acknowledged acknowledges accept accepts accepted
"""

#: Concepts that name a party: a question about one party is not answered by a passage
#: about another (the company's suppliers are not its customers).
PARTIES: dict[str, tuple[str, ...]] = {
    "suppliers": ("vendor", "vendors", "supplier", "suppliers", "subprocessor",
                  "subprocessors", "sub-processor", "sub-processors", "subcontractor",
                  "subcontractors", "third party", "third parties", "third-party",
                  "processor", "processors"),
    "customers": ("customer", "customers", "client", "clients", "tenant", "tenants"),
    "workforce": ("employee", "employees", "staff", "personnel", "workforce",
                  "contractor", "contractors", "worker", "workers", "engineers",
                  "managers", "system owners", "administrators", "admins"),
}

#: Words that ask about a change to a value rather than the value ("extend retention on
#: request"): a passage that states only the value does not answer them.
MODIFIERS: tuple[str, ...] = (
    "extend", "extended", "extension", "extending", "lengthen", "longer", "shorten",
    "shorter", "customisable", "customizable", "configurable",
    "override", "waive", "waiver", "exception to", "beyond",
)

_WORDS = re.compile(r"[a-z0-9]+")
_WHOSE_DATA = re.compile(
    r"\b(?:customer|client|tenant|employee|staff|vendor|supplier)s?'?\s+(?:data|information|"
    r"content|records|files|personal\s+data)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Concept:
    name: str
    forms: tuple[str, ...]
    #: Said only by one of its forms, never by its words scattered in a sentence.
    strict: bool = False


def _parse_concepts() -> tuple[Concept, ...]:
    out = []
    # An indented line that starts with "|" goes on with the line above it.
    joined = re.sub(r"\n\s+\|", " |", _CONCEPTS.strip())
    for line in joined.splitlines():
        strict = line.startswith("!")
        forms = tuple(f.strip() for f in line.lstrip("!").split("|") if f.strip())
        if forms:
            out.append(Concept(forms[0], forms, strict))
    return tuple(out)


CONCEPTS: tuple[Concept, ...] = _parse_concepts()
SYNONYMS: tuple[tuple[str, ...], ...] = tuple(
    tuple(line.split()) for line in _SYNONYMS.strip().splitlines() if line.strip())
#: The acronyms the lexicon knows (one word, letters and digits, written in capitals).
ACRONYMS: frozenset[str] = frozenset(
    form for concept in CONCEPTS for form in concept.forms
    if " " not in form and "-" not in form and len(form) <= 6)
#: Every one-word form (acronyms and product names such as "okta").
SINGLE_FORMS: frozenset[str] = frozenset(
    form for concept in CONCEPTS for form in concept.forms[1:] if " " not in form)


@dataclass(frozen=True, slots=True)
class Match:
    """A concept found in a text: which, and the positions of the stems it covers."""

    concept: Concept
    positions: frozenset[int]


class Lexicon:
    """The vocabulary compiled with one stemmer (the keyword index's, so that what the
    answerer stems and what the lexicon stems agree)."""

    def __init__(self, stem_terms: StemTerms) -> None:
        self._stem_terms = stem_terms

    def stems(self, text: str) -> tuple[str, ...]:
        """``text``'s stems in order, hyphens and slashes read as spaces."""
        return tuple(self._stem_terms(re.sub(r"[-/]", " ", text.lower())))

    @cached_property
    def _forms(self) -> dict[tuple[str, ...], list[Concept]]:
        forms: dict[tuple[str, ...], list[Concept]] = {}
        for concept in CONCEPTS:
            for form in concept.forms:
                key = self.stems(form)
                if key and concept not in forms.setdefault(key, []):
                    forms[key].append(concept)
        return forms

    @cached_property
    def _longest(self) -> int:
        return max((len(k) for k in self._forms), default=1)

    @cached_property
    def _synonyms(self) -> dict[str, frozenset[str]]:
        table: dict[str, set[str]] = {}
        for group in SYNONYMS:
            stems = {s for word in group for s in self.stems(word)}
            for stem in stems:
                table.setdefault(stem, set()).update(stems)
        return {k: frozenset(v) for k, v in table.items()}

    def matches(self, stems: Sequence[str]) -> list[Match]:
        """Every concept whose form occurs in ``stems`` (contiguous, in order)."""
        found: dict[str, Match] = {}
        for start in range(len(stems)):
            for length in range(min(self._longest, len(stems) - start), 0, -1):
                key = tuple(stems[start : start + length])
                for concept in self._forms.get(key, ()):
                    positions = frozenset(range(start, start + length))
                    old = found.get(concept.name)
                    found[concept.name] = Match(
                        concept, positions | old.positions if old else positions)
        # "third-party dependencies" is software, not also a third party: a match that
        # lies inside a longer one is part of it.
        matches = list(found.values())
        return [m for m in matches
                if not any(m.positions < other.positions for other in matches)]

    def is_strict(self, name: str) -> bool:
        return name in self._strict

    @cached_property
    def _strict(self) -> frozenset[str]:
        return frozenset(c.name for c in CONCEPTS if c.strict)

    def concepts(self, stems: Sequence[str]) -> frozenset[str]:
        """The names of the concepts ``stems`` mention."""
        return frozenset(m.concept.name for m in self.matches(stems))

    def synonyms(self, stem: str) -> frozenset[str]:
        """Stems that, in evidence, say what ``stem`` says (itself included)."""
        return self._synonyms.get(stem, frozenset((stem,)))

    def expand_query(self, question: str) -> str:
        """``question`` followed by the other forms of the concepts it mentions, for a
        keyword search ("Is MFA enforced?" also looks for "multi-factor authentication")."""
        extra: list[str] = []
        lowered = question.lower()
        for match in self.matches(self.stems(question)):
            # The concept's name and its acronyms: every synonym would drown the
            # question's own words.
            forms = [f for f in match.concept.forms[:1] + tuple(
                f for f in match.concept.forms if f in ACRONYMS)]
            extra.extend(f for f in forms if f not in extra and f not in lowered)
        return f"{question} {' '.join(extra)}" if extra else question

    def spelled_out(self, text: str) -> str:
        """``text`` with each acronym the lexicon knows followed, once, by its concept's
        name ("RTO 6 h" -> "RTO (recovery time objective) 6 h"), unless the name is there."""
        lowered = text.lower()
        done: set[str] = set()
        out = text
        # Acronyms, and names written mid-sentence with a capital ("through Okta").
        names_used = re.findall(r"(?<=[a-z,;]\s)[A-Z][a-zA-Z0-9]+\b", text)
        for acronym in dict.fromkeys([*acronyms_in(text), *names_used]):
            key = acronym.lower()
            if key not in SINGLE_FORMS or key in done:
                continue
            # The concept the acronym abbreviates comes first among those it belongs to
            # ("TLS" is transport layer security before it is encryption in transit).
            concepts = sorted((m.concept for m in self.matches(self.stems(key))),
                              key=lambda c: c.forms.index(key) if key in c.forms else 99)
            name = next((c.name for c in concepts
                         if c.name != key and c.name not in lowered), None)
            if name is None:
                continue
            done.add(key)
            # After the whole token: "AES-256 (advanced encryption standard)".
            found = re.search(rf"\b{re.escape(acronym)}\b[\w.+/-]*(?<![.])", out)
            if found:
                out = f"{out[:found.end()]} ({name}){out[found.end():]}"
        return out

    def knows(self, word: str) -> bool:
        """Whether ``word`` is a form of a known concept (case-insensitive)."""
        return bool(self.matches(self.stems(word)))

    def parties(self, text: str) -> frozenset[str]:
        """The parties ``text`` names (see :data:`PARTIES`). A party word that only says
        whose data something is ("customer data", "client information") names no party:
        the passage is about the data."""
        stems = self.stems(_WHOSE_DATA.sub(" ", text))
        return frozenset(name for name, words in PARTIES.items()
                         if any(_contains(stems, self.stems(w)) for w in words))

    def modifiers(self, text: str) -> frozenset[str]:
        """The change-of-value words ``text`` uses (see :data:`MODIFIERS`), as stems."""
        stems = self.stems(text)
        return frozenset(" ".join(self.stems(w)) for w in MODIFIERS
                         if _contains(stems, self.stems(w)))


def _contains(stems: Sequence[str], part: Sequence[str]) -> bool:
    n = len(part)
    return n > 0 and any(tuple(stems[i : i + n]) == tuple(part)
                         for i in range(len(stems) - n + 1))


def acronyms_in(text: str) -> list[str]:
    """Words written as acronyms ("SSO", "ISO27001", "CSPM"): two or more capitals, maybe
    with digits, in the original case."""
    return re.findall(r"\b[A-Z][A-Z0-9]{1,7}s?\b", text)


def only_acronyms(text: str) -> list[str]:
    """The acronyms of ``text`` when it is made of nothing else (besides punctuation and
    question words), else []."""
    words = _WORDS.findall(text.lower())
    found = acronyms_in(text)
    lowered = {a.lower() for a in found} | {a.lower().rstrip("s") for a in found}
    rest = [w for w in words if w not in lowered and w not in _QUESTION_FILLER]
    return found if found and not rest else []


_QUESTION_FILLER = frozenset(
    "do does you your we our is are have has a an the what about any use support "
    "offer provide".split())


def all_forms(names: Iterable[str]) -> list[str]:
    """Every form of the named concepts (for reasons and query expansion)."""
    wanted = set(names)
    return [f for c in CONCEPTS if c.name in wanted for f in c.forms]
