// Sluice web page: ask (streamed answers with citations), search, and manage documents.
// Plain ES module, no dependencies; every call goes to the same origin's /v1 API.

const $ = (selector, root = document) => root.querySelector(selector);

const el = {
  form: $("#query-form"),
  query: $("#query"),
  queryLabel: $("#query-label"),
  submit: $("#submit"),
  submitText: $("#submit .submit-text"),
  searchOptions: $("#search-options"),
  searchMode: $("#search-mode"),
  queryError: $("#query-error"),
  welcome: $("#welcome"),
  answer: $("#answer"),
  answerQuestion: $("#answer-question"),
  answerBody: $("#answer-body"),
  sources: $("#sources"),
  sourceList: $("#source-list"),
  answerFoot: $("#answer-foot"),
  answerMeta: $("#answer-meta"),
  feedbackButtons: [...document.querySelectorAll("#feedback [data-rating]")],
  feedbackComment: $("#feedback-comment"),
  feedbackText: $("#feedback-text"),
  feedbackThanks: $("#feedback-thanks"),
  feedbackLabel: $("#feedback-label"),
  results: $("#results"),
  resultsMeta: $("#results-meta"),
  hitList: $("#hit-list"),
  readiness: $("#readiness"),
  docsSummary: $("#docs-summary"),
  dropzone: $("#dropzone"),
  fileInput: $("#file-input"),
  chooseFiles: $("#choose-files"),
  uploads: $("#uploads"),
  docsError: $("#docs-error"),
  docList: $("#doc-list"),
  docsEmpty: $("#docs-empty"),
  toggleDeleted: $("#toggle-deleted"),
  deletedList: $("#deleted-list"),
  confirm: $("#confirm-delete"),
  confirmText: $("#confirm-text"),
  docRow: $("#doc-row"),
};

const state = {
  mode: "ask",
  inflight: null,
  answerId: null,
  docsSignature: "",
  showDeleted: false,
};

const REFRESH_MS = 5000;

// ---------------------------------------------------------------- API

class ApiError extends Error {
  constructor(code, message, details = {}, status = 0) {
    super(message);
    this.code = code;
    this.details = details;
    this.status = status;
  }
}

async function api(path, options = {}) {
  let response;
  try {
    response = await fetch(path, options);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError("unreachable", "Cannot reach the Sluice server. Check that it is still running, then try again.");
  }
  if (!response.ok) throw await errorOf(response);
  return response;
}

async function apiJson(path, options = {}) {
  return (await api(path, options)).json();
}

function postJson(path, body, signal) {
  return { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), signal };
}

async function errorOf(response) {
  try {
    const body = await response.json();
    if (body && body.error) return new ApiError(body.error.code, body.error.message, body.error.details, response.status);
  } catch {
    // not JSON: fall through to a generic message
  }
  return new ApiError("http_" + response.status, `The server answered ${response.status} ${response.statusText}.`, {}, response.status);
}

function showError(box, err) {
  box.replaceChildren(document.createTextNode(sentence(err.message || String(err))));
  if (err.code) {
    const code = document.createElement("span");
    code.className = "code";
    code.textContent = err.code;
    box.append(code);
  }
  box.hidden = false;
}

function sentence(text) {
  const trimmed = text.trim();
  if (!trimmed) return trimmed;
  const first = trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(first) ? first : first + ".";
}

// ---------------------------------------------------------------- readiness

async function checkReady() {
  const text = $(".readiness-text", el.readiness);
  try {
    const body = await apiJson("/readyz");
    el.readiness.className = "readiness ready";
    text.textContent = `Ready · ${body.chunks.toLocaleString()} passage${body.chunks === 1 ? "" : "s"}`;
  } catch (err) {
    el.readiness.className = "readiness down";
    text.textContent = err.code === "not_ready" ? "Starting up…" : "Offline";
    el.readiness.title = err.message;
  }
}

// ---------------------------------------------------------------- ask / search form

function setMode(mode) {
  state.mode = mode;
  const asking = mode === "ask";
  el.queryLabel.textContent = asking ? "Your question" : "Search the documents";
  el.query.placeholder = asking ? "e.g. How long does it take to fill a lock?" : "e.g. radial gates";
  el.submitText.textContent = asking ? "Ask" : "Search";
  el.searchOptions.hidden = asking;
}

