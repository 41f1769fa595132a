// The sign-in page: a sign-in link an organiser copied (…/review/login?next=…#key=mck_…) carries
// the key in the fragment, which never reaches a server or a Referer; put it in the form and
// drop it from the address bar.
"use strict";
(function () {
  const m = location.hash.match(/^#key=(mck_[A-Za-z0-9_-]+)$/);
  if (!m) return;
  const input = document.getElementById("key");
  if (input) input.value = m[1];
  history.replaceState(null, "", location.pathname + location.search);
})();
