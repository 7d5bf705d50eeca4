// Unsent forms survive a forced sign-in: every field typed into is kept in this tab's sessionStorage,
// keyed by page and form, restored when the page opens again, and dropped once the form is sent.
// Passwords are never kept; forms marked data-no-draft (sign-in) are left alone.
(function () {
  const PREFIX = "draft:" + window.location.pathname + window.location.search + ":";

  function forms() {
    // Forms that write: sent through the API by app.js (data-api), or posted to the page's server.
    return Array.from(document.forms).filter(
      (f) => !("noDraft" in f.dataset) && ("api" in f.dataset || f.method === "post"));
  }
  function keyOf(form) { return PREFIX + (form.id || forms().indexOf(form)); }
  function kept(el) { return el.name && el.type !== "password" && el.type !== "hidden" && !el.disabled; }

  function save(form) {
    const values = {};
    let typed = false;
    for (const el of form.elements) {
      if (!kept(el)) continue;
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked) { (values[el.name] = values[el.name] || []).push(el.value); typed = true; }
      } else { values[el.name] = el.value; typed = typed || el.value !== el.defaultValue; }
    }
    if (typed) sessionStorage.setItem(keyOf(form), JSON.stringify(values));
  }

  function restore(form) {
    const raw = sessionStorage.getItem(keyOf(form));
    if (!raw) return false;
    const values = JSON.parse(raw);
    for (const el of form.elements) {
      if (!kept(el) || !(el.name in values)) continue;
      if (el.type === "radio" || el.type === "checkbox") el.checked = values[el.name].includes(el.value);
      else el.value = values[el.name];
    }
    const details = form.closest("details");
    if (details) details.open = true;
    return true;
  }

  function clear(form) { sessionStorage.removeItem(keyOf(form)); }

  document.addEventListener("input", (ev) => { const f = ev.target.form; if (f && forms().includes(f)) save(f); });
  document.addEventListener("change", (ev) => { const f = ev.target.form; if (f && forms().includes(f)) save(f); });
  const restored = forms().filter(restore);
  if (restored.length) {
    const flash = document.getElementById("flash");
    flash.textContent = "Restored what you had typed before signing in again. Check it, then send it.";
    flash.className = "result ok";
    flash.hidden = false;
  }
  window.tms = Object.assign(window.tms || {}, {
    drafts: { saveAll: () => forms().forEach(save), clear },
  });
})();
