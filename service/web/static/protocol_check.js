// The course order shows, while the protocol and intensity are chosen, what the safety table says about them: the
// same check the API applies (POST /api/v1/protocols/validate), so the page never judges a dose on its own.
(function () {
  const form = document.getElementById("course-order");
  const out = document.getElementById("safety-check");
  if (!form || !out || !window.tms) return;
  let asked = 0;

  async function check() {
    const chosen = form.querySelector("input[name=protocol_id]:checked");
    const intensity = form.elements.namedItem("intensity_pct_mt").value;
    if (!chosen || intensity === "") { out.hidden = true; return; }
    const body = Object.assign({}, JSON.parse(chosen.dataset.params), { intensity_pct_mt: Number(intensity) });
    for (const k of Object.keys(body)) { if (body[k] === null) delete body[k]; }
    const mine = ++asked;
    out.hidden = false;
    out.className = "small";
    out.textContent = "Checking the safety table…";
    try {
      const r = await window.tms.api("POST", "/api/v1/protocols/validate", body);
      if (mine !== asked) return;  // a newer choice has been made meanwhile
      out.className = "small " + (r.ok ? "ok" : "error");
      out.textContent = r.ok ? "Within the safety table: these parameters may be ordered."
        : "Outside the safety table (ordering is refused without a signed override): "
          + r.violations.map((v) => window.tms.plain(v.message)).join(" ");
    } catch (e) {
      if (mine !== asked) return;
      out.className = "small error";
      out.textContent = e.message;
    }
  }

  form.addEventListener("change", (ev) => { if (ev.target.name === "protocol_id" || ev.target.name === "intensity_pct_mt") check(); });
  form.elements.namedItem("intensity_pct_mt").addEventListener("input", check);
  check();
})();
