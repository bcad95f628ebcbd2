// The review list (keyboard moves, selection, batch actions) and an item's review page (correct a
// label with a reason). Both call the JSON API through window.labelapp.call (CSRF header).
(() => {
  "use strict";
  const { call, banner, errorText, enableScripted } = window.labelapp;
  const typing = (e) => ["INPUT", "TEXTAREA", "SELECT"].includes(e.target.tagName);

  // --- the list ---------------------------------------------------------------------------------
  const bar = document.getElementById("review-bar");
  if (bar) {
    const rows = [...document.querySelectorAll("tr.review-row")];
    let current = rows.length ? 0 : -1;
    const count = document.getElementById("selected-count");

    const picked = () => rows.filter((r) => r.querySelector(".pick").checked);
    const refresh = () => {
      rows.forEach((r, i) => {
        r.classList.toggle("current", i === current);
        r.classList.toggle("picked", r.querySelector(".pick").checked);
      });
      count.textContent = String(picked().length);
    };
    const move = (step) => {
      if (!rows.length) return;
      current = Math.max(0, Math.min(rows.length - 1, current + step));
      rows[current].scrollIntoView({ block: "nearest" });
      refresh();
    };
    rows.forEach((r, i) => r.addEventListener("click", (e) => {
      current = i;
      if (e.target.classList.contains("pick")) { refresh(); return; }
      refresh();
    }));
    document.getElementById("select-all").addEventListener("change", (e) => {
      rows.forEach((r) => { r.querySelector(".pick").checked = e.target.checked; });
      refresh();
    });

    async function act(action) {
      const ids = picked().map((r) => Number(r.dataset.item));
      if (!ids.length) { banner("Select items first (x, or 'Select all shown').", "error"); return; }
      const body = { item_ids: ids, action };
      if (action === "adjudicate") body.reason = document.getElementById("adjudicate-reason").value;
      else body.k = Number(document.getElementById("requeue-k").value || 1);
      const res = await call(bar.dataset.actionsUrl, body);
      if (res.status !== 200) { banner(errorText(res.data, `failed (${res.status})`), "error", true); return; }
      banner(action === "adjudicate"
        ? `${res.data.items} item(s) sent to adjudication.`
        : `${res.data.items} item(s) back in the labeling queue for ${body.k} more annotator(s).`, "info");
      rows.forEach((r) => { r.querySelector(".pick").checked = false; });
      refresh();
    }
    document.getElementById("send-adjudication").addEventListener("click", () => act("adjudicate"));
    document.getElementById("send-queue").addEventListener("click", () => act("requeue"));

    document.addEventListener("keydown", (e) => {
      if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
      const row = rows[current];
      if (e.key === "j") move(1);
      else if (e.key === "k") move(-1);
      else if ((e.key === "o" || e.key === "Enter") && row) window.location.href = row.dataset.href;
      else if (e.key === "x" && row) { const box = row.querySelector(".pick"); box.checked = !box.checked; refresh(); }
      else if (e.key === "a") act("adjudicate");
      else if (e.key === "q") act("requeue");
      else if (e.key === "n") { const next = document.getElementById("next-page"); if (next) window.location.href = next.href; }
      else if (e.key === "/") { e.preventDefault(); document.getElementById("f-label").focus(); }
      else return;
      e.preventDefault();
    });
    refresh();
    enableScripted(bar);
  }

  // --- one item ---------------------------------------------------------------------------------
  const page = document.getElementById("review-item");
  if (page) {
    const multi = page.dataset.multi === "true";
    const buttons = [...document.querySelectorAll("#correct-labels .label-button")];
    const reason = document.getElementById("correct-reason");
    const toggle = (button) => {
      const on = button.getAttribute("aria-pressed") !== "true";
      if (!multi) buttons.forEach((b) => b.setAttribute("aria-pressed", "false"));
      button.setAttribute("aria-pressed", on ? "true" : "false");
    };
    buttons.forEach((b) => b.addEventListener("click", () => toggle(b)));

    async function save() {
      const labels = buttons.filter((b) => b.getAttribute("aria-pressed") === "true").map((b) => b.dataset.label);
      if (!labels.length) { banner("Pick the right label first (number keys).", "error"); return; }
      if (!reason.value.trim()) { banner("Say why the label was wrong.", "error"); reason.focus(); return; }
      const res = await call(page.dataset.correctUrl, { labels, reason: reason.value });
      if (res.status !== 201) { banner(errorText(res.data, `failed (${res.status})`), "error", true); return; }
      window.location.reload();
    }
    document.getElementById("correct-submit").addEventListener("click", save);
    document.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.target === reason || !typing(e))) { e.preventDefault(); save(); return; }
      if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === "Escape") { window.location.href = page.dataset.back; return; }
      const button = buttons.find((b) => b.dataset.key === e.key);
      if (button) { toggle(button); reason.focus(); e.preventDefault(); }
    });
    enableScripted(page);
  }
})();
