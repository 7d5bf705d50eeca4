// Shows the Beam F3 position the API computed (app.js sends the form and announces the answer with tms:done).
document.addEventListener("tms:done", (ev) => {
  if (ev.detail.el.id !== "beam-f3" || !ev.detail.data) return;
  const out = document.getElementById("beam-f3-position");
  const d = ev.detail.data;
  out.textContent = "F3: X " + d.x_cm.toFixed(1) + " cm, Y " + d.y_cm.toFixed(1) + " cm. " + (d.note || "");
  out.hidden = false;
});
