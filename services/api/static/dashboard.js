// The Dealtrail dashboard: plain ES module, no build step, every figure from the public API.
// The API key lives in sessionStorage (this tab only) and is sent as a Bearer header; pages a
// key's role may not see say so instead of failing. Live updates: the SSE log stream, read with
// fetch (EventSource cannot send headers), refreshes the page shown (roles without the stream
// poll the projections' checkpoints).

const KEY = "dealtrail.key";
const view = document.getElementById("view");
const esc = (value) => String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const money = (value) => (value == null ? "–" : Number(value).toLocaleString(undefined, { maximumFractionDigits: 0 }));
const pct = (value) => (value == null ? "–" : `${(100 * value).toFixed(1)} %`);
const num = (value) => (value == null ? "–" : String(value));
const month = () => new Date().toISOString().slice(0, 7);

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
  }
}

async function api(path, payload) {
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(KEY)}` };
  const init = payload === undefined ? { headers }
    : { method: "POST", headers: { ...headers, "Content-Type": "application/json" }, body: JSON.stringify(payload) };
  const response = await fetch(path, init);
  const body = await response.json().catch(() => null);
  if (response.status === 401) {
    signOut("The key was refused (missing, unknown or revoked).");
    throw new ApiError(401, body);
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

// A horizontal bar chart as SVG: rows [{label, value, note?, flag?}].
function bars(rows, { width = 560, unit = "" } = {}) {
  const max = Math.max(1, ...rows.map((r) => Number(r.value) || 0));
  const height = 24 * rows.length + 10;
  const items = rows.map((r, i) => {
    const w = Math.round(((Number(r.value) || 0) / max) * (width - 260));
    const y = 5 + 24 * i;
    return `<g class="point" data-label="${esc(r.label)}" data-value="${esc(r.value)}">
      <text x="4" y="${y + 15}">${esc(r.label)}</text>
      <rect x="130" y="${y + 3}" width="${w}" height="16" fill="${r.flag ? "#e74c3c" : "#4fa3ff"}"></rect>
      <text x="${136 + w}" y="${y + 15}">${esc(r.value)}${esc(unit)} ${esc(r.note || "")}</text></g>`;
  });
  return `<svg class="chart" width="${width}" height="${height}" role="img">${items.join("")}</svg>`;
}

function table(headers, rows) {
  const head = headers.map((h) => `<th${h.num ? ' class="num"' : ""}>${esc(h.label ?? h)}</th>`).join("");
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${headers[i].num ? ' class="num"' : ""}>${c}</td>`).join("")}</tr>`);
  return `<table><thead><tr>${head}</tr></thead><tbody>${body.join("")}</tbody></table>`;
}

const pages = {
  async pipeline() {
    const snapshot = await api("/v1/reports/funnel?mode=snapshot");
    const columns = await Promise.all(snapshot.stages.map(async (s) => {
      const list = await api(`/v1/deals?status=open&stage=${encodeURIComponent(s.stage)}&sort=-current_amount&limit=5`);
      const deals = list.deals.map((d) => `<li>${esc(d.title || d.deal_id)} <span class="muted">${money(d.current_amount)} · ${esc(d.owner_id)}</span>${d.stalled ? ' <span class="flag">stalled</span>' : ""}</li>`);
      return `<div class="card" data-stage="${esc(s.stage)}"><h3>${esc(s.stage)}</h3><div class="big">${s.open}</div>
        <div class="muted">${money(s.open_amount)} open</div><ol>${deals.join("")}</ol></div>`;
    }));
    return `<h2>Pipeline board</h2><p class="muted">Open deals per stage now (largest first).</p>
      <div class="cards">${columns.join("")}</div>
      ${bars(snapshot.stages.map((s) => ({ label: s.stage, value: s.open, note: `(${money(s.open_amount)})` })))}`;
  },

  async funnel() {
    const f = await api("/v1/reports/funnel");
    const rows = f.stages.map((s) => [esc(s.stage), s.reached, s.entered, s.skipped, pct(s.conversion),
      pct(s.target_conversion), s.leakage ? '<span class="flag">leakage</span>' : ""]);
    return `<h2>Funnel (cohort)</h2>
      <div class="cards"><div class="card"><h3>Created</h3><div class="big">${f.created}</div></div>
      <div class="card"><h3>Won</h3><div class="big">${f.won}</div></div>
      <div class="card"><h3>Lost</h3><div class="big">${f.lost}</div></div>
      <div class="card"><h3>Win rate</h3><div class="big">${pct(f.win_rate)}</div></div></div>
      ${bars(f.stages.map((s) => ({ label: s.stage, value: s.reached, note: `→ ${pct(s.conversion)}`, flag: s.leakage })))}
      ${table(["stage", { label: "reached", num: 1 }, { label: "entered", num: 1 }, { label: "skipped", num: 1 },
        { label: "conversion", num: 1 }, { label: "target", num: 1 }, "flag"], rows)}
      <p class="muted">As of log position ${f.as_of_position}.</p>`;
  },

  async cycle() {
    const [won, lost] = await Promise.all([api("/v1/reports/cycle-time?outcome=won"), api("/v1/reports/cycle-time?outcome=lost")]);
    const part = (title, c) => `<h3>${title}: ${c.overall.count} deals, median ${num(c.overall.p50_days)} days</h3>
      ${bars(c.stages.map((s) => ({ label: s.stage, value: s.p50_days ?? 0, note: `p75 ${num(s.p75_days)} · p90 ${num(s.p90_days)}` })), { unit: " d" })}
      ${table(["stage", { label: "deals", num: 1 }, { label: "mean", num: 1 }, { label: "p50", num: 1 }, { label: "p75", num: 1 }, { label: "p90", num: 1 }],
        [["overall", c.overall], ...c.stages.map((s) => [s.stage, s])].map(([name, s]) =>
          [esc(name), s.count, num(s.mean_days), num(s.p50_days), num(s.p75_days), num(s.p90_days)]))}`;
    return `<h2>Cycle time and dwell per stage (days)</h2>${part("Won", won)}${part("Lost", lost)}`;
  },

  async leaderboard(chosen) {
    const period = chosen || String(new Date().getUTCFullYear());
    const [reps, teams] = await Promise.all([api(`/v1/reports/performance?period=${period}&scope=rep`),
      api(`/v1/reports/performance?period=${period}&scope=team`)]);
    let targets = [];
    try { targets = (await api(`/v1/targets?period=${period}`)).targets; } catch (e) { if (e.status !== 403) throw e; }
    const target = (scope, id) => targets.filter((t) => t.scope === scope && t.scope_id === id && t.metric === "revenue")[0];
    const row = (scope, r, id) => {
      const t = target(scope, id);
      return [esc(id), money(r.revenue_won), r.deals_won, r.deals_lost, pct(r.win_rate), num(r.avg_cycle_days),
        t ? money(t.target) : "–", t ? pct(t.attainment) : "–", t ? money(t.pace) : "–",
        t ? `<span class="${t.status === "behind" ? "flag" : "ok"}">${esc(t.status)}</span>` : ""];
    };
    const headers = ["who", { label: "revenue", num: 1 }, { label: "won", num: 1 }, { label: "lost", num: 1 },
      { label: "win rate", num: 1 }, { label: "cycle d", num: 1 }, { label: "target", num: 1 },
      { label: "attainment", num: 1 }, { label: "pace", num: 1 }, "status"];
    const byRevenue = (a, b) => Number(b.revenue_won) - Number(a.revenue_won);
    return `<h2>Leaderboard ${esc(period)}</h2>
      <p class="muted">Period: <a href="#leaderboard/${month()}">this month</a> · <a href="#leaderboard/${new Date().getUTCFullYear()}">this year</a>
      (targets of that period: attainment, pace, status)</p>
      ${bars([...reps.rows].sort(byRevenue).slice(0, 15).map((r) => ({ label: r.owner_id, value: Number(r.revenue_won) })))}
      <h3>Reps</h3>${table(headers, [...reps.rows].sort(byRevenue).map((r) => row("rep", r, r.owner_id)))}
      <h3>Teams</h3>${table(headers, [...teams.rows].sort(byRevenue).map((r) => row("team", r, r.team_id)))}`;
  },

  async forecast() {
    const f = await api(`/v1/reports/forecast?period=${month()}`);
    const accuracy = f.accuracy || [];
    return `<h2>Forecast ${esc(f.period)}</h2>
      <div class="cards"><div class="card"><h3>Won to date</h3><div class="big">${money(f.won_to_date)}</div></div>
      <div class="card"><h3>Weighted pipeline</h3><div class="big">${money(f.weighted_pipeline)}</div></div>
      <div class="card"><h3>Historical forecast</h3><div class="big">${money(f.historical_forecast)}</div></div>
      <div class="card"><h3>Expected total</h3><div class="big">${money(f.expected_total_historical)}</div></div></div>
      ${bars(f.stages.map((s) => ({ label: s.stage, value: Number(s.historical), note: `(${s.open} open)` })))}
      <h3>Accuracy of past forecasts</h3>
      ${accuracy.length ? table(["period", { label: "forecast", num: 1 }, { label: "actual", num: 1 }, { label: "error", num: 1 }, "note"],
        accuracy.map((a) => [esc(a.period), money(a.forecast), money(a.actual), pct(a.error), a.partial ? esc(a.partial_reason) : ""]))
        : '<p class="muted">No finished period has a forecast snapshot yet.</p>'}`;
  },

  async reviews() {
    const { reviews } = await api("/v1/reviews?status=open");
    if (!reviews.length) return "<h2>Open reviews</h2><p class=\"muted\">None.</p>";
    const items = reviews.map((r) => `<div class="card review" data-review="${esc(r.review_id)}">
      <h3>${esc(r.trigger)} · ${esc(r.scope)} ${esc(r.scope_id || "")} · ${esc(r.period)}</h3>
      <p>${esc(r.metric || "")} expected ${num(r.expected)}, actual ${num(r.actual)}
      ${r.overdue_actions ? `<span class="flag">${r.overdue_actions} overdue</span>` : ""}</p>
      ${table(["action", "owner", "due", "done"], (r.actions || []).map((a) => [esc(a.title), esc(a.owner_id), esc(a.due_date || "–"),
        a.completed_at ? '<span class="ok">done</span>' : `${a.overdue ? '<span class="flag">overdue</span> ' : ""}`
          + `<button class="complete-action" data-review="${esc(r.review_id)}" data-action="${esc(a.action_id)}">Done</button>`]))}
      <form class="add-action" data-review="${esc(r.review_id)}">
        <input name="title" placeholder="new action item" required> <input name="owner_id" placeholder="owner" required>
        <input name="due_date" type="date"> <button>Add</button></form></div>`);
    return `<h2>Open reviews (${reviews.length})</h2>
      <p class="muted">Agree action items here; they are events on the review's stream (they show once projected).</p>
      <div class="cards">${items.join("")}</div>`;
  },

  async stalled() {
    const list = await api("/v1/deals?stalled=true&sort=stage_entered_at&limit=100");
    return `<h2>Stalled deals (${list.total})</h2>
      ${table(["deal", "stage", "owner", { label: "amount", num: 1 }, "in stage since"],
        list.deals.map((d) => [`<a href="#events/${encodeURIComponent(d.deal_id)}">${esc(d.title || d.deal_id)}</a>`,
          esc(d.stage), esc(d.owner_id), money(d.current_amount), esc(d.stage_entered_at)]))}`;
  },

  async events(dealId) {
    const form = `<form class="inline" id="deal-form"><input id="deal-id" placeholder="deal id" value="${esc(dealId || "")}">
      <button>Show</button></form>`;
    if (!dealId) return `<h2>Event browser</h2>${form}<p class="muted">A deal's timeline, its hash chain and the log's verification.</p>`;
    const id = encodeURIComponent(dealId);
    const [timeline, stream] = await Promise.all([api(`/v1/deals/${id}/timeline`), api(`/v1/deals/${id}/events`)]);
    let verify = '<span class="muted">verification needs an auditor or admin key</span>';
    try {
      const v = await api("/v1/audit/verify");
      verify = v.ok ? `<span class="ok">chains verified</span> (${v.events_checked} events)`
        : `<span class="flag">broken</span> at ${esc(JSON.stringify(v.first_broken))}`;
    } catch (e) { if (e.status !== 403) throw e; }
    return `<h2>Event browser: ${esc(dealId)}</h2>${form}<p>Stage ${esc(timeline.stage)} (${esc(timeline.status)}), version ${timeline.version}. ${verify}</p>
      ${bars(timeline.stage_visits.map((v) => ({ label: `${v.stage} #${v.visit}`, value: v.dwell_days ?? 0, note: v.exit_to ? `→ ${v.exit_to}` : "(open)" })), { unit: " d" })}
      ${table(["#", "business time", "type", "summary", "actor", "recorded"], timeline.entries.map((e) =>
        [e.stream_version, esc(e.occurred_at), esc(e.type), (e.voided ? '<s>' : "") + esc(e.summary) + (e.voided ? "</s>" : ""),
         esc(e.actor), esc(e.recorded_at)]))}
      <h3>Hash chain</h3>${table(["#", "prev_hash", "hash"], stream.events.map((e) =>
        [e.stream_version, `<span class="hash">${esc(e.prev_hash.slice(0, 16))}…</span>`, `<span class="hash">${esc(e.hash.slice(0, 16))}…</span>`]))}`;
  },
};

let shown = 0;  // a slower earlier render must not overwrite a later one
async function show() {
  const mine = ++shown;
  const [page, arg] = (location.hash.slice(1) || "pipeline").split("/");
  for (const link of document.querySelectorAll("#tabs a")) link.classList.toggle("active", link.hash === `#${page}`);
  const render = pages[page] || pages.pipeline;
  let html;
  try {
    html = await render(arg && decodeURIComponent(arg));
  } catch (e) {
    html = e.status === 403 ? `<p class="error">Your key's role may not see this page (${esc(e.message)}).</p>`
      : e.status === 401 ? "" : `<p class="error">${esc(e.message)}</p>`;
  }
  if (mine !== shown) return;
  view.innerHTML = html;
  view.dataset.page = page;
  bindReviewControls();
  const form = document.getElementById("deal-form");
  if (form) form.onsubmit = (ev) => { ev.preventDefault(); location.hash = `events/${encodeURIComponent(document.getElementById("deal-id").value)}`; };
}

