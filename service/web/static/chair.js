// Live delivery progress from the session's server-sent events: bar, train n of N, pulses, time left.
(function () {
  const box = document.getElementById("progress");
  if (!box || !window.EventSource) return;
  const sessionId = box.dataset.session;
  const bar = box.querySelector(".bar > span");
  const field = (name) => box.querySelector('[data-field="' + name + '"]');
  const minsec = (s) => Math.floor(s / 60) + ":" + String(Math.round(s % 60)).padStart(2, "0");
  const ended = new Set(["completed", "interrupted", "aborted"]);
  const WORDS = { programming: "Programming the device", ready: "Device ready", delivering: "Delivering",
                  completed: "Completed", interrupted: "Interrupted", aborted: "Aborted" };
  // Time left counts down every second from the server's latest figure (ticks, not the wall clock, which a
  // frozen or adjusted clock could hold still); each new event sets it again.
  let left = null;
  let delivering = false;
  setInterval(() => {
    if (left === null || !delivering) return;
    left = Math.max(0, left - 1);
    field("left").textContent = minsec(left);
  }, 1000);
  const source = new EventSource("/api/v1/sessions/" + sessionId + "/progress");
  source.addEventListener("progress", (ev) => {
    const p = JSON.parse(ev.data);
    document.dispatchEvent(new CustomEvent("tms:live"));
    bar.style.width = p.percent + "%";
    box.querySelector(".bar").setAttribute("aria-valuenow", p.percent);
    field("percent").textContent = p.percent.toFixed(0) + "%";
    field("train").textContent = p.train + " of " + p.trains_planned;
    field("pulses").textContent = p.pulses_delivered + " / " + p.pulses_planned;
    left = p.seconds_left;
    delivering = p.status === "delivering";
    field("left").textContent = minsec(left);
    field("status").textContent = WORDS[p.status] || p.status;
    field("coil").textContent = p.coil_temp_c == null ? "—" : p.coil_temp_c.toFixed(1) + " °C";
    box.dataset.status = p.status;
    if (ended.has(p.status)) {
      source.close();
      field("status").textContent = (WORDS[p.status] || p.status) + (p.end_reason ? " (" + p.end_reason + ")" : "");
      setTimeout(() => window.location.reload(), 800);
    }
  });
  source.onerror = () => { field("status").textContent += " · reconnecting…"; };
})();

// A one-tap adverse event just recorded: a second tap on it asks first instead of silently adding another.
document.addEventListener("tms:done", (ev) => {
  const btn = ev.detail.el;
  if (!btn.closest || !btn.closest(".quick-ae")) return;
  const name = btn.textContent.replace(/\s*\(recorded.*\)\s*$/, "").trim();
  btn.dataset.recorded = "just now";
  btn.dataset.confirm = name + " was already recorded for this session just now. Record it again as a separate event?";
  if (!btn.querySelector(".recorded")) btn.insertAdjacentHTML("beforeend", ' <small class="recorded">(recorded)</small>');
});
