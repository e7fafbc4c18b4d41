"""The review report: every question with its answer, confidence, status and citations.

HTML for people (one self-contained file, everything escaped) and CSV for spreadsheets
(every cell neutralised: a report opened in Excel must not run a formula from an answer).
"""

from __future__ import annotations

import csv
import html
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ddq.forms import neutralise
from ddq.questionnaire.ooxml import replace_atomically
from ddq.store.questionnaires import DraftRecord, QuestionnaireInfo, QuestionRecord

STATUS_LABELS = {
    "answered": "Answered from documents",
    "library_match": "Library match",
    "needs_input": "Needs input",
    None: "Not answered yet",
}

CSV_COLUMNS = ("key", "id", "section", "question", "status", "verdict", "confidence", "answer",
               "citations", "reason", "location")


@dataclass(frozen=True, slots=True)
class ReportRow:
    question: QuestionRecord
    draft: DraftRecord | None

    @property
    def status(self) -> str | None:
        return self.draft.status.value if self.draft else None


def rows_of(questions: list[QuestionRecord], drafts: dict[int, DraftRecord]) -> list[ReportRow]:
    return [ReportRow(q, drafts.get(q.id)) for q in questions]


def _atomic_write(path: Path, text: str) -> None:
    replace_atomically(path, text.encode("utf-8"))


def citations_text(draft: DraftRecord) -> str:
    return "; ".join(f"{c.source_path} ({c.location})" if c.location else c.source_path
                     for c in draft.citations)


def render_csv(rows: list[ReportRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        q, d = row.question, row.draft
        values = [q.key, q.qid or "", " > ".join(q.section), q.text,
                  STATUS_LABELS[row.status], (d.stance or "") if d else "",
                  f"{d.confidence:.2f}" if d else "", d.text if d else "",
                  citations_text(d) if d else "", d.reason if d else "", q.location]
        writer.writerow([neutralise(v) for v in values])
    return "\ufeff" + buffer.getvalue()  # a BOM, so Excel reads the CSV as UTF-8


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1f2933}
h1{font-size:1.4rem}table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border:1px solid #d9e2ec;padding:.45rem;vertical-align:top;text-align:left}
th{background:#f0f4f8;position:sticky;top:0}.section{color:#627d98;font-size:.8rem}
.status{white-space:nowrap;font-weight:600;border-radius:4px;padding:.1rem .4rem}
.answered{background:#e3f9e5}.library_match{background:#e6f6ff}.needs_input{background:#fff3c4}
.pending{background:#f0f4f8}.low{color:#b44d12}.cite{font-size:.8rem;color:#486581}
blockquote{margin:.2rem 0 .4rem .8rem;color:#52606d;font-size:.8rem}
.summary span{margin-right:1.2rem}
"""


def render_html(info: QuestionnaireInfo, rows: list[ReportRow], *, low_confidence: float = 0.5
                ) -> str:
    counts = Counter(STATUS_LABELS[r.status] for r in rows)
    e = html.escape
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>DDQ review: {e(info.name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Review report: {e(info.name)}</h1>",
        f"<p class=summary><span>{len(rows)} questions</span>"
        + "".join(f"<span>{e(label)}: {n}</span>" for label, n in sorted(counts.items()))
        + "</p>",
        "<table><thead><tr><th>#</th><th>Question</th><th>Answer</th><th>Status</th>"
        "<th>Confidence</th><th>Citations</th></tr></thead><tbody>",
    ]
    for number, row in enumerate(rows, start=1):
        q, d = row.question, row.draft
        status = row.status or "pending"
        section = f"<div class=section>{e(' > '.join(q.section))}</div>" if q.section else ""
        qid = f"<b>{e(q.qid)}</b> " if q.qid else ""
        if d is None:
            answer, confidence, cites = "", "", ""
        else:
            verdict = f"<b>{e(d.stance.capitalize())}.</b> " if d.stance else ""
            answer = verdict + e(d.text).replace("\n", "<br>")
            answer += f"<div class=cite>{e(d.reason)}</div>"
            css = " class=low" if d.confidence < low_confidence else ""
            confidence = f"<span{css}>{d.confidence:.2f}</span>"
            cites = "".join(
                f"<div class=cite>[{i}] {e(c.source_path)}"
                + (f" <i>({e(c.location)})</i>" if c.location else "")
                + f"<blockquote>{e(c.quote)}</blockquote></div>"
                for i, c in enumerate(d.citations, start=1)
            )
        parts.append(
            f"<tr id='q{q.id}'><td>{number}</td><td>{section}{qid}{e(q.text)}</td>"
            f"<td>{answer}</td><td><span class='status {status}'>"
            f"{e(STATUS_LABELS[row.status])}</span></td><td>{confidence}</td><td>{cites}</td></tr>"
        )
    parts.append("</tbody></table></body></html>")
    return "\n".join(parts)


def write_reports(info: QuestionnaireInfo, rows: list[ReportRow], stem: Path
                  ) -> tuple[Path, Path]:
    """Write ``<stem>.report.html`` and ``<stem>.report.csv``; returns both paths."""
    html_path = stem.with_name(stem.name + ".report.html")
    csv_path = stem.with_name(stem.name + ".report.csv")
    _atomic_write(html_path, render_html(info, rows))
    _atomic_write(csv_path, render_csv(rows))
    return html_path, csv_path
