// Treatment history: the drug picker fills the drug table's class and dose unit, and each trial form says, as the
// user types, whether the dose and duration make an adequate trial by the same table the API judges with
// (service/rules/trials.py); the API's verdict shown in the table after saving is the one that counts.
(function () {
  const data = document.getElementById("drug-table");
  const box = document.getElementById("medication-trials");
  if (!data || !box) return;
  const table = JSON.parse(data.textContent);
  const today = new Date(box.dataset.today + "T00:00:00Z");

  function days(from, to) { return Math.round((to - from) / 86400000); }
  function field(form, name) { return form.elements.namedItem(name); }

  function picked(form) {
    const drug = field(form, "drug").value.trim().toLowerCase();
    const entry = table.drugs[drug] || null;
    const cls = form.querySelector(".drug-class");
    if (cls) cls.disabled = !!entry;  // a listed drug's class comes from the table (another is refused)
    const unit = form.querySelector(".dose-unit");
    if (unit && entry && entry.unit) { unit.value = entry.unit; unit.readOnly = true; }
    else if (unit) unit.readOnly = false;
    return { drug, entry };
  }

  function trialVerdict(form) {
    const { drug, entry } = picked(form);
    if (!drug) return [];
    const lines = [];
    const aug = field(form, "augmentation").value === "true";
    if (!entry) lines.push(drug + " is not in the drug table: give its class; the dose needs manual review.");
    else {
      lines.push("Class: " + entry.drug_class + (entry.unit ? " · dose in " + entry.unit : ""));
      if (entry.role === "other" && !aug) lines.push("Not counted as an antidepressant trial.");
    }
    const dose = field(form, "daily_dose").value;
    const min = entry ? entry.min_dose : null;
    let doseOk = null;
    if (dose === "") lines.push("Dose not recorded.");
    else if (min === null) lines.push("No minimum effective dose on file: needs manual review.");
    else {
      doseOk = Number(dose) >= min;
      lines.push((doseOk ? "Adequate dose: " + dose + " ≥ " : "Dose below the minimum effective ") + min + " " +
                 (entry.unit || "mg/day") + ".");
    }
    let durOk = null;
    const start = field(form, "start_date").value;
    if (start) {
      const stop = field(form, "stop_date").value;
      const n = days(new Date(start + "T00:00:00Z"), stop ? new Date(stop + "T00:00:00Z") : today);
      durOk = n >= 7 * table.min_weeks;
      lines.push("Duration " + n + " days " + (durOk ? "≥" : "<") + " " + table.min_weeks + " weeks" +
                 (stop ? "." : " (ongoing, to today)."));
    }
    lines.push(doseOk && durOk ? "Adequate trial (dose and duration)." : "Not an adequate trial yet.");
    return lines;
  }

  function update(form) {
    const out = form.querySelector(".adequacy");
    if (!out) return;
    const lines = form.classList.contains("trial-form") ? trialVerdict(form) : (() => {
      const { drug, entry } = picked(form);
      if (!drug) return [];
      const cls = entry ? entry.drug_class : form.querySelector(".drug-class").value;
      // The same policy the API applies: a drug of unknown class follows the motor-threshold file's rule.
      const cns = cls ? table.cns_active_classes.includes(cls) : table.unknown_counts_as_cns;
      return [(entry ? "Class: " + cls : drug + " is not in the drug table: give its class.") +
              (cns ? " CNS-active: the motor threshold is re-determined after this change." : "")];
    })();
    out.textContent = "";
    for (const text of lines) {
      const p = document.createElement("div");
      p.textContent = text;
      if (/^Adequate trial/.test(text)) p.className = "ok";
      out.appendChild(p);
    }
  }

  for (const form of document.querySelectorAll("form.trial-form, form.change-form")) {
    form.addEventListener("input", () => update(form));
    form.addEventListener("change", () => update(form));
    update(form);
  }
})();
