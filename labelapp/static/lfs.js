// The labeling-functions page: build a declarative LF from the form, preview it, save it,
// switch LFs on and off, and start the apply / label model / propagation jobs with progress.
(() => {
  const form = document.getElementById("lf-form");
  if (!form) return;
  const project = form.dataset.project;
  const $ = (id) => document.getElementById(id);
  const message = $("lf-message");
  const { call: request, errorText } = window.labelapp; // page.js: CSRF header, 401 -> login

  // A JSON call that throws an Error with the server's message on any 4xx/5xx answer.
  const call = async (method, url, body) => {
    const { status, data } = await request(url, body, method);
    if (status >= 400) throw new Error(errorText(data, `request failed (${status})`));
    return data || {};
  };

  const say = (text, isError = false) => {
    message.textContent = text;
    message.className = isError ? "small error-text" : "small";
  };

  const showKind = () => {
    const kind = $("lf-kind").value;
    form.querySelectorAll("[data-kinds]").forEach((el) => {
      el.hidden = !el.dataset.kinds.split(" ").includes(kind);
    });
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

  const pct = (v) => (v === null || v === undefined ? "–" : `${(100 * v).toFixed(1)}%`);

  $("preview-button").addEventListener("click", async () => {
    say("Previewing…");
    try {
      const p = await call("POST", `/api/projects/${project}/lfs/preview`, spec());
      $("preview").hidden = false;
      $("preview-coverage").textContent = pct(p.coverage);
      $("preview-hits").textContent = p.n_hits.toLocaleString();
      $("preview-accuracy").textContent = pct(p.emp_accuracy);
      $("preview-note").textContent =
        `On the first ${p.n_items.toLocaleString()} items; accuracy from ${p.n_labeled_hits} hits ` +
        `with a human label (${p.correct} correct). The first ${p.hits.length} hits:`;
      const body = $("preview-table").querySelector("tbody");
      body.replaceChildren(...p.hits.map((h) => {
        const tr = document.createElement("tr");
        for (const text of [h.external_id, h.text, h.human || "–"]) {
          const td = document.createElement("td");
          td.textContent = text;
          tr.appendChild(td);
        }
        return tr;
      }));
      say("");
    } catch (err) {
      $("preview").hidden = true;
      say(err.message, true);
    }
  });

  $("save-button").addEventListener("click", async () => {
    say("Saving…");
    try {
      const lf = await call("POST", `/api/projects/${project}/lfs`,
        { ...spec(), description: $("lf-description").value });
      say(`Saved ${lf.name} (version ${lf.version}). Apply the LFs to see its analysis.`);
      setTimeout(() => window.location.reload(), 600);
    } catch (err) {
      say(err.message, true);
    }
  });

  document.querySelectorAll(".lf-toggle").forEach((button) => {
    button.addEventListener("click", async () => {
      try {
        await call("PATCH", `/api/projects/${project}/lfs/${button.dataset.id}`,
          { active: button.dataset.active !== "true" });
        window.location.reload();
      } catch (err) {
        say(err.message, true);
      }
    });
  });

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
  const follow = (job) => {
    window.labelapp.pollJob(job.url, show).then((last) => {
      if (last.status === "done") window.location.replace(`${window.location.pathname}?job=${last.id}`);
    }).catch((err) => { $("ws-job-result").textContent = err.message; });
  };
  document.querySelectorAll(".ws-step").forEach((button) => {
    button.addEventListener("click", async () => {
      try {
        const job = await call("POST", `/api/projects/${project}/ws/${button.dataset.step}`);
        show(job);
        follow(job);
      } catch (err) {
        say(err.message, true);
      }
    });
  });
  if (box && ["queued", "running"].includes(box.dataset.status)) follow({ url: box.dataset.jobUrl });
})();
