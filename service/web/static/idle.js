// Warn before the server-side idle timeout signs the user out, and offer to stay signed in.
(function () {
  const idle = Number(document.body.dataset.idleSeconds || 0);
  if (!idle) return;
  const warnAt = Math.max(idle - 60, idle * 0.8);
  const banner = document.getElementById("idle-warning");
  const left = document.getElementById("idle-left");
  let last = Date.now();
  const touch = () => { last = Date.now(); banner.hidden = true; };
  document.getElementById("idle-stay").addEventListener("click", () => {
    fetch("/api/v1/auth/me", { credentials: "same-origin" }).then(touch);
  });
  setInterval(() => {
    const idleFor = (Date.now() - last) / 1000;
    if (idleFor >= idle) { window.location = "/login?expired=1"; return; }
    if (idleFor >= warnAt) { banner.hidden = false; left.textContent = Math.ceil(idle - idleFor); }
  }, 1000);
})();
