// Helpers the interactive pages share: ids for idempotent submits, JSON calls with the CSRF
// header, and the status banner. Exposed as window.labelapp.
(() => {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  class NetworkError extends Error {}

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16)); // plain http on a LAN has no randomUUID
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // Work the page started itself: API calls in flight, a job it follows (hold() until it
  // reloads the page). While there is any, a report job's end does not reload the page under
  // the visitor (which would drop a click's request or the job it follows): see below.
  let busy = 0;
  function hold() {
    let released = false;
    busy += 1;
    return () => { if (!released) { released = true; busy -= 1; } };
  }

  // A JSON call as the logged-in user. Throws NetworkError when the server cannot be reached
  // (or a proxy in front of it answers 502-504); reloads the page (to the login) on 401.
  async function call(url, body, method = "POST") {
    let res;
    const release = hold();
    try {
      res = await fetch(url, {
        method,
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new NetworkError(String(err));
    } finally {
      release();
    }
    if (res.status === 401) { window.location.reload(); throw new NetworkError("logged out"); }
    if (res.status >= 502 && res.status <= 504) throw new NetworkError(`server answered ${res.status}`);
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    return { status: res.status, data, headers: res.headers };
  }

  let bannerTimer = null;
  function banner(text, kind = "info", sticky = false) {
    const el = document.getElementById("banner");
    el.textContent = text;
    el.className = `banner ${kind}`;
    el.hidden = false;
    clearTimeout(bannerTimer);
    if (!sticky) bannerTimer = setTimeout(() => { el.hidden = true; }, 7000);
  }

  function clearBanner() { document.getElementById("banner").hidden = true; }

  function errorText(data, fallback) {
    const e = data && data.error;
    if (!e) return fallback;
    return e.details && e.details.length ? `${e.message} (${e.details.join("; ")})` : e.message;
  }

  // Poll a job (its JSON has a `url`) every `every` ms, calling onUpdate(job) after each read,
  // until it is done, failed or cancelled; resolves with the last job. Throws on an HTTP error.
  async function pollJob(url, onUpdate, every = 500) {
    for (;;) {
      const res = await call(url, undefined, "GET");
      if (res.status !== 200) throw new Error(errorText(res.data, `could not read the job (${res.status})`));
      onUpdate(res.data);
      if (["done", "failed", "cancelled"].includes(res.data.status)) return res.data;
      await new Promise((resolve) => setTimeout(resolve, every));
    }
  }

  // An item as the labeling and adjudication pages show it: its text, or its image (in the
  // page's zoomable viewer when it has one), in `body`; up to six metadata values the caller may
  // see (the group first) in the `meta` list.
  function renderItem(item, { body, meta, viewer = null }) {
    const alt = `Image ${item.external_id}`;
    if (item.image_url && viewer) {
      viewer.show(body, item.image_url, alt);
    } else if (item.image_url) {
      const img = document.createElement("img");
      img.src = item.image_url;
      img.alt = alt;
      img.className = "item-image";
      body.replaceChildren(img);
    } else {
      if (viewer) viewer.hide();
      const p = document.createElement("p");
      p.className = "item-text";
      p.textContent = item.text;
      body.replaceChildren(p);
    }
    if (!meta) return;
    meta.replaceChildren();
    const entries = Object.entries(item.meta || {}).filter(([, v]) => v !== null && v !== "").slice(0, 6);
    if (item.group_key) entries.unshift(["group", item.group_key]);
    for (const [k, v] of entries) {
      const dt = document.createElement("dt"); dt.textContent = k;
      const dd = document.createElement("dd"); dd.textContent = typeof v === "object" ? JSON.stringify(v) : String(v);
      meta.append(dt, dd);
    }
    meta.hidden = entries.length === 0;
  }

  // Bar widths and heights come from data attributes: the Content-Security-Policy allows no
  // inline style attributes.
  function sizeBars(root = document) {
    root.querySelectorAll("[data-width]").forEach((el) => { el.style.width = `${el.dataset.width}%`; });
    root.querySelectorAll("[data-height]").forEach((el) => { el.style.height = `${el.dataset.height}%`; });
  }
  sizeBars();

  // A report a job computes (the agreement report, the LF analysis; templates/_report_status.html):
  // follow the job, then reload the page with ?report_job=<id> (which starts no other job), or,
  // if the visitor has started filling in a form or opened a folded section (an LF's version
  // history, say) on the page meanwhile, offer it as a link: a reload would undo what they did.
  let edited = false;
  const editing = (event) => {
    if (event.type === "input" || event.target.matches("input, textarea, select, [contenteditable]")) edited = true;
  };
  document.addEventListener("input", editing, true);
  document.addEventListener("focusin", editing, true);
  document.addEventListener("click", (event) => {
    if (event.target instanceof Element && event.target.closest("summary")) edited = true;
  }, true);
  document.querySelectorAll("[data-report-job-url]").forEach((box) => {
    const state = box.querySelector("[data-report-job-state]");
    pollJob(box.dataset.reportJobUrl, (job) => { if (state) state.textContent = job.status; }, 1000)
      .then((job) => {
        const url = new URL(window.location.href);
        url.searchParams.set("report_job", job.id);
        const link = document.createElement("a");
        link.href = url.toString();
        link.textContent = `${job.status}: show it`;
        if (edited) { if (state) state.replaceChildren(link); return; }
        // Reload once the page's own calls are answered; a job it follows reloads it instead.
        const reloadWhenIdle = () => {
          if (busy === 0) { window.location.replace(url.toString()); return; }
          if (state) state.replaceChildren(link);
          setTimeout(reloadWhenIdle, 250);
        };
        reloadWhenIdle();
      })
      .catch((err) => { if (state) state.textContent = String(err.message || err); });
  });

  // Buttons that only a page's script makes work are rendered `data-js disabled`, so that none
  // is clicked in vain while the page is shown and its scripts still load; the page's script
  // calls this once its handlers are attached.
  function enableScripted(root = document) {
    root.querySelectorAll("button[data-js]").forEach((button) => { button.disabled = false; });
  }

  window.labelapp = {
    NetworkError, uuid, call, hold, banner, clearBanner, errorText, pollJob, renderItem, sizeBars,
    enableScripted,
  };
})();