function onSubmit(event) {
  event.preventDefault();
  const text = el.query.value.trim();
  el.queryError.hidden = true;
  if (!text) {
    showError(el.queryError, new ApiError("", state.mode === "ask" ? "Type a question first" : "Type something to search for"));
    el.query.focus();
    return;
  }
  el.welcome.hidden = true;
  if (state.inflight) state.inflight.abort();
  state.inflight = new AbortController();
  const run = state.mode === "ask" ? ask(text, state.inflight.signal) : search(text, el.searchMode.value, state.inflight.signal);
  setBusy(true);
  run.catch((err) => {
    if (err.name !== "AbortError") showError(el.queryError, err);
  }).finally(() => setBusy(false));
}

function setBusy(busy) {
  el.submit.disabled = busy;
  el.submit.setAttribute("aria-busy", String(busy));
  if (busy) el.submitText.textContent = state.mode === "ask" ? "Asking…" : "Searching…";
  else setMode(state.mode);
}

// ---------------------------------------------------------------- answers

async function ask(question, signal) {
  el.results.hidden = true;
  resetAnswer(question);
  let finished = false;
  try {
    const response = await api("/v1/answer/stream", postJson("/v1/answer/stream", { question }, signal));
    let started = false;
    for await (const { event, data } of readEvents(response, signal)) {
      if (event === "token") {
        if (!started) el.answerBody.replaceChildren();
        started = true;
        el.answerBody.append(document.createTextNode(data.text));
      } else if (event === "done") {
        finished = true;
        renderAnswer(data);
      } else if (event === "error") {
        throw new ApiError(data.error.code, data.error.message, data.error.details);
      }
    }
    if (!finished) throw new ApiError("incomplete", "The answer stopped before it was finished; ask again");
  } catch (err) {
    if (err.name !== "AbortError") el.answer.hidden = true;
    throw err;
  } finally {
    el.answerBody.setAttribute("aria-busy", "false");
  }
}

// Server-sent events over fetch: yields {event, data} for each complete event in the stream.
async function* readEvents(response, signal) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let boundary;
      while ((boundary = buffer.search(/\r?\n\r?\n/)) !== -1) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary).replace(/^\r?\n\r?\n/, "");
        const parsed = parseEvent(block);
        if (parsed) yield parsed;
      }
    }
  } finally {
    if (signal.aborted) reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

function parseEvent(block) {
  let event = "message";
  const data = [];
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  if (!data.length) return null;
  return { event, data: JSON.parse(data.join("\n")) };
}

function resetAnswer(question) {
  el.answer.hidden = false;
  el.answerQuestion.textContent = question;
  const thinking = document.createElement("span");
  thinking.className = "thinking";
  thinking.textContent = "Reading your documents…";
  el.answerBody.replaceChildren(thinking);
  el.answerBody.setAttribute("aria-busy", "true");
  el.sources.hidden = true;
  el.sourceList.replaceChildren();
  el.answerFoot.hidden = true;
  state.answerId = null;
  resetFeedback();
}

function renderAnswer(data) {
  state.answerId = data.answer_id;
  if (!data.answered) {
    el.answerBody.replaceChildren(noAnswer(data.answer));
  } else {
    el.answerBody.replaceChildren(...answerWithMarkers(data.answer, data.citations));
    el.sourceList.replaceChildren(...data.citations.map(sourceItem));
    el.sources.hidden = data.citations.length === 0;
  }
  const total = data.timings_ms && data.timings_ms.total;
  const by = !data.answered ? "" : data.model === "extractive" ? "Quoted from your documents" : data.model && `Written by ${data.model}`;
  el.answerMeta.textContent = [by, total && formatMs(total)].filter(Boolean).join(" · ");
  el.answerFoot.hidden = false;
}

function noAnswer(text) {
  const box = document.createElement("div");
  box.className = "no-answer";
  box.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><circle cx="12" cy="12" r="9"/><path d="M12 11v5M12 7.5v.5"/></svg>';
  const words = document.createElement("div");
  const strong = document.createElement("strong");
  strong.textContent = text || "The documents do not answer this question.";
  const hint = document.createElement("p");
  hint.textContent = "Nothing in them says this, so Sluice will not guess. Try other words, search for the passages, or upload a document that covers it.";
  words.append(strong, hint);
  box.append(words);
  return box;
}

function answerWithMarkers(text, citations) {
  const known = new Set(citations.map((c) => c.marker));
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(/\[(\d+)\]/g)) {
    const marker = Number(match[1]);
    if (!known.has(marker)) continue;
    nodes.push(document.createTextNode(text.slice(last, match.index)));
    nodes.push(citeButton(marker, citations.find((c) => c.marker === marker)));
    last = match.index + match[0].length;
  }
  nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

function citeButton(marker, citation) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "cite";
  button.textContent = String(marker);
  button.dataset.marker = String(marker);
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", `source-${marker}`);
  button.setAttribute("aria-label", `Source ${marker}: ${fileName(citation.source)}${citation.page ? `, page ${citation.page}` : ""}`);
  button.addEventListener("click", () => toggleSource(marker, { scroll: true }));
  return button;
}

