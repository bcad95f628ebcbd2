// The labeling page: next item without reloads, every action on a key, no answer ever lost.
// Answers go to an outbox in localStorage first and leave it only when the server has them, so a
// closed tab, a network cut or a server restart loses nothing; each carries a client_id, so a
// retry stores it once.
(() => {
  "use strict";
  const cfg = JSON.parse(document.getElementById("label-config").textContent);
  const { uuid, call, banner, clearBanner, errorText } = window.labelapp;
  const OUTBOX_KEY = `labelapp.outbox.${cfg.user}.${cfg.projectId}`;
  const $ = (id) => document.getElementById(id);
  const byHotkey = new Map(cfg.labels.map((l) => [l.hotkey.toLowerCase(), l]));

  let current = null; // the claim on screen: {item, lease_expires_at, queued_by}
  let shownAt = 0;
  let selected = new Set();
  let busy = false;
  let editing = null; // an earlier answer reopened for a change: {item, annotation}
  const viewer = window.labelapp.imageViewer($("image-tools"));
  const answers = window.labelapp.answersPanel(cfg, reopen);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  // --- outbox -----------------------------------------------------------------------------
  function loadOutbox() {
    try { return JSON.parse(localStorage.getItem(OUTBOX_KEY) || "[]"); } catch { return []; }
  }
  function saveOutbox(box) { localStorage.setItem(OUTBOX_KEY, JSON.stringify(box)); }

  function setSaving() {
    const n = loadOutbox().length;
    $("saving").textContent = n ? `${n} answer${n > 1 ? "s" : ""} waiting to be saved…` : "All answers saved";
    $("saving").classList.toggle("pending", n > 0);
  }

  async function flushOutbox() {
    let wait = 500;
    for (;;) {
      const box = loadOutbox();
      if (!box.length) break;
      const entry = box[0];
      let res;
      try {
        res = await call(entry.url, entry.body);
      } catch (err) {
        setSaving();
        banner("Cannot reach the server. Your answers are kept on this device and will be sent when it is back.", "warn", true);
        await sleep(wait);
        wait = Math.min(wait * 2, 8000);
        continue;
      }
      const rest = loadOutbox().filter((e) => e.body.client_id !== entry.body.client_id);
      saveOutbox(rest);
      if (res.status === 200 || res.status === 201) {
        clearBanner();
        if (entry.change) banner(`Changed your answer on item ${entry.ref} to ${entry.kind === "skip" ? "a skip" : entry.body.labels.join(", ")}.`);
      } else if (res.status === 409) {
        banner(errorText(res.data, "This item went to someone else; your answer was not stored."), "warn", true);
      } else {
        banner(errorText(res.data, `The server refused this answer (${res.status}).`), "error", true);
      }
    }
    setSaving();
    answers.refreshRecent(loadOutbox());
  }

  // --- the item on screen -----------------------------------------------------------------
  function render(claim) {
    current = claim;
    editing = null;
    $("editing").hidden = true;
    const why = claim.queued_by || {};
    const whyText = why.strategy
      ? `${why.strategy}${why.score != null ? ` · score ${Number(why.score).toFixed(3)}` : ""}${why.model_run_id ? ` · model run #${why.model_run_id}` : ""}`
      : "queue order";
    showItem(claim.item, whyText, []);
    showLease(claim.lease_expires_at);
  }

  // The item card (text or the image viewer, and its metadata) and the label buttons.
  function showItem(item, whyText, chosen) {
    selected = new Set(cfg.multiLabel ? chosen : []);
    shownAt = performance.now();
    $("done").hidden = true;
    $("item-card").hidden = false;
    $("labels").hidden = false;
    document.querySelectorAll(".item-action").forEach((b) => { b.hidden = false; });
    $("item-card").setAttribute("aria-busy", "false");
    $("item-ref").textContent = `Item ${item.external_id}`;
    $("item-why").textContent = whyText;
    $("item-why").hidden = !whyText;
    window.labelapp.renderItem(item, { body: $("item-body"), meta: $("item-meta"), viewer });
    paintSelection(chosen);
  }

  // An earlier answer, reopened: the item on screen with the answer marked; a label (or s)
  // appends the changed answer, Esc goes back to the queue's item (still leased).
  function reopen(entry) {
    if (busy) return;
    editing = entry;
    const { item, annotation } = entry;
    const was = annotation.kind === "skip" ? [] : annotation.labels;
    showItem(item, "", was);
    $("item-lease").textContent = "";
    $("show-flag").hidden = true;
    $("editing").hidden = false;
    $("editing-ref").textContent = `item ${item.external_id}`;
    $("editing-was").textContent = annotation.kind === "skip" ? "skipped" : was.join(", ");
    window.scrollTo({ top: 0, behavior: "smooth" });
  }

  function stopEditing() {
    if (!editing) return;
    editing = null;
    $("editing").hidden = true;
    if (current) { render(current); } else { loadNext(); }
  }

  function showLease(iso) {
    if (!iso) { $("item-lease").textContent = ""; return; }
    const t = new Date(iso);
    $("item-lease").textContent = `held for you until ${t.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`;
  }

  let recheck = null;
  function showDone(heldByOthers = 0) {
    current = null;
    editing = null;
    viewer.hide();
    $("editing").hidden = true;
    $("item-card").hidden = true;
    $("labels").hidden = true;
    document.querySelectorAll(".item-action").forEach((b) => { b.hidden = true; });
    $("done").hidden = false;
    $("done-others").textContent = heldByOthers
      ? `${heldByOthers} item(s) you could still label are open on other screens; if their leases run out they come to you. Checking again every few seconds.`
      : "";
    clearTimeout(recheck);
    if (heldByOthers) recheck = setTimeout(() => { if (!current && !busy) loadNext(); }, 5000);
    refreshProgress();
  }

  function paintSelection(was = []) {
    for (const btn of document.querySelectorAll(".label-button")) {
      const on = selected.has(btn.dataset.label);
      btn.classList.toggle("selected", on);
      btn.classList.toggle("was", was.includes(btn.dataset.label));
      btn.setAttribute("aria-pressed", on ? "true" : "false");
    }
    const submit = $("submit");
    if (submit) submit.disabled = selected.size === 0;
  }

  async function loadNext() {
    let wait = 500;
    for (;;) {
      try {
        const res = await call(cfg.urls.next);
        if (res.status === 204) {
          showDone(Number(res.headers.get("X-Held-By-Others") || 0));
          return;
        }
        if (res.status === 200) { if (!editing) render(res.data); else current = res.data; return; }
        banner(errorText(res.data, `Could not get the next item (${res.status}).`), "error", true);
        return;
      } catch (err) {
        banner("Cannot reach the server; retrying…", "warn", true);
        await sleep(wait);
        wait = Math.min(wait * 2, 8000);
      }
    }
  }

  // --- answers ----------------------------------------------------------------------------
  async function answer(kind, labels) {
    if (busy || !(current || editing)) return;
    busy = true;
    try {
      const change = editing;
      const item = change ? change.item : current.item;
      const entry = {
        url: `${cfg.urls.item}${item.id}/${kind === "skip" ? "skip" : "annotations"}`,
        body: {
          labels,
          client_id: uuid(),
          duration_ms: Math.round(performance.now() - shownAt),
          guideline_version: cfg.guidelineVersion,
          ...(change ? { note: `changed from annotation ${change.annotation.id}` } : {}),
        },
        kind,
        change: Boolean(change),
        ref: item.external_id,
        preview: item.text ? item.text.slice(0, 60) : `image ${item.external_id}`,
      };
      saveOutbox([...loadOutbox(), entry]);
      flashChoice(labels);
      const stored = flushOutbox();
      if (change && current) {
        // Back to the queue's item at once: the change is in the outbox, sent in the background.
        editing = null;
        render(current);
        stored.then(() => refreshProgress());
        return; // not awaited: the next answer may start while the change is sent
      }
      editing = null;
      await stored;
      refreshProgress();
      await loadNext();
    } finally {
      busy = false;
    }
  }

  function flashChoice(labels) {
    for (const btn of document.querySelectorAll(".label-button")) {
      if (labels.includes(btn.dataset.label)) btn.classList.add("chosen");
    }
    setTimeout(() => document.querySelectorAll(".label-button.chosen").forEach((b) => b.classList.remove("chosen")), 180);
  }

  function chooseLabel(name) {
    if (!current && !editing) return;
    if (cfg.multiLabel) {
      const label = cfg.labels.find((l) => l.name === name);
      if (label && label.ambiguous) { selected = new Set([name]); }
      else {
        for (const l of cfg.labels) if (l.ambiguous) selected.delete(l.name);
        if (selected.has(name)) selected.delete(name); else selected.add(name);
      }
      paintSelection();
    } else {
      answer("label", [name]);
    }
  }

  function submitSelection() {
    if (!cfg.multiLabel || !selected.size) return;
    answer("label", cfg.labels.map((l) => l.name).filter((n) => selected.has(n)));
  }

  async function undo() {
    if (busy) return;
    busy = true;
    try {
      await flushOutbox();
      const res = await call(cfg.urls.undo, { client_id: uuid() });
      if (res.status === 204) { banner("Nothing to undo."); return; }
      if (res.status !== 200) { banner(errorText(res.data, "Undo failed."), "error"); return; }
      render(res.data);
      banner(`Undone: your answer on item ${res.data.item.external_id} is withdrawn. Answer it again.`);
      refreshProgress();
      answers.refreshRecent(loadOutbox());
    } catch (err) {
      banner("Cannot reach the server; undo did not happen.", "warn");
    } finally {
      busy = false;
    }
  }

  // --- progress ---------------------------------------------------------------------------
  // Read after every stored answer: the counts on screen are never an answer behind.
  // "You" counts are this annotator's; "The project" counts are every annotator's together.
  const fmt = (n) => Number(n).toLocaleString();
  let progressAsk = 0;
  async function refreshProgress() {
    const mine = ++progressAsk;
    let res;
    try { res = await call(cfg.urls.progress, undefined, "GET"); } catch (err) { return; }
    if (res.status !== 200 || mine !== progressAsk) return;
    const p = res.data;
    $("done-today").textContent = fmt(p.done_today);
    $("done-total").textContent = fmt(p.done_total);
    $("rate").textContent = p.rate_per_hour == null ? "–" : fmt(Math.round(p.rate_per_hour));
    $("rate").title = p.rate_per_hour == null ? "" : `${p.answered_today} answers in ${Math.round(p.seconds_on_items_today / 60)} min on items today`;
    const others = p.held_by_others ? ` (${fmt(p.held_by_others)} of them open on other screens now)` : "";
    $("left-for-me").textContent = p.left_for_me
      ? `${fmt(p.left_for_me)} item${p.left_for_me === 1 ? "" : "s"} left for you${others}.`
      : "Nothing left for you in this queue.";
    const total = Math.max(p.labels_needed_total, 1);
    const given = Math.max(0, p.labels_needed_total - p.left_in_queue);
    const yours = Math.min(p.done_total, given);
    $("bar-mine").style.width = `${(100 * yours) / total}%`;
    $("bar-others").style.width = `${(100 * (given - yours)) / total}%`;
    $("project-bar").setAttribute("aria-label", `${fmt(given)} of ${fmt(p.labels_needed_total)} labels given, ${fmt(yours)} by you`);
    $("project-left").textContent = p.left_in_queue
      ? `${fmt(p.left_in_queue)} of ${fmt(p.labels_needed_total)} labels still needed from all annotators; ${fmt(p.leased_now)} item(s) open on screens now.`
      : `All ${fmt(p.labels_needed_total)} labels the project asked for are given.`;
    $("done-project").textContent = p.left_in_queue
      ? `The project still needs ${fmt(p.left_in_queue)} label(s), from other annotators: an item needs different people.`
      : "The project has every label it asked for.";
  }

  // --- lease heartbeat --------------------------------------------------------------------
  async function heartbeat() {
    if (!current || busy || document.visibilityState !== "visible") return;
    const itemId = current.item.id;
    try {
      const res = await call(`${cfg.urls.item}${itemId}/heartbeat`, { lease_ticket: current.lease_ticket });
      if (!current || current.item.id !== itemId) return;
      if (res.status === 200) { showLease(res.data.lease_expires_at); return; }
      if (res.status === 409) {
        banner("Your lease on this item ran out and it went to another annotator. Here is your next item.", "warn", true);
        await loadNext();
      }
    } catch (err) { /* offline: the outbox banner says so when it matters */ }
  }
  setInterval(heartbeat, Math.max(10, cfg.leaseSeconds / 3) * 1000);
  document.addEventListener("visibilitychange", heartbeat);
  setInterval(refreshProgress, 30000);

  // --- guidelines drawer --------------------------------------------------------------------
  function toggleGuidelines(show) {
    const drawer = $("guidelines");
    drawer.hidden = show === undefined ? !drawer.hidden : !show;
  }

  // --- keyboard and clicks --------------------------------------------------------------------
  // --- flags -----------------------------------------------------------------------------
  // A flag goes to the reviewers (reason + optional comment); it does not answer the item.
  const flagForm = $("flag-form");
  function toggleFlag(show = flagForm.hidden) {
    if (show && (!current || editing)) return; // a flag is for the queue's item
    flagForm.hidden = !show;
    if (show) {
      $("flag-comment").value = "";
      const first = flagForm.querySelector("input[name=reason]");
      first.checked = true;
      first.focus(); // 1-4 pick the reason, Tab goes to the comment, Enter sends
    }
  }
  async function sendFlag() {
    if (!current) return;
    const item = current.item;
    const reason = flagForm.querySelector("input[name=reason]:checked").value;
    const body = { reason, comment: $("flag-comment").value.trim(), client_id: uuid() };
    toggleFlag(false);
    try {
      const res = await call(`${cfg.urls.item}${item.id}/flags`, body);
      if (res.status === 201 || res.status === 200) {
        banner(`Flagged item ${item.external_id} for a reviewer. Label or skip it when you are ready.`);
        $("item-ref").textContent = `Item ${item.external_id} · flagged`;
      } else {
        banner(errorText(res.data, "The flag was not stored."), "error");
      }
    } catch (err) {
      banner("Cannot reach the server; the flag was not stored. Try again.", "warn");
    }
  }
  flagForm.addEventListener("submit", (e) => { e.preventDefault(); sendFlag(); });
  flagForm.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { e.preventDefault(); toggleFlag(false); return; }
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); sendFlag(); return; }
    const n = Number(e.key);
    const radios = flagForm.querySelectorAll("input[name=reason]");
    if (e.target.tagName !== "TEXTAREA" && n >= 1 && n <= radios.length) {
      e.preventDefault();
      radios[n - 1].checked = true;
      radios[n - 1].focus();
    }
  });
  $("cancel-flag").addEventListener("click", () => toggleFlag(false));
  $("show-flag").addEventListener("click", () => toggleFlag(true));

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (!flagForm.hidden) return; // the flag form has its own keys
    const tag = (e.target && e.target.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
    if (answers.isOpen()) return; // the answers drawer has its own keys
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    if (key === "Escape") {
      if ($("guidelines").hidden && editing) stopEditing();
      toggleGuidelines(false);
      return;
    }
    if (!$("guidelines").hidden && key !== "g") return;
    const label = byHotkey.get(key);
    if (label) { e.preventDefault(); chooseLabel(label.name); return; }
    if (key === "h") { e.preventDefault(); answers.open(); return; }
    if (viewer.key(e.key.length === 1 ? e.key.toLowerCase() : e.key)) { e.preventDefault(); return; }
    if (key === "Enter") { e.preventDefault(); submitSelection(); return; }
    if (key === "s") { e.preventDefault(); answer("skip", []); return; }
    if (key === "z" || key === "Backspace") { e.preventDefault(); undo(); return; }
    if (key === "g" || key === "?") { e.preventDefault(); toggleGuidelines(); return; }
    if (key === "f") { e.preventDefault(); toggleFlag(true); }
  });
  for (const btn of document.querySelectorAll(".label-button")) {
    btn.addEventListener("click", () => chooseLabel(btn.dataset.label));
  }
  if ($("submit")) $("submit").addEventListener("click", submitSelection);
  $("skip").addEventListener("click", () => answer("skip", []));
  $("undo").addEventListener("click", undo);
  $("show-answers").addEventListener("click", () => answers.open());
  $("recent-all").addEventListener("click", () => answers.open());
  $("done-answers").addEventListener("click", () => answers.open());
  $("stop-editing").addEventListener("click", stopEditing);
  $("show-guidelines").addEventListener("click", () => toggleGuidelines());
  $("close-guidelines").addEventListener("click", () => toggleGuidelines(false));

  // Answers left in the outbox by a closed tab or a dead server go first, then the next item.
  (async () => {
    await flushOutbox();
    await loadNext();
    refreshProgress();
  })();
})();
