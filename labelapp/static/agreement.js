// The agreement page: its charts, drawn from the same JSON as GET /api/projects/<id>/agreement
// (embedded in the page), and the preview of what a new overlap does to items already imported.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const read = (id) => (($(id) && JSON.parse($(id).textContent)) || null);
  const data = read("agreement-data");
  const annotators = read("annotator-data") || [];
  const charts = window.labelappCharts;
  const report = data && data.report;

  if (charts && report) {
    if ($("kappa-chart") && report.kappa) {
      charts.heatmap($("kappa-chart"), {
        labels: report.kappa.annotators,
        values: report.kappa.values,
        counts: report.kappa_items ? report.kappa_items.values : null,
        title: "Cohen's kappa",
      });
    }
    if ($("reliability-chart")) {
      const series = (key, label, nKey) => ({
        label,
        data: annotators.map((a) => a[key]),
        counts: annotators.map((a) => a[nKey]),
        intervals: annotators.map((a) => (a.intervals && a.intervals[key]) || null),
        nullText: nKey === "gold_n" ? "no gold answers" : "no overlap",
      });
      charts.bar($("reliability-chart"), {
        labels: annotators.map((a) => a.name),
        horizontal: true,
        percent: true,
        xTitle: "share of answers",
        yTitle: "annotator",
        series: [
          series("ds_accuracy", "Dawid-Skene accuracy", "n_overlap"),
          series("agreement_with_others", "agrees with others", "n_overlap"),
          series("gold_accuracy", "gold accuracy", "gold_n"),
        ],
      });
    }
    const periods = (rows, key) => ({
      labels: rows.map((p) => p[key]),
      percent: false,
      yTitle: "agreement (1 = perfect)",
      series: [
        { label: "percent agreement", data: rows.map((p) => p.percent_agreement), counts: rows.map((p) => p.n_overlap_items) },
        { label: "Fleiss' kappa", data: rows.map((p) => p.fleiss_kappa), counts: rows.map((p) => p.n_overlap_items) },
        { label: "Krippendorff's alpha", data: rows.map((p) => p.krippendorff_alpha), counts: rows.map((p) => p.n_overlap_items) },
      ],
    });
    if ($("time-chart")) {
      const unit = { D: "day", W: "week", M: "month" }[data.over_time.freq] || "period";
      charts.line($("time-chart"), { ...periods(data.over_time.periods, "period"), xTitle: unit });
    }
    if ($("guideline-chart")) {
      const rows = data.by_guideline_version.map((g) => ({ ...g, version: `v${g.guideline_version}` }));
      charts.line($("guideline-chart"), { ...periods(rows, "version"), xTitle: "guideline version" });
    }
  }

  // Overlap preview: how many items already imported the new setting would queue.
  const note = $("overlap-preview");
  if (!note) return;
  const form = note.closest("form");
  let timer = null;
  const preview = async () => {
    const k = form.elements.overlap_k.value;
    const share = form.elements.overlap_share.value;
    if (!form.elements.apply_existing.checked) { note.textContent = ""; return; }
    try {
      const p = await charts.getJSON(`${note.dataset.url}?overlap_k=${encodeURIComponent(k)}&overlap_share=${encodeURIComponent(share)}`);
      note.className = "wide small";
      note.textContent = `Saving queues ${p.n_queued.toLocaleString()} of ${p.n_items.toLocaleString()} items already imported `
        + `for ${p.n_answers.toLocaleString()} more answers (${p.n_overlap.toLocaleString()} items would need ${p.overlap_k} annotators)`
        + (p.n_released ? `; ${p.n_released.toLocaleString()} items would need fewer answers than now.` : ".");
    } catch (err) {
      note.className = "wide small error-text";
      note.textContent = err.message;
    }
  };
  form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(preview, 250); });
})();
