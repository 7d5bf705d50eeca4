// Scheduling forms: a booking's day and time are the clinic's wall clock, whatever the tablet's own zone is;
// rows of a weekly pattern are numbered as the API's lists; a re-plan preview is shown before anything changes.
(function () {
  function parts(ms, tz) {
    const fmt = new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit",
      day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
    const got = {};
    for (const p of fmt.formatToParts(new Date(ms))) got[p.type] = Number(p.value);
    return got;
  }
  function offset(ms, tz) {
    const p = parts(ms, tz);
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - ms;
  }
  // The instant at which the clinic's clock shows this day and time (two passes settle a DST change).
  function clinicInstant(day, time, tz) {
    const [y, m, d] = day.split("-").map(Number);
    const [hh, mm] = time.split(":").map(Number);
    const wall = Date.UTC(y, m - 1, d, hh, mm);
    let guess = wall;
    for (let i = 0; i < 3; i++) guess = wall - offset(guess, tz);
    return new Date(guess);
  }
  // "Tuesday 24 November 2026 at 10:30", as the page's server-rendered dates read.
  function spoken(instant, tz) {
    const got = {};
    const fmt = new Intl.DateTimeFormat("en-GB", { timeZone: tz, weekday: "long", day: "2-digit", month: "long",
      year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    for (const p of fmt.formatToParts(instant)) got[p.type] = p.value;
    return got.weekday + " " + got.day + " " + got.month + " " + got.year + " at " + got.hour + ":" + got.minute;
  }

  function syncBooking(form) {
    const day = form.querySelector("[data-local-date]").value;
    const time = form.querySelector("[data-local-time]").value;
    const hidden = form.querySelector('input[name="start_at"]');
    const shown = form.querySelector("[data-when]");
    if (!day || !time) { hidden.value = ""; if (shown) shown.textContent = ""; return; }
    const instant = clinicInstant(day, time, form.dataset.tz);
    hidden.value = instant.toISOString();
    if (shown) shown.textContent = "Books " + spoken(instant, form.dataset.tz) + " (clinic time, " + form.dataset.tz + ").";
  }

  // Only ticked rows are sent, numbered 0.. so the API gets a list without holes.
  function numberRows(form) {
    const prefix = form.dataset.rows;
    let n = 0;
    for (const row of form.querySelectorAll("[data-row]")) {
      const on = row.querySelector("[data-row-on]");
      const used = !on || on.checked;
      for (const el of row.querySelectorAll("[data-field]")) {
        el.disabled = !used;
        if (used) el.name = prefix + "." + n + "." + el.dataset.field;
      }
      if (used) n += 1;
    }
  }

  function describe(plan, tz) {
    const lines = [];
    const moved = plan.proposed.length ? plan.proposed : plan.booked;
    for (const b of moved) lines.push("Session " + b.sequence + ": " + spoken(new Date(b.start_at), tz));
    for (const u of plan.unplaced) lines.push("Session " + u.sequence + " cannot be placed: " + u.reasons.join("; "));
    for (const w of plan.warnings) lines.push("Warning: " + w);
    if (plan.cancelled.length) lines.push(plan.cancelled.length + " booking(s) would be released.");
    return lines.length ? lines : ["Nothing would change."];
  }

  async function preview(form) {
    const out = document.getElementById(form.dataset.out);
    out.hidden = false;
    try {
      const plan = await window.tms.api("POST", form.dataset.previewApi, { dry_run: true });
      out.className = "result ok";
      out.replaceChildren(...describe(plan, form.dataset.tz).map((t) => {
        const li = document.createElement("li"); li.textContent = t; return li;
      }));
    } catch (e) {
      out.className = "result error";
      out.textContent = e.message;
    }
  }

  for (const form of document.querySelectorAll("form[data-tz] [data-local-date]")) {
    const f = form.form;
    f.addEventListener("input", () => syncBooking(f));
    f.addEventListener("submit", () => syncBooking(f));  // runs before app.js posts the form (it listens on document)
    syncBooking(f);
  }
  for (const form of document.querySelectorAll("form[data-rows]")) {
    form.addEventListener("submit", () => numberRows(form));
  }
  for (const form of document.querySelectorAll("form[data-preview-api]")) {
    form.addEventListener("submit", (ev) => { ev.preventDefault(); ev.stopPropagation(); preview(form); });
  }
})();
