"""The web page in a real browser, against `sluice serve` with the real model over a copy of the sample corpus.

Set SLUICE_SCREENSHOTS=1 to (re)write the screenshots in docs/images/.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from sluice.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "examples" / "corpus"
IMAGES = ROOT / "docs" / "images"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
SCREENSHOTS = os.environ.get("SLUICE_SCREENSHOTS") == "1"
START_S = 120.0
UI_TIMEOUT_MS = 30_000

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # the skip below says why
    sync_playwright = None

pytestmark = [
    pytest.mark.browser,
    pytest.mark.model,
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed; run `make install`"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing; `apt-get install chromium`"),
    pytest.mark.skipif(
        not (Settings().model_dir / "tokenizer.json").exists(),
        reason="the local model is not exported; run `make install` or set SLUICE_MODEL_DIR",
    ),
]

HARBOUR = """# Harbour rules

The harbour master opens the swing bridge at half past seven every morning and closes it at seven in the evening.

Boats longer than twenty metres must book a berth two days ahead by calling the harbour office.
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def wait_until_ingested(base: str, expected: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        assert server.poll() is None, "sluice serve exited early"
        try:
            docs = get_json(f"{base}/v1/documents")["documents"]
        except OSError:
            docs = []
        if len(docs) >= expected and all(d["status"] != "pending" for d in docs):
            return
        time.sleep(0.25)
    raise AssertionError(f"the corpus was not ingested within {START_S} s")


def scanned_pdf(path: Path) -> None:
    """A PDF whose only page is a picture: Sluice must say it has no text layer."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_fill_color(215, 220, 225)
    pdf.rect(20, 20, 170, 120, "F")
    pdf.output(str(path))


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("web")
    corpus = work / "corpus"
    shutil.copytree(CORPUS, corpus)
    scanned_pdf(corpus / "scanned-invoice.pdf")
    port = free_port()
    log = (work / "serve.log").open("wb")
    command = [sys.executable, "-m", "sluice.cli", "serve", "--state", str(work / "state"), "--watch", str(corpus),
               "--port", str(port)]
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=work)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ingested(base, expected=len([p for p in corpus.iterdir() if ".metadata." not in p.name]),
                            server=proc)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, base_url=server, color_scheme="light")
    context.set_default_timeout(UI_TIMEOUT_MS)
    pg = context.new_page()
    pg.goto("/")
    expect(pg.locator("#readiness")).to_contain_text("Ready")
    yield pg
    context.close()


def snap(target: Page, name: str, **options) -> None:
    if SCREENSHOTS:
        IMAGES.mkdir(parents=True, exist_ok=True)
        target.screenshot(path=str(IMAGES / name), animations="disabled", **options)


def switch_to(page: Page, mode: str) -> None:
    page.locator(".mode-switch label", has_text=mode).click()
    expect(page.get_by_label(mode, exact=True)).to_be_checked()


def ask(page: Page, question: str) -> None:
    switch_to(page, "Ask")
    page.get_by_label("Your question").fill(question)
    page.get_by_label("Your question").press("Enter")
    expect(page.locator("#answer-foot")).to_be_visible()


def doc_row(page: Page, name: str):
    return page.locator("#doc-list .doc").filter(has=page.locator(".doc-name", has_text=name))


def test_upload_ask_cite_rate_search_and_delete(page: Page, tmp_path: Path):
    upload = tmp_path / "harbour-rules.md"
    upload.write_text(HARBOUR)
    page.locator("#file-input").set_input_files(str(upload))
    expect(page.locator("#uploads")).to_contain_text("harbour-rules.md is indexed")
    expect(doc_row(page, "harbour-rules.md").locator(".badge")).to_have_text("indexed")

    ask(page, "When does the harbour master open the swing bridge?")
    answer = page.locator("#answer-body")
    expect(answer).to_contain_text("half past seven")
    marker = answer.locator("button.cite").first
    expect(marker).to_be_visible()
    marker.click()
    expect(marker).to_have_attribute("aria-expanded", "true")
    source = page.locator(".source.open")
    expect(source.locator(".source-quote")).to_contain_text("swing bridge")
    expect(source).to_contain_text("harbour-rules.md")

    page.get_by_role("button", name="Helpful", exact=True).click()
    expect(page.locator("#feedback-thanks")).to_contain_text("Thanks for your feedback")

    switch_to(page, "Search")
    page.get_by_label("Search the documents").fill("berth")
    page.get_by_role("button", name="Search", exact=True).click()
    hits = page.locator("#hit-list .hit")
    expect(hits.first).to_contain_text("harbour-rules.md")
    expect(hits.first.locator("mark").first).to_have_text("berth", ignore_case=True)

    doc_row(page, "harbour-rules.md").get_by_role("button", name="Delete harbour-rules.md").click()
    page.locator("#confirm-delete").get_by_role("button", name="Delete").click()
    expect(doc_row(page, "harbour-rules.md")).to_have_count(0)


def test_an_answer_opens_its_citation(page: Page):
    ask(page, "How long does it take to fill a narrow lock?")
    expect(page.locator("#answer-body button.cite").first).to_be_visible()
    page.locator("#answer-body button.cite").first.click()
    expect(page.locator(".source.open .source-quote")).to_be_visible()
    page.mouse.move(0, 0)
    snap(page, "answer.png")


def test_search_lists_passages_with_highlights(page: Page):
    switch_to(page, "Search")
    page.get_by_label("Search the documents").fill("radial gates")
    page.get_by_label("Search the documents").press("Enter")
    expect(page.locator("#hit-list .hit").first).to_be_visible()
    expect(page.locator("#hit-list mark").first).to_be_visible()
    snap(page, "search.png")


def test_documents_panel_shows_why_a_document_failed(page: Page):
    failed = doc_row(page, "scanned-invoice.pdf")
    expect(failed.locator(".badge")).to_have_text("failed")
    expect(failed.locator(".doc-reason")).to_contain_text("no text layer")
    expect(doc_row(page, "river-glossary.md").locator(".badge")).to_have_text("indexed")
    page.set_viewport_size({"width": DESKTOP["width"], "height": 1400})
    snap(page.locator(".docs-card"), "documents.png")


def test_a_question_the_documents_do_not_answer_is_not_an_error(page: Page):
    ask(page, "What is the capital of Mongolia?")
    expect(page.locator(".no-answer")).to_contain_text("do not answer")
    expect(page.locator("#query-error")).to_be_hidden()
    expect(page.locator("#sources")).to_be_hidden()


def test_an_upload_the_api_refuses_shows_its_message(page: Page, tmp_path: Path):
    bad = tmp_path / "tool.exe"
    bad.write_bytes(b"MZ\x00\x00")
    page.locator("#file-input").set_input_files(str(bad))
    expect(page.locator("#uploads .upload.failed")).to_contain_text("Sluice cannot read tool.exe")


def test_keyboard_only_asking(page: Page):
    page.locator("#query").focus()
    page.keyboard.type("Which lock was rebuilt in 1911?")
    page.keyboard.press("Enter")
    expect(page.locator("#answer-body")).to_contain_text("Chapel Lock")
    page.locator("#answer-body button.cite").first.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".source.open")).to_have_count(1)


def test_phone_width_does_not_overflow(browser: Browser, server: str):
    context = browser.new_context(viewport=PHONE, base_url=server, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, color_scheme="light")
    context.set_default_timeout(UI_TIMEOUT_MS)
    pg = context.new_page()
    try:
        pg.goto("/")
        expect(pg.locator("#doc-list .doc").first).to_be_visible()
        ask(pg, "What should the lock keeper do if the summit pound is low?")
        pg.locator("#answer-body button.cite").first.click()
        expect(pg.locator(".source.open")).to_have_count(1)
        width = pg.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page is {width}px wide at {PHONE['width']}px"
        wide = pg.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && e.offsetParent !== null)
                .map(e => e.tagName + '.' + e.className)"""
        )
        assert wide == [], f"elements overflow the phone's width: {wide[:5]}"
        pg.evaluate("() => window.scrollTo(0, 0)")
        snap(pg, "phone.png", full_page=True, clip={"x": 0, "y": 0, "width": PHONE["width"], "height": 1180})
    finally:
        context.close()
