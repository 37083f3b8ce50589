// Botrix dashboard: hand-written, no build step, no dependency. One EventSource per page
// (/ui/live); when the log head moves, the page's live region is fetched again (at most
// once a second, not while the tab is hidden). Everything it inserts is either HTML the
// server rendered (escaped by its templates) or text set with textContent.
"use strict";
(function () {
  const body = document.body;
  const status = document.getElementById("live-status");
  let source = null;

  function setStatus(text, state) {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("on", state === "on");
    status.classList.toggle("off", state === "off");
  }

  // Times arrive as RFC 3339 in UTC; show them in the viewer's zone, keep UTC in the title.
  function localizeTimes(root) {
    for (const el of root.querySelectorAll("time[datetime]")) {
      const when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) continue;
      el.title = el.getAttribute("datetime");
      el.textContent = when.toLocaleString();
    }
  }

  function rowKeys(root) {
    const keys = new Set();
    for (const row of root.querySelectorAll("tr[data-job-id], tr[data-account-id], li[data-seq]")) {
      keys.add(row.dataset.jobId || row.dataset.accountId || row.dataset.seq);
    }
    return keys;
  }

  // Re-fetches the live region, throttled; a redirect (the session ended) reloads the page.
  const region = document.getElementById("live-region");
  let lastRefresh = 0, pending = null, dirty = false;
  function refreshSoon() {
    if (!region) return;
    dirty = true;
    if (pending || document.hidden) return;
    const wait = Math.max(0, lastRefresh + 1000 - Date.now());
    pending = setTimeout(refresh, wait);
  }
  async function refresh() {
    pending = null;
    if (!dirty || document.hidden) return;
    if (region.contains(document.activeElement) && document.activeElement !== document.body) {
      pending = setTimeout(refresh, 1000);  // do not pull the focus from under the keyboard
      return;
    }
    dirty = false;
    lastRefresh = Date.now();
    try {
      const response = await fetch(region.dataset.refresh, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (response.redirected || response.status === 401) { location.reload(); return; }
      if (!response.ok) return;
      const before = rowKeys(region);
      region.innerHTML = await response.text();
      for (const row of region.querySelectorAll("tr[data-job-id], tr[data-account-id], li[data-seq]")) {
        const key = row.dataset.jobId || row.dataset.accountId || row.dataset.seq;
        if (!before.has(key)) row.classList.add("new");
      }
      localizeTimes(region);
    } catch (error) {
      setStatus("offline", "off");
    }
  }
  document.addEventListener("visibilitychange", function () { if (!document.hidden && dirty) refreshSoon(); });

  // The event log's "Follow live": new events are added at the top of the table.
  const follow = document.getElementById("follow");
  const eventsBody = document.querySelector("#events tbody");
  function addEventRow(e) {
    if (!eventsBody || eventsBody.querySelector('tr[data-seq="' + e.seq + '"]')) return;
    const row = document.createElement("tr");
    row.dataset.seq = String(e.seq);
    row.className = "new";
    const cells = [String(e.seq), e.type, e.stream, e.recorded_at, e.actor || "", e.request_id || ""];
    cells.forEach(function (text, index) {
      const cell = document.createElement("td");
      if (index === 0) cell.className = "num";
      if (index === 3) {
        const time = document.createElement("time");
        time.setAttribute("datetime", text);
        time.textContent = text;
        cell.appendChild(time);
        localizeTimes(cell);
      } else if (index === 5) {
        const code = document.createElement("code");
        code.textContent = text;
        cell.appendChild(code);
      } else {
        cell.textContent = text;
      }
      row.appendChild(cell);
    });
    eventsBody.insertBefore(row, eventsBody.firstChild);
    const table = document.getElementById("events");
    if (table) table.hidden = false;
  }

  let limitRetries = 0;
  function connect(url) {
    if (source) source.close();
    setStatus("connecting", null);
    source = new EventSource(url);
    source.addEventListener("open", function () { setStatus("live", "on"); });
    source.addEventListener("head", function () { limitRetries = 0; }, { once: true });
    source.addEventListener("head", function (message) {
      const head = JSON.parse(message.data).head;
      if (String(head) !== body.dataset.head) { body.dataset.head = String(head); refreshSoon(); }
    });
    source.addEventListener("log", function (message) { addEventRow(JSON.parse(message.data)); });
    source.addEventListener("limit", function (message) {
      source.close();
      // A page just left may still be giving its stream back: ask again a few times.
      if (limitRetries < 3) {
        limitRetries += 1;
        setStatus("waiting for a free live stream", "off");
        setTimeout(function () { connect(url); }, 2000 * limitRetries);
      } else {
        setStatus("paused: " + JSON.parse(message.data).detail, "off");
      }
    });
    source.addEventListener("revoked", function () { source.close(); location.reload(); });
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) setStatus("not live (reload to retry)", "off");
      else setStatus("reconnecting", "off");
    });
  }

  if (follow) {
    follow.addEventListener("click", function () {
      const on = follow.getAttribute("aria-pressed") !== "true";
      follow.setAttribute("aria-pressed", String(on));
      follow.textContent = on ? "Following…" : "Follow live";
      if (on) connect(follow.dataset.follow); else if (source) { source.close(); source = null; setStatus("static", null); }
    });
  }
  // A page left for another (or kept in the back/forward cache) gives its stream back at
  // once: each holds a slot of the key's stream limit and one of the browser's few
  // connections to this host.
  window.addEventListener("pagehide", function () { if (source) { source.close(); source = null; } });
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    if (body.dataset.live === "1" && region) connect("/ui/live");
    if (follow && follow.getAttribute("aria-pressed") === "true") connect(follow.dataset.follow);
  });
  if (body.dataset.live === "1" && region) connect("/ui/live");
  localizeTimes(document);
})();
