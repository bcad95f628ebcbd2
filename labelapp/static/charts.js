// Interactive charts drawn in the browser (Chart.js, vendored in static/vendor/) from the JSON
// the API serves. Every chart has titled axes, a legend below the plot (never over the data) and
// tooltips; rates show their count. Exposed as window.labelappCharts.
(() => {
  "use strict";
  const Chart = window.Chart;
  if (!Chart) return;
  const COLORS = ["#2563eb", "#d97706", "#059669", "#db2777", "#7c3aed", "#0891b2", "#65a30d", "#dc2626"];
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 12;
  Chart.defaults.color = "#374151";

  const pct = (v) => (v === null || v === undefined || Number.isNaN(v) ? "–" : `${(100 * v).toFixed(1)}%`);
  const num = (v) => (v === null || v === undefined ? "–" : Number(v).toLocaleString());

  // Whiskers for bar datasets carrying `intervals: [[lo, hi] | null, ...]` (95% intervals).
  const intervalPlugin = {
    id: "labelappIntervals",
    afterDatasetsDraw(chart) {
      const { ctx } = chart;
      const horizontal = chart.options.indexAxis === "y";
      const valueScale = horizontal ? chart.scales.x : chart.scales.y;
      chart.data.datasets.forEach((ds, i) => {
        const meta = chart.getDatasetMeta(i);
        if (!ds.intervals || meta.hidden) return;
        ctx.save();
        ctx.strokeStyle = "#111827";
        ctx.lineWidth = 1.5;
        meta.data.forEach((bar, j) => {
          const iv = ds.intervals[j];
          if (!iv) return;
          const lo = valueScale.getPixelForValue(iv[0]);
          const hi = valueScale.getPixelForValue(iv[1]);
          const at = horizontal ? bar.y : bar.x;
          const cap = 4;
          ctx.beginPath();
          if (horizontal) {
            ctx.moveTo(lo, at); ctx.lineTo(hi, at);
            ctx.moveTo(lo, at - cap); ctx.lineTo(lo, at + cap);
            ctx.moveTo(hi, at - cap); ctx.lineTo(hi, at + cap);
          } else {
            ctx.moveTo(at, lo); ctx.lineTo(at, hi);
            ctx.moveTo(at - cap, lo); ctx.lineTo(at + cap, lo);
            ctx.moveTo(at - cap, hi); ctx.lineTo(at + cap, hi);
          }
          ctx.stroke();
        });
        ctx.restore();
      });
    },
  };
  Chart.register(intervalPlugin);

  const axis = (title, percent, extra = {}) => ({
    title: { display: true, text: title, font: { weight: "bold" } },
    ...(percent ? { min: 0, max: 1, ticks: { callback: (v) => `${Math.round(100 * v)}%` } } : {}),
    ...extra,
  });

  // A tooltip line: "series: 42.0% (n = 31, 95% CI 28–55%)" from the dataset's counts/intervals.
  const tooltipLabel = (percent) => (item) => {
    const ds = item.dataset;
    const raw = item.raw && typeof item.raw === "object" && "y" in item.raw ? item.raw.y : item.raw;
    const shown = raw === null || raw === undefined ? (ds.nullText || "none")
      : ds.tooltipValue ? ds.tooltipValue(item) : percent ? pct(raw) : num(raw);
    let text = `${ds.label}: ${shown}`;
    const n = ds.counts && !ds.tooltipValue ? ds.counts[item.dataIndex] : undefined;
    const iv = ds.intervals ? ds.intervals[item.dataIndex] : undefined;
    const notes = [];
    if (n !== undefined && n !== null) notes.push(`n = ${num(n)}`);
    if (iv) notes.push(`95% CI ${pct(iv[0])}–${pct(iv[1])}`);
    if (notes.length) text += ` (${notes.join(", ")})`;
    return text;
  };

  function draw(canvas, config) {
    const el = typeof canvas === "string" ? document.getElementById(canvas) : canvas;
    const old = Chart.getChart(el);
    if (old) old.destroy();
    const options = config.options || {};
    config.options = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "nearest", intersect: false, ...(options.interaction || {}) },
      ...options,
      plugins: {
        legend: { position: "bottom", labels: { boxWidth: 12 } },
        ...(options.plugins || {}),
      },
    };
    return new Chart(el, config);
  }

  const series = (list, kind) => list.map((s, i) => ({
    borderColor: s.color || COLORS[i % COLORS.length],
    backgroundColor: s.fill || (kind === "line" ? s.color || COLORS[i % COLORS.length] : `${s.color || COLORS[i % COLORS.length]}cc`),
    spanGaps: true,
    ...s,
  }));

  function line(canvas, { labels, series: list, xTitle, yTitle, percent = false, xNumeric = false }) {
    return draw(canvas, {
      type: "line",
      data: { labels, datasets: series(list, "line").map((s) => ({ pointRadius: 4, tension: 0, ...s })) },
      options: {
        scales: {
          x: axis(xTitle, false, xNumeric ? { type: "linear" } : {}),
          y: axis(yTitle, percent),
        },
        plugins: { tooltip: { callbacks: { label: tooltipLabel(percent) } } },
      },
    });
  }

  function bar(canvas, { labels, series: list, xTitle, yTitle, percent = false, stacked = false, horizontal = false }) {
    const category = axis(horizontal ? yTitle : xTitle, false, { stacked });
    const value = axis(horizontal ? xTitle : yTitle, percent, { stacked, beginAtZero: true });
    return draw(canvas, {
      type: "bar",
      data: { labels, datasets: series(list, "bar").map((s) => ({ maxBarThickness: 28, ...s })) },
      options: {
        indexAxis: horizontal ? "y" : "x",
        interaction: { mode: "index", intersect: false },
        scales: horizontal ? { x: value, y: category } : { x: category, y: value },
        plugins: { tooltip: { callbacks: { label: tooltipLabel(percent) } } },
      },
    });
  }

  // A square matrix (e.g. pairwise Cohen's kappa): colour from `min` (red) to `max` (blue).
  function heatmap(canvas, { labels, values, title, min = -1, max = 1, counts = null }) {
    const data = [];
    labels.forEach((row, i) => labels.forEach((col, j) => {
      data.push({ x: col, y: row, v: values[i][j], n: counts ? counts[i][j] : null });
    }));
    const color = (v) => {
      if (v === null || v === undefined) return "#f3f4f6";
      const t = Math.max(0, Math.min(1, (v - min) / (max - min)));
      const from = [220, 38, 38]; const mid = [250, 250, 250]; const to = [37, 99, 235];
      const [a, b, s] = t < 0.5 ? [from, mid, t * 2] : [mid, to, (t - 0.5) * 2];
      return `rgb(${a.map((c, k) => Math.round(c + (b[k] - c) * s)).join(",")})`;
    };
    const cellText = {  // the value in each cell, dark or light against its colour
      id: "labelappCellText",
      afterDatasetsDraw(chart) {
        const { ctx } = chart;
        ctx.save();
        ctx.textAlign = "center";
        ctx.textBaseline = "middle";
        chart.getDatasetMeta(0).data.forEach((cell, i) => {
          const v = data[i].v;
          if (v === null || v === undefined) return;
          const { x, y, width, height } = cell.getProps(["x", "y", "width", "height"], true);
          ctx.fillStyle = Math.abs(v - (min + max) / 2) > (max - min) * 0.3 ? "#ffffff" : "#111827";
          ctx.fillText(v.toFixed(2), x + width / 2, y + height / 2);
        });
        ctx.restore();
      },
    };
    return draw(canvas, {
      type: "matrix",
      plugins: [cellText],
      data: {
        datasets: [{
          label: title,
          data,
          backgroundColor: (ctx) => color(ctx.raw && ctx.raw.v),
          borderColor: "#ffffff",
          borderWidth: 1,
          width: ({ chart }) => (chart.chartArea || {}).width / labels.length - 1,
          height: ({ chart }) => (chart.chartArea || {}).height / labels.length - 1,
        }],
      },
      options: {
        interaction: { mode: "nearest", intersect: true },
        scales: {
          x: { type: "category", labels, offset: true, grid: { display: false }, title: { display: true, text: "annotator", font: { weight: "bold" } } },
          y: { type: "category", labels, offset: true, reverse: false, grid: { display: false }, title: { display: true, text: "annotator", font: { weight: "bold" } } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: () => "",
              label: (item) => {
                const r = item.raw;
                const v = r.v === null || r.v === undefined ? "no shared items" : r.v.toFixed(2);
                return `${r.y} × ${r.x}: ${title} ${v}${r.n !== null ? ` (${num(r.n)} shared items)` : ""}`;
              },
            },
          },
        },
      },
    });
  }

  // Model runs from GET /api/projects/<id>/model-runs (.model_runs): held-out scores per run.
  function modelRuns(canvas, runs) {
    const scored = runs.filter((r) => r.metrics && r.metrics.accuracy !== undefined && r.metrics.accuracy !== null);
    return line(canvas, {
      labels: scored.map((r) => `#${r.id} · ${num(r.n_train)}`),
      xTitle: "model run · labels trained on",
      yTitle: "held-out score",
      percent: true,
      series: [
        { label: "accuracy", data: scored.map((r) => r.metrics.accuracy), counts: scored.map((r) => r.metrics.n_holdout ?? null) },
        { label: "macro F1", data: scored.map((r) => r.metrics.f1_macro ?? null), counts: scored.map((r) => r.metrics.n_holdout ?? null) },
      ],
    });
  }

  // Accuracy against the number of labels trained on (one point per model run).
  function learningCurve(canvas, runs) {
    const scored = runs.filter((r) => r.metrics && r.metrics.accuracy !== undefined && r.metrics.accuracy !== null);
    const chart = line(canvas, {
      xNumeric: true,
      xTitle: "labels trained on",
      yTitle: "held-out accuracy",
      percent: true,
      series: [{
        label: "accuracy",
        data: scored.map((r) => ({ x: r.n_train, y: r.metrics.accuracy })),
        counts: scored.map((r) => r.metrics.n_holdout ?? null),
      }],
    });
    // Labels are whole numbers counted from zero: no 7.5 on the axis when there is one run.
    chart.options.scales.x.beginAtZero = true;
    chart.options.scales.x.ticks.precision = 0;
    chart.update();
    return chart;
  }

  async function getJSON(url) {
    const res = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const data = await res.json().catch(() => null);
    if (!res.ok) throw new Error((data && data.error && data.error.message) || `${url} answered ${res.status}`);
    return data;
  }

  window.labelappCharts = { COLORS, pct, draw, line, bar, heatmap, modelRuns, learningCurve, getJSON };
})();