// Review meetings: add action items and mark them done (POST to the review's endpoints).
function bindReviewControls() {
  const said = (element, message) => { element.insertAdjacentHTML("afterend", `<p class="error">${esc(message)}</p>`); };
  for (const form of view.querySelectorAll("form.add-action")) {
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      const fields = Object.fromEntries(new FormData(form));
      if (!fields.due_date) delete fields.due_date;
      try {
        await api(`/v1/reviews/${encodeURIComponent(form.dataset.review)}/actions`, fields);
        form.reset();
        form.insertAdjacentHTML("afterend", '<p class="ok added">Added.</p>');
      } catch (e) { said(form, e.message); }
    };
  }
  for (const button of view.querySelectorAll("button.complete-action")) {
    button.onclick = async () => {
      try {
        await api(`/v1/reviews/${encodeURIComponent(button.dataset.review)}/actions/${encodeURIComponent(button.dataset.action)}/complete`, {});
        button.replaceWith(Object.assign(document.createElement("span"), { className: "ok", textContent: "done" }));
      } catch (e) { said(button, e.message); }
    };
  }
}

// Live updates: the log as server-sent events (commit order, resumable by position).
let streaming = null, refresh = null, announced = 0;
// Refresh once the user is not typing into the page (a re-render would drop the input) and the
// projection has applied what the stream announced: the pages show read models, and a render
// before the worker caught up would show the old figures until the next event (a busy worker is
// often more than the debounce behind). After ~30 s behind, render what there is.
function refreshSoon(tries = 0) {
  clearTimeout(refresh);
  refresh = setTimeout(async () => {
    const typing = [...view.querySelectorAll("input")].some(
      (i) => i === document.activeElement || (i.value && i.closest("form.add-action")));
    if (typing) refreshSoon(tries);
    else if (tries < 30 && !(await projected(announced))) refreshSoon(tries + 1);
    else show();
  }, 1000);
}

