// The adjudication page: one disputed item at a time, every answer and who gave it, the final
// label on a key and a reason. Each decision carries a client_id kept until the server has it,
// so a retry after a network error stores it once.
(() => {
  "use strict";
  const cfg = JSON.parse(document.getElementById("adjudicate-config").textContent);
  const { uuid, call, banner, clearBanner, errorText, pollJob, renderItem } = window.labelapp;
  const $ = (id) => document.getElementById(id);
  const byHotkey = new Map(cfg.labels.map((l) => [l.hotkey.toLowerCase(), l]));
  const known = new Set(cfg.labels.map((l) => l.name));

  let queue = [];          // backlog entries not yet shown
  let current = null;      // the entry on screen
  let total = 0;           // open items in the backlog (server count, minus what we decided)
  let selected = new Set();
  let clientId = null;     // of the decision being sent for the current item
  let busy = false;
  let decided = 0;
  const later = new Set(); // items put off in this visit: shown again only when nothing else is left
  const history = [];

  const pct = (x) => (x == null ? "–" : `${Math.round(100 * x)}%`);

  // --- the backlog ------------------------------------------------------------------------
  async function loadBacklog() {
    const sep = cfg.urls.backlog.includes("?") ? "&" : "?";
    let res;
    try {
      res = await call(`${cfg.urls.backlog}${sep}limit=100`, undefined, "GET");
    } catch (err) {
      banner("Cannot reach the server; reload the page to try again.", "warn", true);
      return;
    }
    if (res.status === 202) { // no agreement report yet: a job computes it, then the backlog is read again
      banner("The backlog is being computed from the answers…", "info", true);
      try { await pollJob(res.data.url, () => {}, 1000); } catch (err) { banner(String(err.message || err), "error", true); return; }
      clearBanner();
      await loadBacklog();
      return;
    }
    if (res.status !== 200) { banner(errorText(res.data, `Could not load the backlog (${res.status}).`), "error", true); return; }
    total = res.data.total;
    const fresh = res.data.entries.filter((e) => !later.has(e.item_id));
    const putOff = res.data.entries.filter((e) => later.has(e.item_id));
    queue = fresh.length ? fresh : putOff;
    if (!fresh.length) later.clear();
    showNext();
  }

  function showNext() {
    current = queue.shift() || null;
    $("left").textContent = total.toLocaleString();
    if (!current) { showDone(); return; }
    render(current);
  }

  function showDone() {
    for (const id of ["item-card", "evidence", "labels", "decision"]) $(id).hidden = true;
    $("done").hidden = false;
  }

  function render(entry) {
    selected = new Set();
    clientId = null;
    $("done").hidden = true;
    for (const id of ["item-card", "evidence", "labels", "decision"]) $(id).hidden = false;
    $("item-card").setAttribute("aria-busy", "false");
    const item = entry.item;
    $("item-ref").textContent = `Item ${item.external_id}`;
    $("item-reason").textContent = {
      disagreement: "annotators disagree",
      low_confidence: "low Dawid-Skene confidence",
      ambiguous: "answered ambiguous",
    }[entry.reason] || entry.reason;
    $("item-position").textContent = `${total.toLocaleString()} in the backlog`;
    renderItem(item, { body: $("item-body"), meta: $("item-meta") }); // page.js, as on the labeling page
    const list = $("answers");
    list.replaceChildren();
    for (const a of entry.answers) {
      const li = document.createElement("li");
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = a.annotator;
      const chip = document.createElement("span");
      chip.className = "chip";
      chip.textContent = a.labels.join(", ");
      const when = document.createElement("span");
      when.className = "muted small";
      when.textContent = new Date(a.created_at).toLocaleString([], { dateStyle: "short", timeStyle: "short" });
      li.append(who, chip, when);
      list.append(li);
    }
    const s = $("suggestion");
    s.replaceChildren();
    if (entry.suggestion) {
      const by = entry.suggested_by || "Dawid-Skene";
      const how = by === "Dawid-Skene"
        ? `${pct(entry.confidence)} sure, weighing each annotator by their estimated reliability`
        : "the aggregation method picked for this project's answers";
      s.append(
        `${by} suggests `,
        Object.assign(document.createElement("strong"), { textContent: entry.suggestion }),
        ` (${how}); majority vote: ${entry.majority} (${pct(entry.majority_share)} of answers). Press `,
        Object.assign(document.createElement("kbd"), { textContent: "a" }),
        " to take the suggestion.",
      );
    } else {
      s.textContent = "No suggestion: no annotator gave a label other than ambiguous.";
    }
    $("reason").value = "";
    $("reason").blur(); // the label keys work again on the new item
    paint();
  }

  function paint() {
    for (const btn of document.querySelectorAll(".label-button")) {
      const on = selected.has(btn.dataset.label);
      btn.classList.toggle("selected", on);
      btn.setAttribute("aria-pressed", on ? "true" : "false");
    }
    $("submit").disabled = !ready();
  }

  function ready() { return current && selected.size > 0 && $("reason").value.trim().length > 0; }

  function choose(name) {
    if (!current || busy || !known.has(name)) return;
    if (cfg.multiLabel) {
      if (selected.has(name)) selected.delete(name); else selected.add(name);
    } else {
      selected = new Set([name]);
    }
    clientId = null;
    paint();
    $("reason").focus();
  }

  // --- recording a decision -------------------------------------------------------------
  async function submit() {
    if (busy) return;
    if (!current) return;
    if (!selected.size) { banner("Choose the final label first (its key or a click)."); return; }
    if (!$("reason").value.trim()) { banner("Write a reason: it is kept with the decision."); $("reason").focus(); return; }
    busy = true;
    const entry = current;
    const labels = cfg.labels.map((l) => l.name).filter((n) => selected.has(n));
    clientId = clientId || uuid();
    $("saving").textContent = "Saving…";
    try {
      const res = await call(`${cfg.urls.item}${entry.item_id}/adjudication`, {
        labels, reason: $("reason").value.trim(), client_id: clientId,
      });
      if (res.status === 200 || res.status === 201) {
        decided += 1;
        total = Math.max(0, total - 1);
        $("done-count").textContent = decided;
        $("saving").textContent = "Saved";
        addHistory(entry, labels);
        if (queue.length) showNext(); else await loadBacklog();
      } else {
        $("saving").textContent = "";
        banner(errorText(res.data, `The server refused this decision (${res.status}).`), "error", true);
      }
    } catch (err) {
      $("saving").textContent = "";
      banner("Cannot reach the server; your decision is still on screen. Press Enter to try again.", "warn", true);
    } finally {
      busy = false;
      paint();
    }
  }

  function putOff() {
    if (!current || busy) return;
    later.add(current.item_id);
    queue.push(current);
    if (queue.length === 1 && queue[0] === current) { banner("This is the only item left."); return; }
    showNext();
  }

  function addHistory(entry, labels) {
    history.unshift({ ref: entry.item.external_id, labels });
    const list = $("history");
    list.replaceChildren();
    for (const h of history.slice(0, 12)) {
      const li = document.createElement("li");
      const tag = document.createElement("span");
      tag.className = "chip";
      tag.textContent = h.labels.join(", ");
      li.append(tag, ` item ${h.ref}`);
      list.append(li);
    }
  }

  // --- keyboard and clicks --------------------------------------------------------------
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const inReason = e.target === $("reason");
    if (inReason) {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); submit(); }
      else if (e.key === "Escape") { e.preventDefault(); $("reason").blur(); }
      return;
    }
    const tag = (e.target && e.target.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    const label = byHotkey.get(key);
    if (label) { e.preventDefault(); choose(label.name); return; }
    if (key === "a" && current && current.suggestion) { e.preventDefault(); selected = new Set(); choose(current.suggestion); return; }
    if (key === "Enter") { e.preventDefault(); if (ready()) submit(); else $("reason").focus(); return; }
    if (key === "n" || key === "ArrowRight") { e.preventDefault(); putOff(); }
  });
  for (const btn of document.querySelectorAll(".label-button")) {
    btn.addEventListener("click", () => choose(btn.dataset.label));
  }
  $("reason").addEventListener("input", paint);
  $("decision").addEventListener("submit", (e) => { e.preventDefault(); submit(); });
  $("next").addEventListener("click", putOff);

  loadBacklog();
})();
