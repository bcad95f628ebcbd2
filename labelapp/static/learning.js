// The project page's active-learning card: the model-run chart (Chart.js through charts.js),
// "Retrain now" without leaving the card, and the retrain job's progress live where it was asked
// for; when the job ends, the story, the chart and the runs table are read again.
(() => {
  "use strict";
  const story = document.getElementById("al-story");
  if (!story) return;
  const { call, errorText, pollJob } = window.labelapp;
  const $ = (id) => document.getElementById(id);
  let chart = null;
  let curve = null;

  function fmt3(v) { return v === null || v === undefined ? "–" : Number(v).toFixed(3); }
  function when(iso) {
    const d = new Date(iso);
    const two = (n) => String(n).padStart(2, "0");
    return `${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
  }

  function drawRuns(runs) {
    const scored = runs.some((r) => r.metrics && r.metrics.accuracy !== undefined && r.metrics.accuracy !== null);
    $("model-runs-box").hidden = !scored;
    $("model-runs-empty").hidden = scored;
    if (chart) { chart.destroy(); chart = null; }
    if (scored && window.labelappCharts) chart = window.labelappCharts.modelRuns($("model-runs-chart"), runs);
    $("learning-curve-box").hidden = !scored;
    $("learning-curve-title").hidden = !scored;
    if (curve) { curve.destroy(); curve = null; }
    if (scored && window.labelappCharts) curve = window.labelappCharts.learningCurve($("learning-curve-chart"), runs);
    const table = $("model-runs-table");
    if (!table) return;
    table.hidden = !runs.length;
    const body = table.tBodies[0];
    body.replaceChildren();
    for (const r of runs.slice().reverse().slice(0, 8)) {
      const tr = document.createElement("tr");
      const m = r.metrics || {};
      const cells = [`#${r.id}`, when(r.created_at), r.strategy || "", r.n_train ?? "", fmt3(m.accuracy), fmt3(m.f1_macro)];
      cells.forEach((text, i) => {
        const td = document.createElement("td");
        td.textContent = String(text);
        if (i >= 3) td.className = "num";
        tr.append(td);
      });
      body.append(tr);
    }
  }

  async function loadRuns() {
    const res = await call(story.dataset.runsUrl, undefined, "GET");
    if (res.status === 200) drawRuns(res.data.model_runs);
  }

  async function loadStory() {
    const res = await call(story.dataset.url, undefined, "GET");
    if (res.status !== 200) return null;
    const s = res.data.sentences;
    $("al-now").textContent = s.now;
    $("al-queue").textContent = s.queue;
    $("al-next").textContent = s.next_retrain;
    return res.data;
  }

  function showJob(job) {
    const box = $("al-job");
    box.hidden = false;
    const pct = Math.round(100 * (job.progress || 0));
    $("al-job-bar").style.width = `${job.status === "done" ? 100 : pct}%`;
    let text = `Retrain job #${job.id} is ${job.status}`;
    if (job.status === "running") text += ` (${pct}%)`;
    if (job.message) text += `: ${job.message}`;
    if (job.status === "done" && job.result && job.result.model_run_id) {
      text = `Retrain job #${job.id} finished: model run #${job.result.model_run_id} now orders the queue.`;
    } else if (job.status === "failed") {
      text = `Retrain job #${job.id} failed: ${job.error || job.message || "see the job's error"}`;
    } else {
      text += ".";
    }
    $("al-job-text").textContent = text;
    box.classList.toggle("failed", job.status === "failed");
  }

  async function follow(url) {
    let last = null;
    try {
      last = await pollJob(url, showJob, 700);
    } catch (err) {
      $("al-job-text").textContent = String(err.message || err);
      return;
    }
    await Promise.all([loadStory(), loadRuns()]);
    showJob(last);
  }

  const form = $("retrain-form");
  if (form) {
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const button = $("retrain-now");
      button.disabled = true;
      try {
        const res = await call(story.dataset.retrainUrl);
        if (res.status !== 202 && res.status !== 200) {
          $("al-job").hidden = false;
          $("al-job-text").textContent = errorText(res.data, `The retrain did not start (${res.status}).`);
          return;
        }
        showJob(res.data);
        $("al-job").scrollIntoView({ block: "nearest", behavior: "smooth" });
        await loadStory();
        await follow(res.data.url);
      } catch (err) {
        $("al-job").hidden = false;
        $("al-job-text").textContent = "Cannot reach the server; the retrain was not started.";
      } finally {
        button.disabled = false;
      }
    });
  }

  loadRuns();
  const running = $("al-job").dataset.jobUrl;
  if (running) follow(running);
})();
