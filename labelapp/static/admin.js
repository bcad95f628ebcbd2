// The label-set table on the project page: move a label up or down before saving the order.
(function () {
  "use strict";
  const table = document.getElementById("labels-table");
  if (!table) return;
  table.addEventListener("click", (event) => {
    const button = event.target.closest("button.move");
    if (!button) return;
    const row = button.closest("tr");
    if (button.dataset.move === "up" && row.previousElementSibling) {
      row.parentNode.insertBefore(row, row.previousElementSibling);
    } else if (button.dataset.move === "down" && row.nextElementSibling) {
      row.parentNode.insertBefore(row.nextElementSibling, row);
    }
    button.focus();
  });
  window.labelapp.enableScripted(table);
})();

// The import wizard's job page: follow the check or import job (the shared poller in page.js),
// then load the page again, which shows the report or each problem.
(function () {
  "use strict";
  const box = document.getElementById("import-job");
  if (!box || !["queued", "running"].includes(box.dataset.status)) return;
  const $ = (id) => document.getElementById(id);
  const show = (job) => {
    $("job-status").textContent = job.status;
    $("job-message").textContent = job.message || "";
    $("job-bar").style.width = `${(100 * job.progress).toFixed(1)}%`;
    box.dataset.status = job.status;
  };
  window.labelapp.pollJob(box.dataset.jobUrl, show)
    .then(() => { window.location.reload(); })
    .catch((err) => { $("job-note").textContent = err.message; });
})();
