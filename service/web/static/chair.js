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
  const source = new EventSource("/api/v1/sessions/" + sessionId + "/progress");
  source.addEventListener("progress", (ev) => {
    const p = JSON.parse(ev.data);
    document.dispatchEvent(new CustomEvent("tms:live"));
    bar.style.width = p.percent + "%";
    box.querySelector(".bar").setAttribute("aria-valuenow", p.percent);
    field("percent").textContent = p.percent.toFixed(0) + "%";
    field("train").textContent = p.train + " of " + p.trains_planned;
    field("pulses").textContent = p.pulses_delivered + " / " + p.pulses_planned;
    field("left").textContent = minsec(p.seconds_left);
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
