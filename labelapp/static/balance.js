// The export page's class balance per split: each split's label shares, stacked, of one version,
// from GET /api/projects/<id>/exports (each version's counts per split and label).
(() => {
  "use strict";
  const canvas = document.getElementById("balance-chart");
  const picker = document.getElementById("balance-version");
  const charts = window.labelappCharts;
  if (!canvas || !charts) return;
  let versions = [];
  const draw = () => {
    const v = versions.find((x) => String(x.version) === picker.value) || versions[versions.length - 1];
    if (!v) return;
    const splits = Object.keys(v.counts);
    const labels = [...new Set(splits.flatMap((s) => Object.keys(v.counts[s])))].sort();
    const totals = splits.map((s) => Object.values(v.counts[s]).reduce((a, b) => a + b, 0));
    charts.bar(canvas, {
      labels: splits.map((s, i) => `${s} (${totals[i].toLocaleString()} items)`),
      stacked: true,
      percent: true,
      xTitle: "split",
      yTitle: "share of the split's items",
      series: labels.map((label) => ({
        label,
        data: splits.map((s, i) => (v.counts[s][label] || 0) / (totals[i] || 1)),
        counts: splits.map((s) => v.counts[s][label] || 0),
        tooltipValue: (item) => `${charts.pct(item.raw)} (${(v.counts[splits[item.dataIndex]][label] || 0).toLocaleString()} of ${totals[item.dataIndex].toLocaleString()})`,
      })),
    });
  };
  charts.getJSON(canvas.dataset.url).then((data) => {
    versions = data.versions;
    draw();
  }).catch((err) => { canvas.replaceWith(Object.assign(document.createElement("p"), { className: "error-text", textContent: err.message })); });
  picker.addEventListener("change", draw);
})();
