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
      let msg = err ? err.message : "HTTP " + r.status;
      if (err && Array.isArray(err.details) && err.details.length && err.details[0].message) {
        msg = err.details.map(d => (d.field ? d.field + ": " : "") + d.message).join("; ");
      }
      throw new Error(msg);
    }
    return data;
  }

  function setPath(obj, name, value) {
    const parts = name.split(".");
    let cur = obj;
    for (const p of parts.slice(0, -1)) { cur = cur[p] = cur[p] || {}; }
    cur[parts[parts.length - 1]] = value;
  }

  function convert(el) {
    const v = el.value;
    if (el.dataset.type === "int") return v === "" ? null : parseInt(v, 10);
    if (el.dataset.type === "number") return v === "" ? null : Number(v);
    if (el.dataset.type === "bool") return v === "true";
    return v;
  }

  function formBody(form) {
    const body = {};
    for (const el of form.elements) {
      if (!el.name || el.disabled) continue;
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) continue;
      if (el.value === "" && "optional" in el.dataset) continue;
      if (el.dataset.type === "list") {
        const parts = el.name.split(".");
        const key = parts[parts.length - 1];
        (body[key] = body[key] || []).push(el.value);
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
      const then = el.dataset.then;
      if (then === "reload") { window.location.reload(); return; }
      if (then) { window.location = then.replace("{id}", data && data.id); return; }
      show(out, el.dataset.done || "Saved.", true);
    } catch (e) { show(out, e.message, false); }
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
  window.tms = Object.assign(window.tms || {}, { api });
})();