function sourceItem(citation) {
  const item = document.createElement("li");
  item.className = "source";
  item.id = `source-${citation.marker}`;
  item.dataset.marker = String(citation.marker);

  const toggle = document.createElement("button");
  toggle.type = "button";
  toggle.className = "source-toggle";
  toggle.setAttribute("aria-expanded", "false");
  toggle.setAttribute("aria-controls", `quote-${citation.marker}`);
  toggle.append(
    span("source-num", String(citation.marker)),
    span("source-name", citation.title || fileName(citation.source)),
    span("source-where", [fileName(citation.source), citation.page ? `page ${citation.page}` : ""].filter(Boolean).join(" · ")),
  );
  toggle.title = citation.source;
  const chevron = span("chevron", "");
  chevron.setAttribute("aria-hidden", "true");
  toggle.append(chevron);
  toggle.addEventListener("click", () => toggleSource(citation.marker));

  const panel = document.createElement("div");
  panel.id = `quote-${citation.marker}`;
  panel.hidden = true;
  const quote = document.createElement("blockquote");
  quote.className = "source-quote";
  quote.textContent = citation.quote;
  panel.append(quote);

  item.append(toggle, panel);
  return item;
}

function toggleSource(marker, { scroll = false } = {}) {
  const item = document.getElementById(`source-${marker}`);
  if (!item) return;
  const open = !item.classList.contains("open");
  item.classList.toggle("open", open);
  $(".source-toggle", item).setAttribute("aria-expanded", String(open));
  $(`#quote-${marker}`).hidden = !open;
  for (const button of el.answerBody.querySelectorAll(`.cite[data-marker="${marker}"]`)) {
    button.setAttribute("aria-expanded", String(open));
  }
  if (open && scroll) item.scrollIntoView({ block: "nearest", behavior: matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth" });
}

// ---------------------------------------------------------------- feedback

function resetFeedback() {
  for (const button of el.feedbackButtons) {
    button.setAttribute("aria-pressed", "false");
    button.disabled = false;
  }
  el.feedbackButtons[0].parentElement.hidden = false;
  el.feedbackLabel.hidden = false;
  el.feedbackComment.hidden = true;
  el.feedbackText.value = "";
  el.feedbackThanks.hidden = true;
  el.feedbackThanks.className = "feedback-thanks";
}

function onRate(event) {
  const rating = event.currentTarget.dataset.rating;
  for (const button of el.feedbackButtons) button.setAttribute("aria-pressed", String(button.dataset.rating === rating));
  if (rating === "down") {
    el.feedbackComment.hidden = false;
    el.feedbackText.focus();
    return;
  }
  el.feedbackComment.hidden = true;
  sendFeedback("up", "");
}

async function sendFeedback(rating, comment) {
  const answerId = state.answerId;
  if (!answerId) return;
  for (const button of el.feedbackButtons) button.disabled = true;
  try {
    await apiJson("/v1/feedback", postJson("/v1/feedback", { answer_id: answerId, rating, comment: comment || null }));
    if (answerId !== state.answerId) return;
    el.feedbackButtons[0].parentElement.hidden = true;
    el.feedbackLabel.hidden = true;
    el.feedbackComment.hidden = true;
    el.feedbackThanks.textContent = rating === "up" ? "Thanks for your feedback — glad it helped." : "Thanks for your feedback — it helps make the answers better.";
    el.feedbackThanks.hidden = false;
  } catch (err) {
    for (const button of el.feedbackButtons) button.disabled = false;
    el.feedbackThanks.className = "feedback-thanks alert error";
    el.feedbackThanks.textContent = sentence(err.message);
    el.feedbackThanks.hidden = false;
  }
}

// ---------------------------------------------------------------- search

async function search(query, mode, signal) {
  el.answer.hidden = true;
  const started = performance.now();
  const body = await apiJson("/v1/search", postJson("/v1/search", { query, mode, k: 10 }, signal));
  const elapsed = (body.timings_ms && body.timings_ms.total) || performance.now() - started;
  el.hitList.replaceChildren(...body.hits.map(hitItem));
  if (!body.hits.length) {
    const empty = document.createElement("li");
    empty.className = "empty";
    empty.textContent = "No passage matches. Try other words, or switch to Words and meaning.";
    el.hitList.append(empty);
  }
  el.resultsMeta.textContent = `${body.hits.length} passage${body.hits.length === 1 ? "" : "s"} · ${formatMs(elapsed)}`;
  el.results.hidden = false;
}

function hitItem(hit) {
  const item = document.createElement("li");
  item.className = "hit";
  const head = document.createElement("div");
  head.className = "hit-head";
  const title = document.createElement("h3");
  title.className = "hit-title";
  title.textContent = hit.title || fileName(hit.source);
  const where = span("hit-where", [fileName(hit.source), pageLabel(hit.page, hit.page_end), section(hit)].filter(Boolean).join(" · "));
  where.title = hit.source;
  const score = span("score", `score ${formatScore(hit.score)}`);
  score.title = "Relevance score (higher is closer)";
  head.append(title, score, where);

  const text = document.createElement("p");
  text.className = "hit-text";
  text.append(...highlighted(hit.text.replace(/\n\s*\n/g, "\n"), hit.highlights || []));
  item.append(head, text);
  if (hit.text.length > 700) {
    text.classList.add("clamped");
    const more = document.createElement("button");
    more.type = "button";
    more.className = "button ghost small";
    more.textContent = "Show the whole passage";
    more.setAttribute("aria-expanded", "false");
    more.addEventListener("click", () => {
      const clamped = text.classList.toggle("clamped");
      more.textContent = clamped ? "Show the whole passage" : "Show less";
      more.setAttribute("aria-expanded", String(!clamped));
    });
    item.append(more);
  }
  return item;
}

// The passage's section, without the document title that starts most heading paths.
function section(hit) {
  const path = (hit.heading_path || []).filter((h, n) => !(n === 0 && h === hit.title));
  return path.join(" › ");
}

function highlighted(text, terms) {
  const words = terms.filter((t) => t && t.trim()).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  if (!words.length) return [document.createTextNode(text)];
  words.sort((a, b) => b.length - a.length);
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}])(${words.join("|")})(?![\\p{L}\\p{N}])`, "giu");
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    nodes.push(document.createTextNode(text.slice(last, match.index)));
    const mark = document.createElement("mark");
    mark.textContent = match[0];
    nodes.push(mark);
    last = match.index + match[0].length;
  }
  nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

// ---------------------------------------------------------------- documents

async function loadDocuments({ force = false } = {}) {
  let documents = [];
  try {
    let cursor = null;
    for (let page = 0; page < 20; page++) {
      const query = new URLSearchParams({ limit: "500" });
      if (cursor) query.set("cursor", cursor);
      const body = await apiJson(`/v1/documents?${query}`);
      documents = documents.concat(body.documents);
      cursor = body.next;
      if (!cursor) break;
    }
  } catch (err) {
    showError(el.docsError, err);
    return;
  }
  el.docsError.hidden = true;
  const signature = JSON.stringify(documents.map((d) => [d.document, d.status, d.error, d.chunk_count, d.updated_at]));
  if (!force && signature === state.docsSignature) return;
  state.docsSignature = signature;
  renderDocuments(documents);
  checkReady();
}

const STATUS_ORDER = { pending: 0, failed: 1, indexed: 2, deleted: 3 };

function renderDocuments(documents) {
  const byName = (a, b) => (STATUS_ORDER[a.status] - STATUS_ORDER[b.status]) || fileName(a.source).localeCompare(fileName(b.source));
  const live = documents.filter((d) => d.status !== "deleted").sort(byName);
  const deleted = documents.filter((d) => d.status === "deleted").sort(byName);
  const focused = document.activeElement && document.activeElement.closest(".doc");
  const focusId = focused && focused.dataset.id;

  el.docList.replaceChildren(...live.map(docItem));
  el.deletedList.replaceChildren(...deleted.map(docItem));
  el.docsEmpty.hidden = live.length > 0;
  el.toggleDeleted.hidden = deleted.length === 0;
  el.deletedList.hidden = !state.showDeleted || deleted.length === 0;
  el.toggleDeleted.textContent = state.showDeleted ? "Hide deleted documents" : `Show deleted documents (${deleted.length})`;
  el.toggleDeleted.setAttribute("aria-expanded", String(state.showDeleted));

  const counts = {};
  for (const d of live) counts[d.status] = (counts[d.status] || 0) + 1;
  el.docsSummary.textContent = ["indexed", "pending", "failed"].filter((s) => counts[s]).map((s) => `${counts[s]} ${s}`).join(" · ");

  if (focusId) {
    const again = el.docList.querySelector(`.doc[data-id="${CSS.escape(focusId)}"] .doc-delete`);
    if (again) again.focus();
  }
}

function docItem(doc) {
  const item = el.docRow.content.firstElementChild.cloneNode(true);
  const name = fileName(doc.source);
  item.dataset.id = doc.document;
  $(".doc-name", item).textContent = name;
  $(".doc-name", item).title = doc.source;
  const badge = $(".badge", item);
  badge.textContent = doc.status;
  badge.classList.add(doc.status);
  $(".doc-detail", item).textContent = docDetail(doc);
  if (doc.updated_at) $(".doc-meta", item).title = `Updated ${timeAgo(doc.updated_at)}`;
  $(".doc-reason", item).textContent = doc.status === "failed" ? sentence(doc.error || "It could not be read") : "";
  const remove = $(".doc-delete", item);
  if (doc.status === "deleted") {
    remove.remove();
  } else {
    remove.setAttribute("aria-label", `Delete ${name}`);
    remove.title = `Delete ${name}`;
    remove.addEventListener("click", () => confirmDelete(doc));
  }
  return item;
}

function docDetail(doc) {
  const parts = [];
  if (doc.status === "indexed") parts.push(`${doc.chunk_count} passage${doc.chunk_count === 1 ? "" : "s"}`);
  if (doc.size) parts.push(formatBytes(doc.size));
  return parts.join(" · ");
}

function confirmDelete(doc) {
  const name = fileName(doc.source);
  el.confirmText.textContent = `“${name}” will no longer be used in answers or search. A file uploaded here is removed; a file in a watched folder stays on disk.`;
  el.confirm.returnValue = "";
  el.confirm.onclose = async () => {
    if (el.confirm.returnValue !== "delete") return;
    try {
      await apiJson(`/v1/documents/${encodeURIComponent(doc.document)}`, { method: "DELETE" });
      el.docsError.hidden = true;
    } catch (err) {
      showError(el.docsError, err);
    }
    await loadDocuments({ force: true });
    el.chooseFiles.focus();
  };
  el.confirm.showModal();
}

async function uploadFiles(files) {
  for (const file of files) {
    const row = document.createElement("li");
    row.className = "upload";
    row.textContent = `Uploading ${file.name}…`;
    el.uploads.prepend(row);
    const form = new FormData();
    form.append("file", file, file.name);
    try {
      let body = await apiJson("/v1/documents", { method: "POST", body: form });
      if (body.status === "pending") {
        // Stored; its storage event ingests it (202 on AWS). Follow the status URL for a while.
        row.textContent = `${file.name} is stored and being indexed…`;
        body = await settled(body);
      }
      if (body.status === "pending") {
        row.className = "upload";
        row.textContent = `${file.name} is stored and still being indexed; it appears in the list when ready.`;
      } else if (body.status === "indexed") {
        row.className = "upload ok";
        row.textContent = `${file.name} is indexed and ready for questions.`;
      } else {
        row.className = "upload failed";
        row.textContent = `${file.name} could not be read: ${sentence(body.reason || body.status)}`;
      }
    } catch (err) {
      row.className = "upload failed";
      row.textContent = `${file.name}: ${sentence(err.message)}`;
    }
    await loadDocuments();
  }
  while (el.uploads.children.length > 4) el.uploads.lastElementChild.remove();
}

async function settled(upload, tries = 30) {
  let doc = upload;
  for (let n = 0; n < tries && doc.status === "pending"; n += 1) {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    doc = await apiJson(`/v1/documents/${encodeURIComponent(upload.document)}`);
  }
  return { ...doc, reason: doc.error || doc.reason };
}

function wireDropzone() {
  const zone = el.dropzone;
  el.chooseFiles.addEventListener("click", () => el.fileInput.click());
  el.fileInput.addEventListener("change", () => {
    const files = [...el.fileInput.files];
    el.fileInput.value = "";
    if (files.length) uploadFiles(files);
  });
  let depth = 0;
  zone.addEventListener("dragenter", (e) => { e.preventDefault(); depth++; zone.classList.add("over"); });
  zone.addEventListener("dragover", (e) => { e.preventDefault(); e.dataTransfer.dropEffect = "copy"; });
  zone.addEventListener("dragleave", () => { if (--depth <= 0) { depth = 0; zone.classList.remove("over"); } });
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    depth = 0;
    zone.classList.remove("over");
    const files = [...(e.dataTransfer.files || [])];
    if (files.length) uploadFiles(files);
  });
  // A file dropped beside the zone must not make the browser leave the page to open it.
  for (const type of ["dragover", "drop"]) window.addEventListener(type, (e) => e.preventDefault());
}

// ---------------------------------------------------------------- formatting

function span(className, text) {
  const s = document.createElement("span");
  s.className = className;
  s.textContent = text;
  return s;
}

function fileName(source) {
  return String(source || "").split(/[\\/]/).pop() || source;
}

function pageLabel(page, end) {
  if (!page) return "";
  return end && end !== page ? `pages ${page}–${end}` : `page ${page}`;
}

function formatScore(score) {
  return Math.abs(score) >= 1 ? score.toFixed(2) : score.toPrecision(3);
}

function formatMs(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.max(1, Math.round(ms))} ms`;
}

