// Batch signing in the review queue: the selected rows become one request to the batch endpoint, which signs
// each record on its own with its own meaning, all or none. The API decides whether the username is needed
// (the first signing of a sign-in session); this script only collects the rows and shows the answer.
(function () {
  const form = document.querySelector("form[data-batch-sign]");
  if (!form) return;
  const picks = () => Array.from(form.querySelectorAll("input.batch-pick"));
  const count = document.getElementById("batch-count");
  const all = document.getElementById("batch-all");
  function recount() { count.textContent = String(picks().filter((p) => p.checked).length); }
  form.addEventListener("change", (ev) => {
    if (ev.target === all) picks().forEach((p) => { p.checked = all.checked; });
    recount();
  });

  function show(text, ok) {
    const out = form.querySelector(".result");
    out.textContent = text;
    out.className = "result " + (ok ? "ok" : "error");
    out.hidden = false;
  }
  function mark(fields) {
    for (const old of form.querySelectorAll(".field-error")) old.remove();
    for (const d of fields) {
      const el = form.elements.namedItem(d.field);
      if (!el) continue;
      const note = document.createElement("span");
      note.className = "field-error";
      note.setAttribute("role", "alert");
      note.textContent = window.tms.plain(d.message);
      el.setAttribute("aria-invalid", "true");
      (el.closest("label") || el).insertAdjacentElement("afterend", note);
    }
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const rows = picks().filter((p) => p.checked).map((p) => p.closest("tr.batch-row"));
    if (!rows.length) { show("Select at least one record to sign.", false); return; }
    const body = {
      password: form.elements.namedItem("password").value,
      items: rows.map((r) => ({
        subject: r.dataset.subject, subject_id: parseInt(r.dataset.subjectId, 10),
        meaning: r.querySelector("select.batch-meaning").value,
      })),
    };
    const name = form.elements.namedItem("username");
    if (name) body.username = name.value;
    try {
      await window.tms.api("POST", form.dataset.batchSign, body);
      window.location.reload();
    } catch (e) {
      // A refused password ends the signing session: the next attempt needs the username again, so the
      // field appears without a reload.
      if ((e.fields || []).some((d) => d.field === "username" || d.field === "password")
          && !form.elements.namedItem("username")) {
        const label = document.createElement("label");
        label.textContent = "Username ";
        const input = document.createElement("input");
        Object.assign(input, { name: "username", required: true, autocomplete: "username" });
        label.appendChild(input);
        form.querySelector(".inline-form").prepend(label);
      }
      mark(e.fields || []);
      form.elements.namedItem("password").value = "";
      show("Nothing was signed. " + e.message, false);
    }
  });
  recount();
})();
