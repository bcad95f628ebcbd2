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
})();

// The import wizard: while the import runs, show that it does (the button cannot be pressed twice).
(function () {
  "use strict";
  const form = document.getElementById("wizard-import");
  if (!form) return;
  form.addEventListener("submit", () => {
    form.querySelector("button[type=submit]").disabled = true;
    form.querySelectorAll(".wizard-progress, .progress-note").forEach((el) => { el.hidden = false; });
  });
})();
