// The labeling-functions page: write an LF (declarative from the form, Python in a CodeMirror
// editor), preview it, save it (asking before a new version of an existing name), edit, rename,
// delete and compare LFs, the coverage/accuracy chart, and the jobs with their progress.
(() => {
  const form = document.getElementById("lf-form");
  if (!form) return;
  const $ = (id) => document.getElementById(id);
  const message = $("lf-message");
  const { call: request, errorText } = window.labelapp; // page.js: CSRF header, 401 -> login
  // Every API URL comes from the server (url_for in lfs.html), never built here.
  const urls = form.dataset; // saveUrl, previewUrl, pythonUrl, pythonPreviewUrl

  // A JSON call that throws an Error (with .status) carrying the server's message on 4xx/5xx.
  const call = async (method, url, body) => {
    const { status, data } = await request(url, body, method);
    if (status >= 400) {
      const err = new Error(errorText(data, `request failed (${status})`));
      err.status = status;
      throw err;
    }
    return data || {};
  };

  const say = (text, isError = false) => {
    message.textContent = text;
    message.className = isError ? "small error-text" : "small";
  };

  // The Python editor: CodeMirror 5 (vendored) over the textarea, made when first shown.
  let editor = null;
  const code = () => (editor ? editor.getValue() : $("lf-source").value);
  const setCode = (text) => { if (editor) editor.setValue(text); else $("lf-source").value = text; };

  const showKind = () => {
    const kind = $("lf-kind").value;
    form.querySelectorAll("[data-kinds]").forEach((el) => {
      el.hidden = !el.dataset.kinds.split(" ").includes(kind);
    });
    if (kind === "python" && window.CodeMirror) {
      if (!editor) {
        editor = window.CodeMirror.fromTextArea($("lf-source"), {
          mode: "python", lineNumbers: true, indentUnit: 4, viewportMargin: Infinity,
          extraKeys: { Tab: (cm) => cm.replaceSelection("    ") },
        });
      }
      editor.refresh();
    }
  };
  $("lf-kind").addEventListener("change", showKind);
  showKind();

  const parseValue = (text) => {
    try { return JSON.parse(text); } catch { return text; }
  };

  const spec = () => {
    const kind = $("lf-kind").value;
    const out = { kind, name: $("lf-name").value.trim(), label: $("lf-label").value };
    const field = $("lf-field").value.trim() || "text";
    if (kind === "keyword") {
      out.keywords = $("lf-keywords").value.split(",").map((k) => k.trim()).filter(Boolean);
      out.case_sensitive = $("lf-case-sensitive").checked;
      out.field = field;
    } else if (kind === "regex") {
      out.pattern = $("lf-pattern").value;
      out.ignore_case = $("lf-ignore-case").checked;
      out.field = field;
    } else {
      out.field = field;
      out.op = $("lf-op").value;
      out.value = parseValue($("lf-value").value.trim());
    }
    return out;
  };
  const isPython = () => $("lf-kind").value === "python";

  const pct = (v) => (v === null || v === undefined ? "–" : `${(100 * v).toFixed(1)}%`);

  // A rate as a stat card: the headline only on 20 or more items, always with count and interval.
  const showRate = (valueId, noteId, r, what, unit) => {
    const value = $(valueId);
    const note = $(noteId);
    if (!r || !r.n) {
      value.textContent = "–";
      value.className = "value muted";
      note.textContent = `${what}: no ${unit}`;
      return;
    }
    value.textContent = r.headline ? pct(r.value) : `(${pct(r.value)})`;
    value.className = r.headline ? "value" : "value small-n";
    note.textContent = `${what} on ${r.n.toLocaleString()} ${unit}, 95% interval ${pct(r.low)}–${pct(r.high)}`
      + (r.headline ? "" : " (fewer than 20: too few to rely on)");
  };

  // Text with the server's match spans [[start, end], ...] in <mark> (DOM nodes, never HTML).
  const markedText = (text, marks) => {
    const td = document.createElement("td");
    let last = 0;
    for (const [start, end] of marks || []) {
      td.append(text.slice(last, start));
      const m = document.createElement("mark");
      m.textContent = text.slice(start, end);
      td.append(m);
      last = end;
    }
    td.append(text.slice(last));
    return td;
  };

  const cell = (text) => { const td = document.createElement("td"); td.textContent = text; return td; };

  $("preview-button").addEventListener("click", async () => {
    say(isPython() ? "Running the preview in the sandbox…" : "Previewing…");
    try {
      const py = isPython();
      const p = py
        ? await call("POST", urls.pythonPreviewUrl, { source: code() })
        : await call("POST", urls.previewUrl, spec());
      const coverage = py ? p.coverage : p.coverage_rate;
      const accuracy = py ? p.accuracy : p.accuracy_rate;
      $("preview").hidden = false;
      showRate("preview-coverage", "preview-coverage-note", coverage, "coverage", "items");
      showRate("preview-accuracy", "preview-accuracy-note", accuracy, "empirical accuracy", "hits with a human label");
      $("preview-hits").textContent = p.n_hits.toLocaleString();
      $("preview-note").textContent = `${py ? `LF ${p.name}, run in the sandbox, ` : ""}on the first `
        + `${p.n_items.toLocaleString()} items. The first ${p.hits.length} hits:`;
      const label = $("lf-label").value;
      $("preview-table").querySelector("tbody").replaceChildren(...p.hits.map((h) => {
        const tr = document.createElement("tr");
        tr.append(cell(h.external_id), markedText(h.text, h.marks), cell(h.vote || label), cell(h.human || "–"));
        return tr;
      }));
      say("");
    } catch (err) {
      $("preview").hidden = true;
      say(err.message, true);
    }
  });

  // Save; an existing name answers 409 and is saved as its next version only once confirmed.
  const save = async (replace) => {
    say("Saving…");
    $("replace-confirm").hidden = true;
    const description = $("lf-description").value;
    try {
      const lf = isPython()
        ? await call("POST", urls.pythonUrl, { source: code(), description, replace })
        : await call("POST", `${urls.saveUrl}${replace ? "?replace=1" : ""}`, { ...spec(), description });
      say(`Saved ${lf.name} (version ${lf.version}). Apply the LFs (or Run all) to see its analysis.`);
      setTimeout(() => window.location.reload(), 700);
    } catch (err) {
      if (err.status === 409 && !replace) {
        say("");
        $("replace-text").textContent = err.message;
        $("replace-confirm").hidden = false;
        $("replace-button").focus();
      } else {
        say(err.message, true);
      }
    }
  };
  $("save-button").addEventListener("click", () => save(false));
  $("replace-button").addEventListener("click", () => save(true));
  $("replace-cancel").addEventListener("click", () => { $("replace-confirm").hidden = true; });

  // Edit: the LF's latest version into the form; saving makes its next version.
  const sources = JSON.parse(($("lf-sources") || { textContent: "{}" }).textContent);
  document.querySelectorAll(".lf-edit").forEach((button) => {
    button.addEventListener("click", () => {
      const lf = sources[button.dataset.id];
      $("lf-kind").value = lf.kind;
      showKind();
      $("lf-description").value = lf.description || "";
      if (lf.kind === "python") {
        setCode(lf.source || "");
      } else {
        const s = lf.spec;
        $("lf-name").value = lf.name;
        $("lf-label").value = s.label;
        $("lf-field").value = s.field || "text";
        if (lf.kind === "keyword") {
          $("lf-keywords").value = (s.keywords || []).join(", ");
          $("lf-case-sensitive").checked = !!s.case_sensitive;
        } else if (lf.kind === "regex") {
          $("lf-pattern").value = s.pattern;
          $("lf-ignore-case").checked = !!s.ignore_case;
        } else {
          $("lf-op").value = s.op;
          $("lf-value").value = JSON.stringify(s.value);
        }
      }
      say(`Editing ${lf.name}: saving makes its next version.`);
      $("lf-editor").scrollIntoView({ behavior: "smooth" });
    });
  });

  const act = (selector, run) => document.querySelectorAll(selector).forEach((button) => {
    button.addEventListener("click", async () => {
      try {
        if (await run(button) !== false) window.location.reload();
      } catch (err) {
        say(err.message, true);
        $("lf-editor").scrollIntoView();
      }
    });
  });
  act(".lf-toggle", (b) => call("PATCH", b.dataset.url, { active: b.dataset.active !== "true" }));
  act(".lf-rename", async (b) => {
    const row = b.closest("tr");
    const name = window.prompt(`New name for ${row.dataset.name} (all its versions):`, row.dataset.name);
    if (!name || name === row.dataset.name) return false;
    return call("POST", b.dataset.url, { name: name.trim() });
  });
  act(".lf-delete", async (b) => {
    const name = b.closest("tr").id.replace(/^lf-/, "");
    if (!window.confirm(`Delete ${name}? Its votes are removed; its versions stay in the history.`)) return false;
    return call("DELETE", b.dataset.url);
  });
  document.querySelectorAll(".lf-compare").forEach((button) => {
    button.addEventListener("click", async () => {
      const pre = button.closest("details").querySelector(".lf-diff");
      try {
        const d = await call("GET", button.dataset.url);
        pre.textContent = d.diff.length ? d.diff.join("\n") : `v${d.from_version} and v${d.to_version} are the same`;
      } catch (err) {
        pre.textContent = err.message;
      }
      pre.hidden = false;
    });
  });

  // Coverage and accuracy per LF, from the analysis the page was built with.
  const chartData = $("lf-chart-data");
  if (chartData && window.labelappCharts) {
    const rows = JSON.parse(chartData.textContent);
    const val = (r) => (r && r.n ? r.value : null);
    const iv = (r) => (r && r.n ? [r.low, r.high] : null);
    window.labelappCharts.bar($("lf-chart"), {
      labels: rows.map((r) => `${r.name} v${r.version}`),
      horizontal: true,
      percent: true,
      xTitle: "share (coverage: of all items; accuracy: of labeled hits)",
      yTitle: "labeling function",
      series: [
        { label: "coverage", data: rows.map((r) => val(r.coverage)), counts: rows.map((r) => (r.coverage ? r.coverage.n : null)),
          intervals: rows.map((r) => iv(r.coverage)), nullText: "not applied" },
        { label: "empirical accuracy", data: rows.map((r) => (r.applied ? val(r.accuracy) : null)),
          counts: rows.map((r) => (r.accuracy ? r.accuracy.n : null)), intervals: rows.map((r) => (r.applied ? iv(r.accuracy) : null)),
          nullText: "no labeled hits (or not applied)" },
      ],
    });
  }

  // Jobs: start one, then poll /api/jobs/<id> until it ends.
  const box = $("ws-job");
  const show = (job) => {
    box.hidden = false;
    box.dataset.job = job.id;
    box.dataset.status = job.status;
    $("ws-job-id").textContent = `#${job.id}`;
    $("ws-job-kind").textContent = job.kind;
    $("ws-job-status").textContent = job.status;
    $("ws-job-message").textContent = job.message || "";
    $("ws-job-bar").style.width = `${(100 * job.progress).toFixed(1)}%`;
    const result = $("ws-job-result");
    result.replaceChildren();
    if (job.status === "failed") {
      const err = document.createElement("span");
      err.className = "error-text";
      err.textContent = job.error;
      result.appendChild(err);
    } else if (job.status === "done") {
      result.textContent = `Finished in ${job.result.seconds} s; reloading…`;
    }
  };
  const follow = (job, release = window.labelapp.hold()) => {
    // Held until the reload: a report job ending meanwhile must not reload the page (page.js).
    window.labelapp.pollJob(job.url, show).then((last) => {
      if (last.status === "done") window.location.replace(`${window.location.pathname}?job=${last.id}`);
      else release();
    }).catch((err) => { release(); $("ws-job-result").textContent = err.message; });
  };
  document.querySelectorAll(".ws-step").forEach((button) => {
    button.addEventListener("click", async () => {
      const release = window.labelapp.hold(); // from the click on, until the job's reload
      try {
        const job = await call("POST", button.dataset.url);
        show(job);
        follow(job, release);
      } catch (err) {
        release();
        say(err.message, true);
      }
    });
  });
  if (box && ["queued", "running"].includes(box.dataset.status)) follow({ url: box.dataset.jobUrl });
  window.labelapp.enableScripted();
})();
