// The chair day keeps itself current: every few seconds it fetches this same page and swaps in the chair
// columns only (booking states, check-ins, who is in the chair, device status). Nothing else on the page is
// touched, so a form being filled (the day picker) keeps what was typed. No server-sent event stream covers
// the whole day (the session stream follows one delivery), hence a short poll.
(function () {
  const columns = document.querySelector(".chairs");
  if (!columns) return;
  const every = Number(columns.dataset.refreshSeconds || 5) * 1000;
  async function refresh() {
    if (document.hidden) return;
    let r;
    try {
      r = await fetch(window.location.href, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } });
    } catch (e) { return; }
    if (!r.ok || new URL(r.url).pathname !== window.location.pathname) return;  // signed out: idle.js handles it
    const fresh = new DOMParser().parseFromString(await r.text(), "text/html").querySelector(".chairs");
    if (fresh && fresh.innerHTML !== columns.innerHTML) {
      columns.innerHTML = fresh.innerHTML;
      columns.dataset.refreshedAt = String(Number(columns.dataset.refreshedAt || 0) + 1);
    }
  }
  setInterval(refresh, every);
})();
