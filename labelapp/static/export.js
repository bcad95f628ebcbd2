// The export page: show the custom-plan field when asked for, and follow a running export job.
(() => {
  "use strict";
  const augment = document.getElementById("augment");
  const custom = document.getElementById("augment-json-label");
  if (augment && custom) {
    const toggle = () => { custom.hidden = augment.value !== "custom"; };
    augment.addEventListener("change", toggle);
    toggle();
  }
  const box = document.getElementById("export-job");
  if (!box || !["queued", "running"].includes(box.dataset.status)) return;
  const $ = (id) => document.getElementById(id);
  const result = $("job-result");
  const show = (job) => {
    $("job-status").textContent = job.status;
    $("job-message").textContent = job.message || "";
    $("job-bar").style.width = `${(100 * job.progress).toFixed(1)}%`;
    box.dataset.status = job.status;
  };
  window.labelapp.pollJob(box.dataset.jobUrl, show).then((job) => {
    if (job.status === "done") {
      result.textContent = `Version ${job.result.version} is ready; loading…`;
      window.location.replace(`${window.location.pathname}?job=${job.id}`);
    } else {
      const err = document.createElement("span");
      err.className = "error-text";
      err.textContent = job.error;
      result.replaceChildren(err);
    }
  }).catch((err) => { result.textContent = err.message; });
})();
