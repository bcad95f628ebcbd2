// The project page's schema, drift and slices sections (issue 20): JSON from the API, rendered
// with textContent only (no user text becomes markup).
(() => {
  "use strict";
  const { call } = window.labelapp;

  function cell(row, text, cls) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "–" : String(text);
    if (cls) td.className = cls;
    row.appendChild(td);
    return td;
  }
  const num = (x, digits = 3) => (x === null || x === undefined ? "–" : Number(x).toPrecision(digits));
  const pct = (x) => (x === null || x === undefined ? "–" : `${(100 * x).toFixed(1)}%`);
  function errorText(res, what) {
    const e = res.data && res.data.error;
    if (!e) return `${what} failed (${res.status})`;
    return e.details && e.details.length ? `${e.message} (${e.details.join("; ")})` : e.message;
  }

  // --- schema -------------------------------------------------------------------------------
  const schema = document.getElementById("schema-section");
  async function loadSchema() {
    const res = await call(schema.dataset.schemaUrl, undefined, "GET");
    const summary = document.getElementById("schema-summary");
    if (res.status !== 200) { summary.textContent = errorText(res, "loading the schema"); return; }
    const current = res.data.current;
    if (!current) { summary.textContent = "No schema yet: the first import infers it."; return; }
    summary.textContent = `Version ${current.version} (${current.reason}, ${current.created_at.slice(0, 16).replace("T", " ")}); ${res.data.versions.length} version(s) in all.`;
    const body = document.querySelector("#schema-table tbody");
    body.replaceChildren();
    const select = document.getElementById("loosen-column");
    select.replaceChildren();
    for (const [name, col] of Object.entries(current.schema.columns)) {
      const tr = document.createElement("tr");
      tr.dataset.column = name;
      cell(tr, name === "$text" ? "(item text)" : name);
      cell(tr, col.dtype);
      cell(tr, col.required === false ? "optional" : "required");
      cell(tr, col.nullable ? "allowed" : "none");
      cell(tr, col.in_range ? col.in_range.min_value : null, "num");
      cell(tr, col.in_range ? col.in_range.max_value : null, "num");
      cell(tr, col.isin ? col.isin.join(", ") : "any");
      const len = col.str_length;
      cell(tr, len ? `${len.min_value ?? 0}–${len.max_value ?? "∞"}` : null, "num");
      body.appendChild(tr);
      const option = document.createElement("option");
      option.value = name; option.textContent = name === "$text" ? "(item text)" : name;
      select.appendChild(option);
    }
    document.getElementById("schema-table").hidden = false;
    document.getElementById("schema-loosen").hidden = schema.dataset.admin !== "true";
    const checks = document.getElementById("schema-checks");
    checks.replaceChildren();
    for (const check of res.data.checks) {
      const li = document.createElement("li");
      const head = check.checked_version === null ? `import #${check.import_id}: inferred version ${check.schema_version}`
        : `import #${check.import_id} (${check.mode}) against version ${check.checked_version}` +
          (check.schema_version !== check.checked_version ? ` → version ${check.schema_version}` : "");
      li.textContent = `${head}: ${check.problems.length ? check.problems.map((p) => p.message).join("; ") : "no problems"}`;
      checks.appendChild(li);
    }
  }
  document.getElementById("schema-loosen").addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = event.target.elements;
    const payload = { column: f.column.value };
    if (f.min_value.value !== "") payload.min_value = Number(f.min_value.value);
    if (f.max_value.value !== "") payload.max_value = Number(f.max_value.value);
    if (f.add_values.value.trim()) payload.add_values = f.add_values.value.split(",").map((v) => v.trim()).filter(Boolean);
    if (f.optional.checked) payload.optional = true;
    if (f.nullable.checked) payload.nullable = true;
    const res = await call(schema.dataset.loosenUrl, payload);
    const status = document.getElementById("schema-status");
    if (res.status !== 201) { status.textContent = errorText(res, "loosening the schema"); status.className = "flash warn"; return; }
    status.textContent = `Schema version ${res.data.version} saved.`;
    status.className = "flash";
    event.target.reset();
    loadSchema();
  });
  loadSchema();

  // --- drift --------------------------------------------------------------------------------
  const drift = document.getElementById("drift-section");
  document.getElementById("drift-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const verdict = document.getElementById("drift-verdict");
    const table = document.getElementById("drift-table");
    verdict.textContent = "Comparing…";
    const q = new URLSearchParams({ a: event.target.elements.a.value, b: event.target.elements.b.value });
    const res = await call(`${drift.dataset.driftUrl}?${q}`, undefined, "GET");
    if (res.status !== 200) { verdict.textContent = errorText(res, "the comparison"); table.hidden = true; return; }
    const r = res.data;
    verdict.textContent = `A: ${r.a.toLocaleString()} items, B: ${r.b.toLocaleString()} items; domain AUC ${num(r.domain_auc)}: ` +
      (r.drifted ? "drifted" : "no drift") + (r.labels.drifted ? "; the labels drifted" : "");
    verdict.className = r.drifted ? "flash warn" : "flash";
    const body = table.querySelector("tbody");
    body.replaceChildren();
    const names = { $text_length: "text length", $oov_rate: "out-of-vocabulary rate", $domain_classifier: "domain classifier (AUC)" };
    for (const [name, t] of [...Object.entries(r.columns), ["labels", r.labels]]) {
      const tr = document.createElement("tr");
      cell(tr, names[name] || name);
      cell(tr, t.test === "none" ? `not tested: ${t.reason}` : t.test);
      cell(tr, num(t.statistic), "num");
      cell(tr, num(t.effect), "num");
      cell(tr, num(t.p, 2), "num");
      cell(tr, num(t.p_adjusted, 2), "num");
      cell(tr, t.drifted ? "drifted" : "no").className = t.drifted ? "stale" : "";
      body.appendChild(tr);
    }
    table.hidden = false;
  });

  // --- slices -------------------------------------------------------------------------------
  const slices = document.getElementById("slices-section");
  function sliceTable(title, rows) {
    const wrap = document.createElement("div");
    wrap.className = "table-scroll";
    const h = document.createElement("h3"); h.className = "small"; h.textContent = title; wrap.appendChild(h);
    const table = document.createElement("table"); table.className = "grid compact";
    const head = table.createTHead().insertRow();
    for (const t of ["Slice", "Items", "Human labels", "Model accuracy", "95% interval", "Human level", "Gap", ""]) {
      const th = document.createElement("th"); th.textContent = t; head.appendChild(th);
    }
    const body = table.createTBody();
    for (const r of rows) {
      const tr = body.insertRow();
      cell(tr, r.value);
      cell(tr, r.items.toLocaleString(), "num");
      cell(tr, r.human_labels.toLocaleString(), "num");
      cell(tr, pct(r.model_accuracy), "num");
      cell(tr, r.model_interval ? `${pct(r.model_interval[0])} – ${pct(r.model_interval[1])}` : "–", "num");
      cell(tr, pct(r.human_level), "num");
      cell(tr, r.gap === null ? "–" : `${(100 * r.gap).toFixed(1)} pts`, "num");
      cell(tr, r.small ? "small slice" : "", r.small ? "small-n" : "");
    }
    wrap.appendChild(table);
    return wrap;
  }
  document.getElementById("slices-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = document.getElementById("slices-status");
    const tables = document.getElementById("slices-tables");
    status.textContent = "Scoring…";
    const res = await call(`${slices.dataset.slicesUrl}?${new URLSearchParams({ by: event.target.elements.by.value })}`, undefined, "GET");
    tables.replaceChildren();
    if (res.status !== 200) { status.textContent = errorText(res, "the slices"); return; }
    const r = res.data;
    status.textContent = `${r.items.toLocaleString()} items, ${r.human_labels.toLocaleString()} human labels; model held-out accuracy ${pct(r.model_accuracy)}.`;
    if (r.by) tables.appendChild(sliceTable(`By ${r.by}`, r.slices));
    tables.appendChild(sliceTable("By class", r.classes));
  });
})();