function formatBytes(n) {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} KB`;
  return `${n} bytes`;
}

function timeAgo(seconds) {
  const delta = Date.now() / 1000 - seconds;
  if (delta < 60) return "just now";
  if (delta < 3600) return `${Math.floor(delta / 60)} min ago`;
  if (delta < 86400) return `${Math.floor(delta / 3600)} h ago`;
  return new Date(seconds * 1000).toLocaleDateString();
}

// The question box grows with its text, up to the CSS max-height.
function fitQuery() {
  el.query.style.height = "auto";
  el.query.style.height = `${el.query.scrollHeight + 2}px`;
}

// ---------------------------------------------------------------- start

function start() {
  for (const radio of document.querySelectorAll('input[name="mode"]')) {
    radio.addEventListener("change", () => { setMode(radio.value); el.query.focus(); });
  }
  el.form.addEventListener("submit", onSubmit);
  el.query.addEventListener("input", fitQuery);
  let width = 0;
  new ResizeObserver(([entry]) => {
    if (entry.contentRect.width !== width) {
      width = entry.contentRect.width;
      fitQuery();
    }
  }).observe(el.query);
  el.query.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      el.form.requestSubmit();
    }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "/" && !/^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName) && !el.confirm.open) {
      e.preventDefault();
      el.query.focus();
    }
  });
  for (const button of el.feedbackButtons) button.addEventListener("click", onRate);
  el.feedbackComment.addEventListener("submit", (e) => {
    e.preventDefault();
    sendFeedback("down", el.feedbackText.value.trim());
  });
  el.toggleDeleted.addEventListener("click", () => {
    state.showDeleted = !state.showDeleted;
    loadDocuments({ force: true });
  });
  wireDropzone();
  setMode($('input[name="mode"]:checked').value);
  checkReady();
  loadDocuments();
  setInterval(() => { if (!document.hidden) loadDocuments(); }, REFRESH_MS);
  el.query.focus();
}

start();
