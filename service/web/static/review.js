// Reviewer pages: the dashboard's filters, search, sorting and pages (the server answers each
// as a URL; fetched and swapped in place here), and the entry page's timeline (a click seeks
// the player).
"use strict";
(function () {
  const form = document.getElementById("filters");
  if (form) {
    // Every filter, search, sort and page is a URL the server answers; here the next state is
    // fetched and swapped in place (the search box keeps its focus) and the address follows it.
    let timer = null, seq = 0;
    const base = form.getAttribute("action");
    function cancel() { clearTimeout(timer); timer = null; }
    function urlOfForm() {
      const params = new URLSearchParams();
      for (const [k, v] of new FormData(form)) if (v) params.append(k, v);
      const qs = params.toString();
      return qs ? `${base}?${qs}` : base;
    }
    async function show(url, push) {
      const mine = ++seq;
      document.body.dataset.loading = "1";
      try {
        const resp = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
        if (!resp.ok) { location.href = url; return; }
        const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
        if (mine !== seq) return;  // a newer request went out meanwhile
        document.getElementById("results").replaceWith(doc.getElementById("results"));
        for (const id of ["f-verdict", "f-warning", "f-decision"]) {
          document.getElementById(id).innerHTML = doc.getElementById(id).innerHTML;  // the counts
        }
        const hidden = doc.getElementById("filters").querySelectorAll("input[type=hidden]");
        for (const h of form.querySelectorAll("input[type=hidden]")) h.remove();
        for (const h of hidden) form.prepend(h);
        const lang = document.getElementById("lang");
        const other = doc.getElementById("lang");
        if (lang && other) lang.setAttribute("href", other.getAttribute("href"));
        if (push) history.pushState(null, "", url); else history.replaceState(null, "", url);
      } finally {
        if (mine === seq && timer === null) delete document.body.dataset.loading;  // no search waiting either
      }
    }
    form.addEventListener("submit", (ev) => { ev.preventDefault(); cancel(); show(urlOfForm(), false); });
    for (const id of ["f-verdict", "f-warning", "f-decision"]) {
      document.getElementById(id).addEventListener("change", () => { cancel(); show(urlOfForm(), false); });
    }
    document.getElementById("search").addEventListener("input", () => {
      document.body.dataset.loading = "1";
      cancel();
      timer = setTimeout(() => { timer = null; show(urlOfForm(), false); }, 250);
    });
    document.addEventListener("click", (ev) => {
      const a = ev.target.closest("#entries thead a, #detail-sorts a, #pager a");
      if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
      ev.preventDefault();
      cancel();
      const url = new URL(a.href);
      if (a.closest("thead, #detail-sorts")) {  // a sort keeps what the form says now (a search may not be sent yet)
        for (const name of ["q", "verdict", "warning", "decision"]) {
          const v = form.elements[name].value;
          if (v) url.searchParams.set(name, v); else url.searchParams.delete(name);
        }
      }
      show(url.pathname + url.search, true);
    });
    window.addEventListener("popstate", () => { location.reload(); });
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
