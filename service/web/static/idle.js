// Sign-out that respects work. Input on the page, and a delivery live on it, count as activity: the page
// tells the service with a keep-alive call (which refreshes the session's last-seen time), at most once a
// minute. Only a page with neither signs out, and it keeps any unsent form (drafts.js) for after sign-in.
// A page with a live delivery never navigates away: its Stop button stays on screen whatever happens.
(function () {
  const idle = Number(document.body.dataset.idleSeconds || 0);
  if (!idle) return;
  const PING_MS = Math.min(60, idle / 3) * 1000;
  const warnAt = Math.max(idle - 60, idle * 0.8);
  const banner = document.getElementById("idle-warning");
  const left = document.getElementById("idle-left");
  const ENDED = ["completed", "interrupted", "aborted"];
  let last = Date.now();
  let told = Date.now();  // the last time the service heard from this page
  let signedOut = false;

  function liveDelivery() {
    const box = document.getElementById("progress");
    return !!box && !ENDED.includes(box.dataset.status);
  }

  function backToLogin() {
    if (window.tms && window.tms.drafts) window.tms.drafts.saveAll();
    const here = window.location.pathname + window.location.search;
    window.location = "/login?expired=1&next=" + encodeURIComponent(here);
  }

  function signedOutHere() {
    signedOut = true;
    if (!liveDelivery()) { backToLogin(); return; }
    // Never take the Stop button away: say so, and offer sign-in in another tab.
    const lost = document.getElementById("session-lost");
    if (lost) lost.hidden = false;
  }

  function keepAlive() {
    told = Date.now();
    return fetch("/api/v1/auth/keep-alive", {
      method: "POST", credentials: "same-origin", headers: { "X-Requested-With": "fetch" },
    }).then((r) => { if (r.status === 401) signedOutHere(); }).catch(() => {});
  }

  function activity() {
    last = Date.now();
    banner.hidden = true;
    if (!signedOut && Date.now() - told >= PING_MS) keepAlive();
  }

  for (const type of ["keydown", "input", "pointerdown", "touchstart", "wheel"]) {
    document.addEventListener(type, activity, { capture: true, passive: true });
  }
  document.addEventListener("tms:live", activity);
  document.getElementById("idle-stay").addEventListener("click", activity);
  setInterval(() => {
    if (liveDelivery()) activity();
    const idleFor = (Date.now() - last) / 1000;
    if (idleFor >= idle) { if (!signedOut) signedOutHere(); return; }
    if (idleFor >= warnAt) { banner.hidden = false; left.textContent = Math.ceil(idle - idleFor); }
  }, 1000);
  window.tms = Object.assign(window.tms || {}, { signedOut: signedOutHere });
})();
