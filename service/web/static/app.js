// Pages act only through the API (same cookie, plus the X-Requested-With header the API requires for
// cookie writes), so every action a page offers is checked by the API exactly as for any other client.
(function () {
  async function api(method, url, body) {
    const r = await fetch(url, {
      method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-Requested-With": "fetch" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (r.status === 401 && window.tms.signedOut) {
      window.tms.signedOut();  // keeps unsent forms, then signs in again (never leaves a live delivery)
    }
    if (!r.ok) {
      const err = data && data.error;
      const failure = new Error(err ? plain(err.message) : "The service answered " + r.status + ".");
      failure.fields = err && Array.isArray(err.details) ? err.details.filter((d) => d.field && d.message) : [];
      throw failure;
    }
    return data;
  }

  // The same table as service/web/wording.py: validator wording becomes a sentence.
  const RULES = [
    [/^Field required$/, "This is required."],
    [/^Input should be greater than or equal to (.+)$/, "Must be at least $1."],
    [/^Input should be greater than (.+)$/, "Must be more than $1."],
    [/^Input should be less than or equal to (.+)$/, "Must be at most $1."],
    [/^Input should be less than (.+)$/, "Must be less than $1."],
    [/^String should have at least (\d+) characters?$/, "Write at least $1 characters."],
    [/^String should have at most (\d+) characters?$/, "Keep it to $1 characters or fewer."],
    [/^Input should be a valid (integer|number).*$/, "Enter a number."],
    [/^Input should be a valid date.*$/, "Enter a date (YYYY-MM-DD)."],
    [/^Input should be a valid datetime.*$/, "Enter a date and time."],
    [/^Input should be (.+)$/, "Choose one of: $1."],
    [/^Extra inputs are not permitted$/, "This field is not accepted here."],
  ];
  function plain(message) {
    let text = String(message).trim().replace(/^(Value error|Assertion failed), /, "");
    for (const [pattern, words] of RULES) { if (pattern.test(text)) { text = text.replace(pattern, words); break; } }
    text = text.charAt(0).toUpperCase() + text.slice(1);
    return /[.!?]$/.test(text) ? text : text + ".";
  }

  // A refusal naming a field is shown next to that field, in plain words; the rest goes to the form's summary.
  function markFields(form, fields) {
    for (const old of form.querySelectorAll(".field-error")) old.remove();
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    const unplaced = [];
    for (const d of fields || []) {
      const el = form.elements.namedItem(d.field) || form.querySelector('[name$=".' + d.field + '"]');
      const target = el && (el.length && !el.tagName ? el[0] : el);
      if (!target) { unplaced.push(d); continue; }
      const note = document.createElement("span");
      note.className = "field-error";
      note.setAttribute("role", "alert");
      note.textContent = plain(d.message);
      target.setAttribute("aria-invalid", "true");
      (target.closest("label, fieldset") || target).insertAdjacentElement("afterend", note);
    }
    return unplaced;
  }

  function setPath(obj, name, value) {
    const parts = name.split(".");
    let cur = obj;
    // "units.0.cpt": a numeric part makes the level above it a list.
    parts.slice(0, -1).forEach((p, i) => { cur = cur[p] = cur[p] || (/^\d+$/.test(parts[i + 1]) ? [] : {}); });
    cur[parts[parts.length - 1]] = value;
  }

  function convert(el) {
    const v = el.value;
    if (el.dataset.type === "int") return v === "" ? null : parseInt(v, 10);
    if (el.dataset.type === "number") return v === "" ? null : Number(v);
    if (el.dataset.type === "bool") return v === "true";
    return v;
  }

  // An amendment form (data-amend) sends the reason and only what the user changed (a cleared field as null), so
  // the API records exactly the amended values; fields sharing a data-group (a window, a phase list) go together.
  function changed(el) {
    if (el.tagName === "SELECT") {
      const initial = Array.from(el.options).findIndex((o) => o.defaultSelected);
      return el.selectedIndex !== Math.max(initial, 0);  // with none marked, the first option is the initial one
    }
    if (el.type === "radio" || el.type === "checkbox") return el.checked !== el.defaultChecked;
    return el.value !== el.defaultValue;
  }
  function amendSkips(form) {
    const groups = new Set();
    for (const el of form.elements) { if (el.name && el.dataset.group && changed(el)) groups.add(el.dataset.group); }
    return (el) => el.name !== "reason" && !changed(el) && !groups.has(el.dataset.group);
  }

  function formBody(form) {
    const body = {};
    const skip = "amend" in form.dataset ? amendSkips(form) : () => false;
    for (const el of form.elements) {
      if (!el.name || el.disabled || skip(el)) continue;
      if ("amend" in form.dataset && el.value === "" && el.type !== "radio") { setPath(body, el.name, null); continue; }
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) continue;
      if (el.value === "" && "optional" in el.dataset) continue;
      if (el.dataset.type === "list" || el.dataset.type === "int-list") {
        const parts = el.name.split(".");
        const key = parts[parts.length - 1];
        const value = el.dataset.type === "list" ? el.value : (el.value === "" ? null : parseInt(el.value, 10));
        (body[key] = body[key] || []).push(value);
        continue;
      }
      setPath(body, el.name, convert(el));
    }
    return body;
  }

  function show(target, text, ok) {
    if (!target) { alert(text); return; }
    target.textContent = text;
    target.className = "result " + (ok ? "ok" : "error");
    target.hidden = false;
  }

  async function act(el, body) {
    const out = el.querySelector(".result") || document.getElementById(el.dataset.out || "flash");
    if (el.dataset.confirm && !window.confirm(el.dataset.confirm)) return;
    try {
      const data = await api(el.dataset.method || "POST", el.dataset.api, body);
      if (el.tagName === "FORM" && window.tms.drafts) window.tms.drafts.clear(el);
      document.dispatchEvent(new CustomEvent("tms:done", { detail: { el, data } }));
      const then = el.dataset.then;
      if (then === "reload") { window.location.reload(); return; }
      if (then) { window.location = then.replace("{id}", data && data.id); return; }
      show(out, el.dataset.done || "Saved.", true);
    } catch (e) {
      if (el.tagName === "FORM" && e.fields && e.fields.length) {
        const rest = markFields(el, e.fields);
        const names = e.fields.map((d) => d.field.split(".").pop().replace(/_/g, " "));
        const summary = rest.map((d) => plain(d.message)).join(" ");
        show(out, "Nothing was saved: correct the marked fields (" + names.join(", ") + "). " + summary, false);
        return;
      }
      show(out, e.message, false);
    }
  }

  document.addEventListener("submit", (ev) => {
    const form = ev.target;
    if (!form.dataset.api) { if (window.tms.drafts) window.tms.drafts.clear(form); return; }
    ev.preventDefault();
    act(form, formBody(form));
  });
  document.addEventListener("click", (ev) => {
    const btn = ev.target.closest("button[data-api]");
    if (!btn || btn.form) return;
    ev.preventDefault();
    const body = btn.dataset.body ? JSON.parse(btn.dataset.body) : {};
    act(btn, body);
  });
  // A page brought back from the back-forward cache is reloaded, so the server decides again whether the
  // caller may see it (after patient mode signed the technician out, it may not).
  window.addEventListener("pageshow", (ev) => { if (ev.persisted) window.location.reload(); });
  window.tms = Object.assign(window.tms || {}, { api, plain });
})();
