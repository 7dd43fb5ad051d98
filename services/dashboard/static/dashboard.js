/* MODX dashboard: confirmations, actions, live updates (Server-Sent Events), small niceties.
   No framework and no build step: the server renders the pages, this script keeps them current. */
(function () {
  "use strict";

  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  function escapeText(text) {
    const span = document.createElement("span");
    span.textContent = text;
    return span.innerHTML;
  }

  function badgeHtml(status) {
    const label = escapeText(String(status).replace(/_/g, " "));
    return `<span class="badge status-${escapeText(status)}" data-status="${escapeText(status)}">${label}</span>`;
  }

  function toast(message, kind) {
    const box = $("#toasts");
    if (!box) return;
    const item = document.createElement("div");
    item.className = "toast toast-" + (kind || "ok");
    item.textContent = message;
    box.appendChild(item);
    setTimeout(() => item.classList.add("toast-hide"), 3500);
    setTimeout(() => item.remove(), 4200);
  }

  function setLive(state) {
    const dot = $("#live-indicator");
    if (!dot) return;
    dot.dataset.state = state;
    dot.hidden = state === "off";
  }

  /* ---- confirmation dialog and actions ---------------------------------------------------- */

  function confirmWith(title, text) {
    const dialog = $("#confirm");
    if (!dialog || typeof dialog.showModal !== "function") {
      return Promise.resolve(window.confirm(text));
    }
    $("#confirm-title").textContent = title || "Are you sure?";
    $("#confirm-text").textContent = text || "";
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
      dialog.showModal();
      $("#confirm-no").focus();
    });
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body || {}),
    });
    let data = {};
    try { data = await response.json(); } catch (e) { /* an empty body */ }
    if (response.status === 401) {
      window.location.href = "/dashboard/login?next=" + encodeURIComponent(location.pathname + location.search);
      throw new Error("session expired");
    }
    if (!response.ok) {
      throw new Error((data.error && data.error.message) || `request failed (${response.status})`);
    }
    return data;
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-action]");
    if (!button) return;
    event.preventDefault();
    const ok = await confirmWith(button.dataset.confirmTitle, button.dataset.confirm);
    if (!ok) return;
    button.disabled = true;
    try {
      const data = await post(button.dataset.action, button.dataset.body ? JSON.parse(button.dataset.body) : {});
      if (button.dataset.follow === "run" && data.run_id) {
        window.location.href = "/dashboard/runs/" + encodeURIComponent(data.run_id);
        return;
      }
      if (button.dataset.remove) {
        const row = button.closest(button.dataset.remove);
        if (row) { row.classList.add("row-gone"); setTimeout(() => row.remove(), 250); }
      }
      toast(button.dataset.confirmTitle ? button.dataset.confirmTitle + ": done" : "Done", "ok");
    } catch (error) {
      toast(error.message, "error");
    } finally {
      button.disabled = false;
    }
  });

  /* A waiting step's form: approve or reject, with a comment, as the signal's body; or the
     answer to a remote agent's question, as {text}. */
  document.addEventListener("submit", async (event) => {
    const form = event.target.closest("form[data-signal]");
    if (!form) return;
    event.preventDefault();
    const answer = $("textarea[name=answer]", form);
    const approve = !event.submitter || event.submitter.value !== "reject";
    const comment = answer ? "" : $("textarea[name=comment]", form).value.trim();
    const body = answer ? { text: answer.value } : comment ? { ok: approve, comment } : { ok: approve };
    const buttons = $$("button", form);
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await post(form.dataset.signal, body);
      form.classList.add("signal-sent");
      toast(answer ? "Answer sent" : approve ? "Approved" : "Rejected", "ok");
    } catch (error) {
      toast(error.message, "error");
      buttons.forEach((b) => { b.disabled = false; });
    }
  });

  /* ---- live run page ------------------------------------------------------------------------ */

  function keyOf(el) { return el.id || el.dataset.key || ""; }

  function swapSection(name, html) {
    const target = $(`[data-section="${name}"]`);
    if (!target || html === undefined) return;
    const open = new Set($$("details[open]", target).map(keyOf).filter(Boolean));
    const closed = new Set($$("details:not([open])", target).map(keyOf).filter(Boolean));
    // What a person is typing (a signal's comment) survives the redraw.
    const typed = new Map($$("textarea[data-key]", target).map((el) => [el.dataset.key, el.value]));
    target.innerHTML = html;
    $$("textarea[data-key]", target).forEach((el) => {
      if (typed.has(el.dataset.key)) el.value = typed.get(el.dataset.key);
    });
    $$("details", target).forEach((el) => {
      const key = keyOf(el);
      if (open.has(key)) el.open = true;
      else if (closed.has(key)) el.open = false;
    });
    const wrap = $(`[data-wrap="${name}"]`);
    if (wrap) wrap.hidden = !html.trim();
  }

  function applyRun(snap) {
    const status = $("#run-status");
    if (status && status.firstElementChild && status.firstElementChild.dataset.status !== snap.status) {
      status.innerHTML = badgeHtml(snap.status);
      status.classList.add("flash");
      setTimeout(() => status.classList.remove("flash"), 900);
    }
    document.body.dataset.runStatus = snap.status;
    for (const [stepId, step] of Object.entries(snap.steps)) {
      const node = $(`#dag .node[data-step="${CSS.escape(stepId)}"]`);
      if (node && node.dataset.status !== step.status) {
        node.setAttribute("class", `node status-${step.status}`);
        node.dataset.status = step.status;
        const label = $(".node-state", node);
        if (label) label.textContent = step.status.replace(/_/g, " ");
      }
      const row = $(`[data-step-row="${CSS.escape(stepId)}"]`);
      if (row) {
        const cell = $(".step-status", row);
        if (cell && (!cell.firstElementChild || cell.firstElementChild.dataset.status !== step.status)) {
          cell.innerHTML = badgeHtml(step.status);
        }
        const attempts = $(".step-attempts", row);
        if (attempts) attempts.textContent = `${step.attempt}/${step.max_attempts}`;
      }
    }
    const cancel = $("#cancel-run");
    if (cancel) cancel.hidden = !snap.can_cancel;
    const retry = $("#retry-run");
    if (retry) retry.hidden = !snap.can_retry;
  }

  function liveRun(config) {
    let lastEvent = config.last_event;
    let fetching = null;
    let pending = false;

    let lastRefresh = 0;

    async function refresh() {
      if (fetching) { pending = true; return; }
      // A busy run changes many times a second: redraw its sections at most once a second.
      const wait = lastRefresh + 1000 - Date.now();
      if (wait > 0) { if (!pending) { pending = true; setTimeout(() => { pending = false; refresh(); }, wait); } return; }
      lastRefresh = Date.now();
      fetching = fetch(`/dashboard/runs/${encodeURIComponent(config.run)}/fragments`, { credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : null))
        .then((parts) => {
          if (!parts) return;
          for (const name of ["summary", "dag", "timeline", "errors", "steps", "trace", "proof"]) swapSection(name, parts[name]);
        })
        .catch(() => {})
        .finally(() => { fetching = null; if (pending) { pending = false; refresh(); } });
    }

    if (config.terminal) return;
    const source = new EventSource(`/dashboard/live/runs/${encodeURIComponent(config.run)}`);
    source.onopen = () => setLive("on");
    source.onerror = () => setLive(source.readyState === EventSource.CLOSED ? "off" : "wait");
    source.addEventListener("run", (event) => {
      const snap = JSON.parse(event.data);
      applyRun(snap);
      if (snap.last_event !== lastEvent) { lastEvent = snap.last_event; refresh(); }
      if (snap.terminal) { source.close(); setLive("done"); }
    });
    source.addEventListener("end", () => { source.close(); setLive("done"); });
  }

  /* ---- live run list ------------------------------------------------------------------------ */

  function liveRuns(config) {
    const params = new URLSearchParams(config.params || {});
    params.set("ids", config.ids.join(","));
    params.set("top", config.top);
    if (config.first) params.set("first", "1");
    const body = $("#runs-body");
    const source = new EventSource("/dashboard/live/runs?" + params.toString());
    source.onopen = () => setLive("on");
    source.onerror = () => setLive(source.readyState === EventSource.CLOSED ? "off" : "wait");
    source.addEventListener("runs", (event) => {
      const data = JSON.parse(event.data);
      for (const [id, html] of Object.entries(data.rows || {})) {
        const row = $(`tr[data-run="${CSS.escape(id)}"]`, body);
        if (!row) continue;
        const changed = row.dataset.status;
        row.outerHTML = html;
        const fresh = $(`tr[data-run="${CSS.escape(id)}"]`, body);
        if (fresh && fresh.dataset.status !== changed) fresh.classList.add("flash");
      }
      for (const item of data.added || []) {
        if ($(`tr[data-run="${CSS.escape(item.id)}"]`, body)) continue;
        body.insertAdjacentHTML("afterbegin", item.html);
        const fresh = body.firstElementChild;
        if (fresh) fresh.classList.add("flash", "row-new");
        config.ids.push(item.id);
      }
      tick();
    });
  }

  /* ---- clocks --------------------------------------------------------------------------------- */

  function fmtElapsed(ms) {
    const s = Math.max(0, ms / 1000);
    if (s < 60) return s.toFixed(1) + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + Math.floor(s % 60) + " s";
    return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  }

  function fmtAgo(ms) {
    const s = Math.round(ms / 1000);
    if (s < 5) return "just now";
    if (s < 60) return s + " s ago";
    if (s < 3600) return Math.floor(s / 60) + " min ago";
    return Math.floor(s / 3600) + " h ago";
  }

  function tick() {
    const now = Date.now();
    for (const el of $$(".elapsed[data-since]")) {
      el.textContent = fmtElapsed(now - Date.parse(el.dataset.since));
    }
    for (const el of $$("time[data-relative]")) {
      el.title = el.getAttribute("datetime");
      el.textContent = fmtAgo(now - Date.parse(el.getAttribute("datetime")));
    }
  }

  function readJson(id) {
    const el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  document.addEventListener("DOMContentLoaded", () => {
    tick();
    setInterval(tick, 1000);
    const run = readJson("live-run");
    if (run) liveRun(run);
    const list = readJson("live-runs");
    if (list) liveRuns(list);
    if (!run && !list) setLive("off");
  });
})();
