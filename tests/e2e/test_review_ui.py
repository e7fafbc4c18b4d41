"""The review web UI in a real browser: Debian's Chromium, driven by Playwright, against a
real `ddq serve` process on loopback. A person signs in with a key, uploads the knowledge
base and the sample questionnaire, waits for the drafts, approves one answer, edits one,
rejects one, and downloads the workbook, whose answer cells are then checked. Screenshots
of the review page are kept in test-artifacts/ (or $DDQ_TEST_ARTIFACTS)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openpyxl
import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
KNOWLEDGE = REPO / "examples" / "knowledge"
SAMPLE = REPO / "examples" / "questionnaires" / "harborline_vendor_security.xlsx"
ARTIFACTS = Path(os.environ.get("DDQ_TEST_ARTIFACTS", REPO / "test-artifacts"))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling out, and this machine's
# closed network refuses it (see the env notes); the rest keep a CI browser quiet.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    home = tmp_path_factory.mktemp("ui") / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DDQ_")}
    env.update({"DDQ_EMBEDDER": "fake:hashing-64", "DDQ_HOME": str(home), "NO_COLOR": "1"})
    created = subprocess.run(
        [sys.executable, "-m", "ddq.cli", "keys", "create", "--name", "Riley Reviewer",
         "--role", "approver", "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)["key"]
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "ddq.cli", "serve", "--port", str(port)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{url}/ui/login", timeout=1)
            break
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"ddq serve did not start:\n{output[-3000:]}")
            time.sleep(0.2)
    try:
        yield url, key
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.filterwarnings("ignore:Data Validation extension is not supported")
def test_a_reviewer_answers_a_questionnaire_in_the_browser(server: tuple[str, str],
                                                           tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed; run scripts/system-packages.sh")
    from playwright.sync_api import expect, sync_playwright

    url, key = server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                    headless=True)
        page = browser.new_page(accept_downloads=True, viewport={"width": 1280, "height": 900})
        page.set_default_timeout(30_000)

        # Signing in: any page sends a stranger to the sign-in form.
        page.goto(f"{url}/ui")
        expect(page).to_have_url(re.compile(r"/ui/login$"))
        page.get_by_label("API key").fill("ddq_wrong")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("not valid")
        page.get_by_label("API key").fill(key)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Questionnaires")).to_be_visible()
        expect(page.locator("header")).to_contain_text("Riley Reviewer")

        # The knowledge base.
        page.get_by_role("link", name="Knowledge").click()
        page.get_by_label("Knowledge files").set_input_files(
            sorted(str(p) for p in KNOWLEDGE.iterdir() if p.is_file()))
        page.get_by_role("button", name="Upload and index").click()
        expect(page.get_by_role("status")).to_contain_text(
            "encryption-and-key-management.md: added")
        expect(page.locator("table")).to_contain_text("answer_library.xlsx")

        # The questionnaire: upload, then the page follows the drafting until it is done.
        page.get_by_role("link", name="Questionnaires").click()
        page.get_by_label("Questionnaire file").set_input_files(str(SAMPLE))
        page.get_by_role("button", name="Upload and draft answers").click()
        expect(page.get_by_role("status")).to_contain_text("31 questions found")
        expect(page.locator("#progress")).to_have_text("31 of 31 drafted", timeout=90_000)
        expect(page.locator("#job-state")).to_have_text("drafted")
        page.screenshot(path=str(ARTIFACTS / "review-page.png"), full_page=True)

        rows = page.locator("tr[data-question-id]")
        assert rows.count() == 31
        # "Needs input" has nothing to approve: only editing (or rejecting) is offered.
        unanswered = page.locator("tr[data-question-id]", has_text="needs input").first
        expect(unanswered.get_by_role("button", name="Approve")).to_have_count(0)
        expect(unanswered.get_by_text("Edit")).to_be_visible()
        # Drafted from documents (a library match approved again is in the library already).
        answered = [rows.nth(i) for i in range(rows.count())
                    if rows.nth(i).get_by_role("button", name="Approve").count()
                    and "needs input" not in rows.nth(i).inner_text()
                    and "drafted by library" not in rows.nth(i).inner_text()]
        assert len(answered) >= 3
        approve_row, edit_row, reject_row = answered[:3]
        approve_id = approve_row.get_attribute("data-question-id")
        edit_id = edit_row.get_attribute("data-question-id")
        reject_id = reject_row.get_attribute("data-question-id")
        approved_text = approve_row.locator(".answer").inner_text()

        # A cited passage opens in place.
        approve_row.locator("details summary").first.click()
        expect(approve_row.locator("blockquote").first).to_be_visible()

        approve_row.get_by_role("button", name="Approve").click()
        expect(page.get_by_role("status")).to_have_text("Approved.")
        expect(page.locator(f"#q{approve_id} .badge")).to_have_text("approved")

        edited = "Yes. Edited in review: every laptop uses full-disk encryption (AES-256)."
        row = page.locator(f"#q{edit_id}")
        row.locator("details.edit summary").click()
        row.get_by_label("Answer text").fill(edited)
        row.get_by_role("button", name="Save answer").click()
        expect(page.get_by_role("status")).to_have_text("Saved.")
        expect(page.locator(f"#q{edit_id} .answer")).to_have_text(edited)
        expect(page.locator(f"#q{edit_id} .badge")).to_have_text("edited")
        # What the edit puts in the file: the Yes in its dropdown, the text beside it.
        expect(page.locator(f"#q{edit_id} .fill")).to_contain_text("← Yes")
        expect(page.locator(f"#q{edit_id} .fill")).to_contain_text(
            "← Edited in review: every laptop")

        page.locator(f"#q{reject_id}").get_by_role("button", name="Reject").click()
        expect(page.locator(f"#q{reject_id} .badge")).to_have_text("rejected")

        # Filtering by status shows just the rejected one.
        page.get_by_label("Show").select_option("rejected")
        page.get_by_role("button", name="Filter").click()
        expect(page.locator("tr[data-question-id]")).to_have_count(1)
        page.get_by_label("Show").select_option("")
        page.get_by_role("button", name="Filter").click()
        page.screenshot(path=str(ARTIFACTS / "review-page-after-review.png"), full_page=True)

        with page.expect_download() as download_info:
            page.get_by_role("link", name="Download answered file").click()
        download = download_info.value
        assert download.suggested_filename == "harborline_vendor_security-answered.xlsx"
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)

        # The approved answer went into the answer library, with where it came from.
        page.get_by_role("link", name="Library").click()
        expect(page.get_by_role("heading", name="Answer library")).to_be_visible()
        entry = page.locator("tr[id^=e]").first
        expect(entry).to_contain_text("approved in harborline_vendor_security.xlsx")
        expect(entry.locator(".badge").first).to_have_text("approved")
        page.screenshot(path=str(ARTIFACTS / "library-page.png"), full_page=True)
        browser.close()

    workbook = openpyxl.load_workbook(saved)
    cells = [str(c.value) for ws in workbook.worksheets for row in ws.iter_rows()
             for c in row if c.value is not None]
    # A Yes/No column takes the verdict; the text beside it goes to the notes column.
    def body(text: str) -> str:
        return re.sub(r"^(Yes|No)(\.|\s*[—–-])\s*", "", text.strip())[:40]

    assert any(body(edited) in c for c in cells), "the edited answer is in the file"
    assert any(body(approved_text) in c for c in cells), "the approved answer is in the file"
    assert (ARTIFACTS / "review-page.png").stat().st_size > 10_000
