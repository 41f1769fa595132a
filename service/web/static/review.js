// Reviewer pages: the dashboard's filters, search and sorting (all in the browser, on the
// rows the server rendered), and the entry page's timeline (a click seeks the player).
"use strict";
(function () {
  const table = document.getElementById("entries");
  if (table) {
    const en = table.dataset.lang === "en";
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    const $ = (id) => document.getElementById(id);
    const count = $("count");
    const state = { key: null, dir: 1 };
    function keep(tr) {
      const q = $("search").value.trim().toLowerCase();
      const v = $("f-verdict").value, w = $("f-warning").value, d = $("f-decision").value;
      const warns = tr.dataset.warnings ? tr.dataset.warnings.split(" ") : [];
      if (q && !tr.dataset.name.includes(q)) return false;
      if (v && tr.dataset.verdict !== v) return false;
      if (w === "none" && warns.length) return false;
      if (w === "any" && !warns.length) return false;
      if (w && w !== "none" && w !== "any" && !warns.includes(w)) return false;
      if (d && tr.dataset.decision !== d) return false;
      return true;
    }
    function apply() {
      let shown = 0;
      for (const tr of rows) { const k = keep(tr); tr.hidden = !k; if (k) shown++; }
      const total = rows.length;
      count.textContent = en ? `${shown} of ${total} entries` : `共 ${total} 件，显示 ${shown} 件`;
    }
    const numeric = { size: 1, duration: 1 };
    const order = { verdict: ["fail", "error", "warn", "pass", "pending"], decision: ["none", "needs_fix", "reject", "accept"] };
    function value(tr, key) {
      if (numeric[key]) return parseFloat(tr.dataset[key]);
      if (order[key]) return order[key].indexOf(tr.dataset[key]);
      if (key === "warnings") return tr.dataset.warnings ? tr.dataset.warnings.split(" ").length : 0;
      return tr.dataset[key] || "";
    }
    function sortBy(key) {
      state.dir = state.key === key ? -state.dir : 1;
      state.key = key;
      rows.sort((a, b) => {
        const x = value(a, key), y = value(b, key);
        return (x < y ? -1 : x > y ? 1 : 0) * state.dir;
      });
      for (const tr of rows) body.appendChild(tr);
      for (const th of table.tHead.rows[0].cells) {
        th.classList.toggle("asc", th.dataset.sort === key && state.dir === 1);
        th.classList.toggle("desc", th.dataset.sort === key && state.dir === -1);
      }
    }
    for (const th of table.tHead.rows[0].cells) {
      if (th.dataset.sort) th.addEventListener("click", () => sortBy(th.dataset.sort));
    }
    for (const id of ["search", "f-verdict", "f-warning", "f-decision"]) {
      $(id).addEventListener("input", apply);
      $(id).addEventListener("change", apply);
    }
    apply();
  }

  const player = document.getElementById("player");
  if (player) {
    const line = document.getElementById("timeline");
    const heads = document.querySelectorAll("#timeline .playhead");
    document.addEventListener("click", (ev) => {
      const b = ev.target.closest("[data-start]");
      if (!b) return;
      ev.preventDefault();
      player.currentTime = parseFloat(b.dataset.start);
      player.focus();
    });
    player.addEventListener("timeupdate", () => {
      const d = player.duration || parseFloat(line.dataset.duration) || 0;
      if (d) for (const h of heads) h.style.left = `${Math.min(100, (player.currentTime / d) * 100)}%`;
    });
  }
})();