async function projected(position) {
  try {
    return (await api("/v1/projections")).projections.every((p) => p.position >= position);
  } catch (e) { return true; /* a role that may not ask: render now */ }
}

async function follow() {
  const live = document.getElementById("live");
  let after = 0;
  try { after = (await api("/v1/projections")).relay.head_position || 0; } catch (e) { /* from the start */ }
  while (sessionStorage.getItem(KEY)) {
    try {
      streaming = new AbortController();
      const response = await fetch(`/v1/events/stream?after=${after}`, {
        headers: { Authorization: `Bearer ${sessionStorage.getItem(KEY)}`, "Last-Event-ID": String(after) },
        signal: streaming.signal });
      if (response.status === 403) return poll(live);
      if (!response.ok) { live.textContent = "offline"; return; }
      live.textContent = "live"; live.classList.add("on");
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        const messages = buffer.split("\n\n");
        buffer = messages.pop();
        for (const message of messages) {
          const id = /^id: *(\d+)/m.exec(message);
          if (id) { after = announced = Number(id[1]); refreshSoon(); }
        }
      }
    } catch (e) {
      if (e.name === "AbortError") return;
    }
    live.textContent = "reconnecting"; live.classList.remove("on");
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

// Keys that may not read the log (managers: the stream's roles are GET /v1/events's) follow the
// projections' checkpoints instead: the page re-renders when what it shows has moved.
async function poll(live) {
  const key = sessionStorage.getItem(KEY);
  let seen = null;
  while (sessionStorage.getItem(KEY) === key) {
    try {
      const now = JSON.stringify((await api("/v1/projections")).projections.map((p) => p.position));
      if (seen !== null && now !== seen) refreshSoon();
      seen = now;
      live.textContent = "live"; live.classList.add("on");
    } catch (e) {
      live.textContent = e.status === 403 ? "no live updates for this role" : "offline";
      live.classList.remove("on");
      if (e.status === 403 || e.status === 401) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

function signOut(message) {
  sessionStorage.removeItem(KEY);
  if (streaming) streaming.abort();
  document.getElementById("signin").hidden = false;
  document.getElementById("signout").hidden = true;
  document.getElementById("signin-error").textContent = message || "";
  view.innerHTML = "";
}

function signedIn() {
  document.getElementById("signin").hidden = true;
  document.getElementById("signout").hidden = false;
  show();
  follow();
}

document.getElementById("signin").onsubmit = (ev) => {
  ev.preventDefault();
  sessionStorage.setItem(KEY, document.getElementById("key").value.trim());
  signedIn();
};
document.getElementById("signout").onclick = () => signOut();
window.addEventListener("hashchange", show);
if (sessionStorage.getItem(KEY)) signedIn(); else signOut();
