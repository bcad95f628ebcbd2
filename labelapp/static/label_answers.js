// The labeling page's earlier answers: the Recent list (thumbnails for images) and the searchable
// "earlier answers" drawer. Both list the server's record (GET .../my-answers), newest first;
// picking one calls onPick({item, annotation}), which reopens it for a change.
// Exposed as window.labelapp.answersPanel(cfg, onPick) -> {refreshRecent, open, close, isOpen}.
(() => {
  "use strict";
  const PAGE = 20;

  function answerRow(entry, onPick, withTime) {
    const { item, annotation } = entry;
    const li = document.createElement("li");
    const btn = document.createElement("button");
    btn.type = "button";
    btn.className = "answer-row";
    btn.dataset.itemId = String(item.id);
    btn.title = `Change your answer on item ${item.external_id}`;
    if (item.image_url) {
      const thumb = document.createElement("img");
      thumb.className = "thumb";
      thumb.loading = "lazy";
      thumb.src = item.image_url;
      thumb.alt = `item ${item.external_id}`;
      btn.append(thumb);
    }
    const tag = document.createElement("span");
    tag.className = annotation.kind === "skip" ? "chip skip" : "chip";
    tag.textContent = annotation.kind === "skip" ? "skipped" : annotation.labels.join(", ");
    const text = document.createElement("span");
    text.className = "preview small";
    text.textContent = item.text != null ? item.text : `item ${item.external_id}`;
    btn.append(tag, text);
    if (withTime) {
      const when = document.createElement("span");
      when.className = "muted small when";
      when.textContent = new Date(annotation.created_at).toLocaleString([], { dateStyle: "short", timeStyle: "short" });
      btn.append(when);
    }
    btn.addEventListener("click", () => onPick(entry));
    li.append(btn);
    return li;
  }

  function answersPanel(cfg, onPick) {
    const { call, errorText } = window.labelapp;
    const $ = (id) => document.getElementById(id);
    const drawer = $("answers");
    let offset = 0;
    let searchTimer = null;
    let ask = 0; // answers to older searches that arrive late are dropped

    async function fetchPage(params) {
      const query = new URLSearchParams(params);
      const res = await call(`${cfg.urls.answers}?${query}`, undefined, "GET");
      if (res.status !== 200) throw new Error(errorText(res.data, `could not list your answers (${res.status})`));
      return res.data;
    }

    // Recent: the last few answers, each clickable; waiting (unsent) answers on top.
    async function refreshRecent(pending = []) {
      const list = $("history");
      let data;
      try { data = await fetchPage({ limit: 8 }); } catch (err) { return; }
      list.replaceChildren();
      for (const p of pending) {
        const li = document.createElement("li");
        li.className = "muted small pending";
        li.textContent = `${p.kind === "skip" ? "skipped" : p.body.labels.join(", ")} · ${p.preview} (waiting to be saved)`;
        list.append(li);
      }
      for (const entry of data.answers) list.append(answerRow(entry, pick, false));
      if (!list.children.length) {
        const li = document.createElement("li");
        li.className = "muted small";
        li.textContent = "Your answers appear here; click one to change it.";
        list.append(li);
      }
    }

    async function search(more = false) {
      const mine = ++ask;
      offset = more ? offset + PAGE : 0;
      let data;
      try {
        data = await fetchPage({ q: $("answers-q").value, label: $("answers-label").value, limit: PAGE, offset });
      } catch (err) {
        $("answers-total").textContent = String(err.message || err);
        return;
      }
      if (mine !== ask) return;
      const list = $("answers-list");
      if (!more) list.replaceChildren();
      for (const entry of data.answers) list.append(answerRow(entry, pick, true));
      $("answers-total").textContent = `(${data.total.toLocaleString()} ${data.total === 1 ? "answer" : "answers"})`;
      $("answers-more").hidden = offset + data.answers.length >= data.total;
      if (!data.total) {
        const li = document.createElement("li");
        li.className = "muted";
        li.textContent = $("answers-q").value || $("answers-label").value ? "No answer matches." : "You have not answered anything in this project yet.";
        list.append(li);
      }
    }

    function pick(entry) { close(); onPick(entry); }
    function open() { drawer.hidden = false; search(); $("answers-q").focus(); }
    function close() { drawer.hidden = true; }
    function isOpen() { return !drawer.hidden; }

    $("answers-search").addEventListener("submit", (e) => { e.preventDefault(); search(); });
    $("answers-q").addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(() => search(), 250); });
    $("answers-label").addEventListener("change", () => search());
    $("answers-more").addEventListener("click", () => search(true));
    $("close-answers").addEventListener("click", close);
    drawer.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.preventDefault(); close(); } });

    return { refreshRecent, open, close, isOpen };
  }

  window.labelapp.answersPanel = answersPanel;
})();
