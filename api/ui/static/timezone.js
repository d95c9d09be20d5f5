// Tells the server the browser's time zone (a `triage_tz` cookie), so pages show local times;
// the server writes them, and shows UTC until the cookie exists (the login page sets it first).
(function () {
  "use strict";
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!zone || document.documentElement.getAttribute("data-tz") === zone) return;
    document.cookie = "triage_tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
  } catch (e) { /* no Intl: times stay in UTC */ }
})();
