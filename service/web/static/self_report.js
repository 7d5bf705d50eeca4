// Patient mode: one question at a time, big answers. The tablet is signed out while the patient holds it, so
// the answers stay in this page's memory only (never in storage) until a technician signs in here; then they
// are posted to the assessments API and the technician's booking page opens with the score.
(function () {
  const root = document.getElementById("self-report");
  if (!root) return;
  const items = Array.from(root.querySelectorAll(".sr-item"));
  const done = document.getElementById("sr-done");
  const answers = items.map(() => undefined);
  let at = 0;

  // Back stays in the questionnaire: the page before it belongs to the technician (and needs their sign-in).
  history.pushState({ locked: true }, "", location.href);
  window.addEventListener("popstate", () => history.pushState({ locked: true }, "", location.href));

  function showAt(index) {
    at = index;
    items.forEach((el, i) => { el.hidden = i !== index; });
    done.hidden = index < items.length;
    const shown = items[index] || done;
    const focus = shown.querySelector('[aria-checked="true"]') || shown.querySelector("button, input");
    if (focus) focus.focus();
  }

  items.forEach((el, i) => {
    for (const btn of el.querySelectorAll(".sr-answer")) {
      btn.addEventListener("click", () => {
        for (const other of el.querySelectorAll(".sr-answer")) other.setAttribute("aria-checked", "false");
        btn.setAttribute("aria-checked", "true");
        answers[i] = btn.dataset.value === "" ? null : parseInt(btn.dataset.value, 10);
        showAt(i + 1);
      });
    }
    const back = el.querySelector(".sr-back");
    if (back) back.addEventListener("click", () => showAt(i - 1));
  });
  document.getElementById("sr-review").addEventListener("click", () => showAt(items.length - 1));

  const form = document.getElementById("sr-sign-in");
  const result = document.getElementById("sr-result");
  function say(text) { result.textContent = text; result.className = "result error"; result.hidden = false; }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const missing = answers.findIndex((a, i) => a === undefined && items[i].dataset.required === "yes");
    if (missing >= 0) { showAt(missing); return; }
    const booking = root.dataset.booking;
    const login = await fetch("/login", {
      method: "POST", credentials: "same-origin",
      body: new URLSearchParams({ username: form.username.value, password: form.password.value,
                                  next: "/chair/bookings/" + booking }),
    });
    form.password.value = "";
    if (!login.ok || new URL(login.url).pathname === "/login") {
      say(login.status === 401 ? "Wrong username or password." : "Sign-in was refused; try again shortly.");
      return;
    }
    const r = await fetch("/api/v1/patients/" + root.dataset.patient + "/assessments", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-Requested-With": "fetch" },
      body: JSON.stringify({ instrument: root.dataset.instrument, administered_at: "now",
                             course_id: parseInt(root.dataset.course, 10),
                             items: answers.map((a) => (a === undefined ? null : a)) }),
    });
    const data = await r.json().catch(() => null);
    if (!r.ok) {
      say("The answers were not recorded: " + ((data && data.error && data.error.message) || r.status) + ".");
      return;
    }
    location.replace("/chair/bookings/" + booking + "?self_report=" + data.id + "#self-reports");
  });
})();
