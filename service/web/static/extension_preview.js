// The extension's plan before it is booked: the same request with dry_run, which the API answers without
// changing anything (sessions it would book, those it cannot place and why, warnings about the authorization).
(function () {
  const form = document.getElementById("course-extension");
  const button = document.getElementById("extension-preview");
  const out = document.getElementById("extension-plan");
  if (!form || !button || !out || !window.tms) return;

  function body() {
    const phases = [];
    for (const el of form.querySelectorAll("input[name^='phases.']")) {
      const [, n, key] = el.name.split(".");
      phases[n] = phases[n] || {};
      phases[n][key] = key === "authorized_sessions" ? parseInt(el.value, 10) : el.value;
    }
    return { reason: form.elements.namedItem("reason").value || "preview of the extension", dry_run: true, phases };
  }

  function line(text, cls) {
    const div = document.createElement("div");
    div.textContent = text;
    if (cls) div.className = cls;
    out.appendChild(div);
  }

  button.addEventListener("click", async () => {
    out.hidden = false;
    out.textContent = "";
    try {
      const r = await window.tms.api("POST", form.dataset.api, body());
      const plan = r.plan;
      line(plan.proposed.length + " session(s) would be booked, from " +
           (plan.proposed.length ? plan.proposed[0].start_at.slice(0, 10) : "—") + ".");
      for (const u of plan.unplaced) line("Not placed: session " + u.sequence + " (" + u.wanted_date + "): " +
                                          u.reasons.join("; "), "missing");
      for (const w of plan.warnings) line(window.tms.plain(w), "missing");
    } catch (e) {
      line(e.message, "error");
    }
  });
})();
