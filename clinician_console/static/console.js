/* vret therapist console: one WebSocket in (state, readings, decisions, alerts), REST commands out.
   No framework and no build step; the chart is the vendored uPlot. The server never trusts this page:
   every command goes through the session core, which may refuse it and says why. */
"use strict";

const $ = (id) => document.getElementById(id);
const PHASES = { baseline: "Baseline", exposure: "Exposure", paused: "Paused", safe: "Safe scene", ended: "Session ended" };
const HISTORY_S = 3600;
const SEVERITY_ORDER = { critical: 0, warning: 1, info: 2 };

const app = {
  state: null,          // latest session state (ladder and settings kept apart)
  ladder: null,
  settings: null,
  console: { scene_events: [], notice: null, client_view: false, live_hz: 10 },
  xs: [], hrs: [], lvls: [],   // chart data: session seconds, bpm (null = no pulse, undefined = no reading), level
  readings: 0,
  span: 900,
  chart: null,
  chartDirty: true,
  ws: null,
  connected: false,
  lastMessageAt: 0,
  retryMs: 1000,
  localAlerts: new Map(),   // alerts the page raises itself (connection, token)
  seenAlerts: new Set(),
  frames: null,
  sceneSound: null,  // {muted, headset_muted}: the therapist's choice and the headset's report
  framesAt: 0,
  chosenLevel: null,
  endArmedUntil: 0,
  sudsDueShown: false,
  audio: null,
  episodes: new Map(),      // one log row per alert episode: "kind@onset" -> its row
  openEpisodes: new Map(),  // kind -> the episode now open (its onset)
  ended: null,              // the server's last message once the session is over
};
const TITLE = "vret · Therapist console";

/* ------------------------------------------------------------------ formatting */

function clock(t) {
  if (t == null || !isFinite(t)) return "—";
  t = Math.max(0, Math.floor(t));
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), s = t % 60;
  const ss = String(s).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}
function pct(x) { return x == null ? "—" : `${x >= 0 ? "+" : "−"}${Math.abs(Math.round(x * 100))}%`; }
function levelLabel(n) {
  if (n === 0) return "Safe scene";
  const lv = app.ladder && app.ladder.levels[n - 1];
  return lv ? lv.name : `Level ${n}`;
}
function pretty(name) { return name.replace(/[_-]+/g, " ").replace(/^./, (c) => c.toUpperCase()); }

/* ------------------------------------------------------------------ alert episodes */
// An alert is one episode from its onset to its clear, however often its text changes (the core
// updates "HR 51% for 23 s" every second). The core stamps `onset` on every Alert effect; a
// record made before it did is grouped the same way: one open episode per kind until cleared.

function onsetOf(a) {
  if (a.onset != null && a.onset >= 0) return a.onset;
  const open = app.openEpisodes.get(a.kind);
  return open != null ? open : a.t;
}

function logAlert(a) {
  if (a.kind === "command_refused") return addLog(alertEntry(a));
  const onset = onsetOf(a);
  const key = `${a.kind}@${onset}`;
  let li = app.episodes.get(key);
  if (!li) {
    // a page that (re)connects gets each episode once, as its latest effect: maybe its end
    li = addLog({ t: onset, kind: `alert-${a.severity}`, text: a.message });
    li.dataset.episode = key;
    app.episodes.set(key, li);
    while (app.episodes.size > 400) app.episodes.delete(app.episodes.keys().next().value);
  }
  if (a.active) {
    app.openEpisodes.set(a.kind, onset);
    li.dataset.kind = `alert-${a.severity}`;
    li.querySelector(".text").textContent = a.message;
  } else {
    app.openEpisodes.delete(a.kind);
    li.dataset.kind = "alert-cleared";
    li.querySelector(".text").textContent = a.message;
    let end = li.querySelector(".end");
    if (!end) { end = document.createElement("span"); end.className = "end"; li.append(end); }
    end.textContent = `until ${clock(a.t)} (${Math.max(0, Math.round(a.t - onset))} s)`;
  }
  return li;
}

/* ------------------------------------------------------------------ connection */

function connect() {
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/live`;
  const ws = new WebSocket(url);
  app.ws = ws;
  let opened = false;
  ws.onopen = () => { opened = true; };
  ws.onmessage = (ev) => {
    app.lastMessageAt = performance.now();
    if (!app.connected) {
      app.connected = true;
      app.retryMs = 1000;
      app.localAlerts.delete("connection");
      app.localAlerts.delete("token");
      renderLink();
    }
    handle(JSON.parse(ev.data));
  };
  ws.onclose = () => {
    app.connected = false;
    app.ws = null;
    if (app.ended || (app.state && app.state.phase === "ended")) {
      // a finished session, not a lost one: no alarm, no reconnecting
      showEnded(app.ended);
      return;
    }
    renderLink();
    if (!opened) checkToken();
    raiseLocal("connection", "critical",
      "Connection to the session lost: reconnecting… The controls work again once it is back.");
    setTimeout(connect, app.retryMs);
    app.retryMs = Math.min(5000, app.retryMs * 2);
  };
}

async function checkToken() {
  try {
    const r = await fetch("/api/state", { cache: "no-store" });
    if (r.status === 401) {
      raiseLocal("token", "critical",
        "This page's access token is no longer valid (was the console restarted?): open the new URL printed where it started.");
    }
  } catch (_) { /* the server is down; the connection alert says so */ }
}

function raiseLocal(kind, severity, message, forMs) {
  const old = app.localAlerts.get(kind);
  const until = forMs ? performance.now() + forMs : null;
  if (!old || old.message !== message) {
    app.localAlerts.set(kind, { kind, severity, message, until, local: true });
    renderAlerts();
  }
}
function clearLocal(kind) {
  if (app.localAlerts.delete(kind)) renderAlerts();
}

function watchdog() {
  if (app.connected && performance.now() - app.lastMessageAt > 3000) {
    raiseLocal("connection", "critical", "No update from the session for 3 s: the control process may be stuck.");
  }
  for (const [kind, alert] of app.localAlerts) {
    if (alert.until != null && performance.now() > alert.until) clearLocal(kind);
  }
  if (app.frames && performance.now() - app.framesAt > 3000) {
    app.frames = null;
    renderFrames();
  }
  renderSudsDue();
}

/* ------------------------------------------------------------------ messages */

function handle(msg) {
  const data = msg.data;
  switch (msg.kind) {
    case "hello": return onHello(data);
    case "state": return onState(data);
    case "event":
      if (data.type === "reading") return addReading(data.t, data.quality === "ok" ? data.hr : null);
      if (typeof answerArrived === "function") answerArrived(data); // coach.js: headset answers
      return addLog(eventEntry(data));
    case "decision":
      setLevelAt(data.t, data.to_level);
      addLog(decisionEntry(data));
      $("last-decision").textContent = decisionLine(data);
      if (data.who !== "clinician" && data.to_level < data.from_level) {
        // the system (or the client's break button) took the level down: make sure it is seen
        const who = data.who === "client" ? "The client" : "Automatic";
        raiseLocal("stepped_down", data.to_level === 0 ? "critical" : "warning",
          `${who} at ${clock(data.t)}: ${data.reason}`, 30000);
        chime(data.to_level === 0 ? 2 : 1);
      }
      return;
    case "alert":
      logAlert(data);
      if (!data.active && data.kind === "command_refused") toast(data.message, "bad");
      return;
    case "ended":
      app.ended = data;
      return showEnded(data);
    case "frames":
      app.frames = data;
      app.framesAt = performance.now();
      return renderFrames();
    default:
      return; // scene targets and messages for other listeners
  }
}

function onHello(h) {
  app.ladder = h.state.ladder;
  app.settings = h.state.settings;
  app.console = h.console;
  app.xs = []; app.hrs = []; app.lvls = [];
  app.readings = 0;
  // merge readings and level changes into one time-ordered series
  const levels = h.levels;
  let li = 0, level = levels.length ? levels[0][1] : 0;
  for (const [t, hr] of h.readings) {
    while (li < levels.length && levels[li][0] <= t) {
      if (levels[li][1] !== level || app.xs.length === 0) pushPoint(levels[li][0], undefined, levels[li][1]);
      level = levels[li][1];
      li += 1;
    }
    pushPoint(t, hr, level);
    app.readings += 1;
  }
  for (; li < levels.length; li++) pushPoint(levels[li][0], undefined, levels[li][1]);
  $("chart").dataset.readings = String(app.readings);

  const log = [];
  for (const e of h.events) { const en = eventEntry(e); if (en) log.push(en); }
  for (const d of h.decisions) log.push(decisionEntry(d));
  for (const a of h.alerts) log.push({ t: a.t, alert: a });
  log.sort((a, b) => a.t - b.t);
  $("log").textContent = "";
  app.episodes.clear();
  app.openEpisodes.clear();
  for (const entry of log) {
    if (entry.alert) logAlert(entry.alert); else addLog(entry);
  }
  const last = h.decisions[h.decisions.length - 1];
  $("last-decision").textContent = last ? decisionLine(last) : "";
  for (const a of h.state.alerts) app.seenAlerts.add(`${a.kind}@${onsetOf(a)}`);

  buildLadder();
  buildSceneEvents();
  setupSudsInterval();
  setupClientView();
  if (window.vretAttention) window.vretAttention.hello(h);
  const notice = $("notice");
  notice.hidden = !app.console.notice;
  notice.textContent = app.console.notice || "";
  onState(h.state);
}

function onState(s) {
  const prev = app.state;
  const merged = { ...s };
  delete merged.ladder;
  delete merged.settings;
  app.state = merged;
  if (prev && prev.level !== s.level && (app.lvls.length === 0 || app.lvls[app.lvls.length - 1] !== s.level)) {
    setLevelAt(s.t, s.level);
  }
  const cfg = app.settings;
  const coreSaysIt = s.alerts.some((a) => a.kind === "ceiling" || a.kind === "hard_ceiling");
  if (cfg && s.phase === "exposure" && s.arousal != null && s.arousal > cfg.ceiling && !coreSaysIt) {
    const held = s.above_ceiling_since != null ? ` for ${Math.round(s.t - s.above_ceiling_since)} s` : "";
    raiseLocal("over_ceiling", "warning",
      `Heart rate ${Math.round(s.arousal * 100)}% above baseline${held}, over the ceiling (${Math.round(cfg.ceiling * 100)}%)` +
      (s.auto ? `: the system steps down if it stays there ${Math.round(cfg.ceiling_sustain_s)} s.` : "."));
  } else {
    clearLocal("over_ceiling");
  }
  for (const a of s.alerts) {
    const key = `${a.kind}@${onsetOf(a)}`;  // one chime per episode, not per update
    if (!app.seenAlerts.has(key)) {
      app.seenAlerts.add(key);
      if (a.severity !== "info") chime(a.severity === "critical" ? 2 : 1);
    }
  }
  render();
  if (window.vretAttention) window.vretAttention.state(s);
}

/* ------------------------------------------------------------------ chart data */

function pushPoint(t, hr, level) {
  const n = app.xs.length;
  if (n && t < app.xs[n - 1]) t = app.xs[n - 1];
  app.xs.push(t); app.hrs.push(hr); app.lvls.push(level);
  app.chartDirty = true;
}
function currentLevel() {
  if (app.state) return app.state.level;
  return app.lvls.length ? app.lvls[app.lvls.length - 1] : 0;
}
function addReading(t, hr) {
  pushPoint(t, hr, currentLevel());
  app.readings += 1;
  $("chart").dataset.readings = String(app.readings);
  trim();
}
function setLevelAt(t, level) { pushPoint(t, undefined, level); }
function trim() {
  const cut = app.xs[app.xs.length - 1] - HISTORY_S;
  let i = 0;
  while (i < app.xs.length && app.xs[i] < cut) i++;
  if (i > 1000) { app.xs.splice(0, i); app.hrs.splice(0, i); app.lvls.splice(0, i); }
}

/* ------------------------------------------------------------------ chart */

function bpmAt(fraction) { return app.state.baseline_hr * (1 + fraction); }

function drawBands(u) {
  const s = app.state, cfg = app.settings;
  const ctx = u.ctx, { left, top, width, height } = u.bbox;
  const dpr = window.devicePixelRatio || 1;
  ctx.save();
  ctx.beginPath(); ctx.rect(left, top, width, height); ctx.clip();
  // safe-scene (and baseline) stretches: a faint wash behind everything
  const xs = u.data[0], lv = u.data[2];
  ctx.fillStyle = "rgba(13,114,104,0.07)";
  for (let i = 0; i < xs.length; i++) {
    if (lv[i] !== 0) continue;
    let j = i; while (j + 1 < xs.length && lv[j + 1] === 0) j++;
    const x0 = u.valToPos(xs[i], "x", true), x1 = u.valToPos(j + 1 < xs.length ? xs[j + 1] : xs[j], "x", true);
    ctx.fillRect(x0, top, Math.max(1, x1 - x0), height);
    i = j;
  }
  if (s && s.baseline_hr && cfg) {
    const y = (v) => u.valToPos(v, "bpm", true);
    const band = (lo, hi, fill) => {
      const y0 = y(hi), y1 = y(lo);
      ctx.fillStyle = fill;
      ctx.fillRect(left, y0, width, y1 - y0);
    };
    band(bpmAt(cfg.window_low), bpmAt(cfg.window_high), "rgba(31,122,58,0.13)");
    band(bpmAt(cfg.ceiling), bpmAt(cfg.hard_ceiling), "rgba(229,154,0,0.20)");
    band(bpmAt(cfg.hard_ceiling), bpmAt(cfg.hard_ceiling) + 400, "rgba(180,35,24,0.12)");
    ctx.strokeStyle = "#6b7886"; ctx.lineWidth = 1.5 * dpr; ctx.setLineDash([6 * dpr, 5 * dpr]);
    ctx.beginPath(); ctx.moveTo(left, y(s.baseline_hr)); ctx.lineTo(left + width, y(s.baseline_hr)); ctx.stroke();
    ctx.setLineDash([]);
    ctx.font = `${11 * dpr}px system-ui, sans-serif`;
    ctx.textAlign = "left";
    // each band's name sits at the right, just inside the visible top of the band
    ctx.textAlign = "left";
    const tag = (text, x, yy, color) => {
      const w = ctx.measureText(text).width;
      ctx.fillStyle = "rgba(255,255,255,0.82)";
      ctx.fillRect(x - 3 * dpr, yy - 11 * dpr, w + 6 * dpr, 15 * dpr);
      ctx.fillStyle = color; ctx.fillText(text, x, yy);
    };
    const label = (text, lo, hi, color) => {
      const y0 = Math.max(y(hi), top), y1 = Math.min(y(lo), top + height);
      if (y1 - y0 < 16 * dpr) return;
      tag(text, left + 6 * dpr, y0 + 13 * dpr, color);
    };
    label("therapeutic window", bpmAt(cfg.window_low), bpmAt(cfg.window_high), "#1f6a35");
    label("ceiling: steps down", bpmAt(cfg.ceiling), bpmAt(cfg.hard_ceiling), "#8a5200");
    label("hard ceiling: safe scene", bpmAt(cfg.hard_ceiling), bpmAt(cfg.hard_ceiling) + 400, "#8a1c12");
    const yb = y(s.baseline_hr);
    if (yb > top && yb < top + height - 16 * dpr) {
      // at the right, under the line: during exposure the heart rate is mostly above it
      const text = `baseline ${Math.round(s.baseline_hr)} bpm`;
      tag(text, left + width - ctx.measureText(text).width - 8 * dpr, yb + 14 * dpr, "#4a5663");
    }
  }
  ctx.restore();
}

function xRange() {
  const now = app.state ? app.state.t : 0;
  const lo = Math.max(0, now - app.span);
  return [lo, Math.max(now, lo + 60)];
}

function bpmRange(u, dmin, dmax) {
  let lo = dmin, hi = dmax;
  if (lo == null || !isFinite(lo)) { lo = 60; hi = 90; }
  const s = app.state, cfg = app.settings;
  if (s && s.baseline_hr && cfg) {
    lo = Math.min(lo, s.baseline_hr);
    hi = Math.max(hi, bpmAt(cfg.ceiling));
  }
  return [Math.floor((lo - 6) / 5) * 5, Math.ceil((hi + 6) / 5) * 5];
}

function makeChart() {
  const el = $("chart");
  const axis = { stroke: "#5d6b7a", font: "12px system-ui, sans-serif", grid: { stroke: "#edf0f3", width: 1 }, ticks: { stroke: "#d9e0e7" } };
  const opts = {
    width: el.clientWidth || 600,
    height: el.clientHeight || 300,
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, points: { show: false } },
    scales: {
      x: { time: false, range: () => xRange() },
      bpm: { range: bpmRange },
      lvl: { range: () => [0, (app.ladder ? app.ladder.levels.length : 10) + 0.6] },
    },
    axes: [
      { ...axis, scale: "x", values: (u, splits) => splits.map(clock), space: 70 },
      { ...axis, scale: "bpm", label: "bpm", labelSize: 18, size: 44 },
      {
        ...axis, scale: "lvl", side: 1, label: "level", labelSize: 18, size: 40, grid: { show: false },
        incrs: [1, 2, 5], values: (u, splits) => splits.map((v) => (v === 0 ? "safe" : Number.isInteger(v) ? String(v) : "")),
      },
    ],
    series: [
      {},
      { label: "Heart rate", scale: "bpm", stroke: "#b3261e", width: 2 },
      { label: "Level", scale: "lvl", stroke: "#2a5d8f", width: 2.5, paths: uPlot.paths.stepped({ align: 1 }) },
    ],
    hooks: { drawClear: [drawBands], draw: [(u) => window.vretAttention && window.vretAttention.drawOnChart(u)] },
  };
  app.chart = new uPlot(opts, [[], [], []], el);
  new ResizeObserver(() => {
    app.chart.setSize({ width: el.clientWidth, height: el.clientHeight });
  }).observe(el);
}

function chartData() {
  const [lo] = xRange();
  const xs = app.xs;
  // first point inside the window, keeping one before it so the lines enter from the edge
  let a = 0, b = xs.length;
  while (a < b) { const m = (a + b) >> 1; if (xs[m] < lo) a = m + 1; else b = m; }
  const from = Math.max(0, a - 1);
  const x = xs.slice(from), hr = app.hrs.slice(from), lv = app.lvls.slice(from);
  const now = app.state ? app.state.t : null;
  if (now != null && (x.length === 0 || now > x[x.length - 1])) {
    x.push(now); hr.push(undefined); lv.push(currentLevel());   // the level line runs to "now"
  }
  return [x, hr, lv];
}

function drawChart() {
  if (!app.chart || !app.state) return;
  app.chart.setData(chartData());
  app.chartDirty = false;
}

/* ------------------------------------------------------------------ rendering */

function render() {
  const s = app.state;
  if (!s) return;
  const cfg = app.settings || {};
  $("client").textContent = s.client || "—";
  $("clock").textContent = clock(s.t);
  const phase = $("phase");
  phase.dataset.phase = s.phase;
  phase.textContent = PHASES[s.phase] || s.phase;

  const hr = $("hr");
  hr.textContent = s.hr == null ? "—" : Math.round(s.hr);
  hr.dataset.stale = String(!!s.stale);
  const baseline = $("baseline"), baselineNote = $("baseline-note");
  baseline.textContent = s.baseline_hr != null ? `${Math.round(s.baseline_hr)} bpm`
    : s.phase === "ended" ? "not measured" : "measuring…";
  // how it was measured, or how far measuring has got (the core's words)
  baseline.title = s.baseline_text || "";
  baselineNote.textContent = s.baseline_hr == null && s.baseline_text ? s.baseline_text : "";
  const ar = $("arousal");
  ar.textContent = pct(s.arousal);
  ar.dataset.zone = s.arousal == null ? "" : s.arousal > cfg.ceiling ? "ceiling"
    : s.arousal > cfg.window_high ? "above" : s.arousal >= cfg.window_low ? "window" : "";
  const tr = s.trend_bpm_per_min;
  const rising = cfg.rising_bpm_per_min || 2;
  const trend = $("trend");
  trend.textContent = tr == null ? "—" : tr > rising ? "↗ rising" : tr < -rising ? "↘ falling" : "→ steady";
  trend.title = tr == null ? "" : `${tr >= 0 ? "+" : "−"}${Math.abs(tr).toFixed(1)} bpm per minute`;
  $("suds-last").textContent = s.suds == null ? "—" : `${s.suds} at ${clock(s.suds_t)}`;

  const num = $("level-num");
  const inSafe = s.level === 0;
  num.textContent = inSafe ? "Safe" : String(s.level);
  num.dataset.safe = String(inSafe);
  $("level-top").textContent = String(s.top);
  $("level-name").textContent = inSafe ? (s.phase === "baseline" ? "Baseline in the calm scene" : "Calm safe scene") : levelLabel(s.level);
  $("dwell").textContent = `${clock(s.dwell_s)} at this level`;
  $("mode").textContent = s.auto ? "Automatic" : "Manual";
  $("next-step").textContent = s.next_step || "";
  $("next-step").closest(".outlook").dataset.waits = /\bSUDS\b/.test(s.next_step || "") ? "suds" : "";

  const ended = s.phase === "ended";
  const live = app.connected && !ended;
  $("step-up").disabled = !live || (s.level >= s.top && s.phase === "exposure");
  $("step-down").disabled = !live || s.phase === "baseline" || s.phase === "safe";
  $("safe").disabled = !live || s.phase === "safe";
  const pause = $("pause");
  const resumable = s.phase === "paused" || s.phase === "safe";
  pause.textContent = resumable ? "Resume" : "Pause";
  pause.dataset.command = resumable ? "resume" : "pause";
  pause.disabled = !live || !(resumable || s.phase === "exposure");
  const auto = $("auto");
  auto.setAttribute("aria-pressed", String(s.auto));
  auto.innerHTML = `Automatic <b>${s.auto ? "on" : "off"}</b>`;
  auto.disabled = !live;
  $("set-level").disabled = !live;
  $("level-select").disabled = !live;
  $("end").disabled = !live;
  for (const b of document.querySelectorAll("#scene-events .btn, #suds-send, #suds-ask, #scene-sound")) b.disabled = !live;
  $("note-send").disabled = !app.connected;
  renderSceneSound(s);

  renderLadder();
  renderAlerts();
  renderSudsDue();
  if (app.chart) app.chartDirty = true;
}

function renderLink() {
  const link = $("link");
  link.dataset.state = app.connected ? "up" : "down";
  link.textContent = app.connected ? "Live" : "Offline";
  if (app.state) render();
}

function renderFrames() {
  const el = $("render-health");
  const f = app.frames;
  if (!f) { el.textContent = "Headset: no report"; el.dataset.state = ""; return; }
  const parts = [`Headset ${f.fps == null ? "—" : Math.round(f.fps)} fps`];
  if (f.p99_ms != null) parts.push(`p99 ${Number(f.p99_ms).toFixed(1)} ms`);
  parts.push(`${f.late ?? 0} late`);
  // the headset draws the scene plainer while its frames come close to late (and gives the
  // detail back when they are cheap again): said, so a plainer scene is never a mystery
  if (f.detail > 0) parts.push(`detail lowered (${f.detail} of ${f.detail_steps})`);
  el.textContent = parts.join(" · ");
  el.title = f.detail > 0
    ? "The headset draws the scene with less detail to keep its frames on time."
    : "";
  el.dataset.state = f.late > 0 ? "bad" : "";
}

// The scene's sound in the headset (not the coach's voice): the button is the therapist's
// choice, the line beside it what the headset reports it plays (answers to a command carry
// no report: the last one stays)
function renderSceneSound(s) {
  if (s.scene_sound) app.sceneSound = s.scene_sound;
  const sound = app.sceneSound || { muted: false, headset_muted: null };
  $("scene-sound").setAttribute("aria-pressed", String(sound.muted));
  const heard = sound.headset_muted;
  const text = heard == null ? "Headset: no report"
    : heard !== sound.muted ? `Headset: scene sound ${heard ? "muted" : "on"} (changing…)`
    : heard ? "Headset: scene sound muted" : "Headset: scene sound on";
  const el = $("scene-sound-heard");
  if (el.textContent !== text) el.textContent = text;  // a live region: only real changes
  el.dataset.state = heard == null ? "none" : heard ? "muted" : "on";
}

function renderAlerts() {
  const s = app.state;
  const list = app.ended ? [] : [...(s ? s.alerts : []), ...app.localAlerts.values()];
  list.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
  $("no-alerts").hidden = list.length > 0 || !!app.ended;
  const critical = list.some((a) => a.severity === "critical");
  document.title = app.ended ? endedTitle(app.ended) : critical ? "⚠ ALERT · vret console" : TITLE;
  // one row per alert kind, updated in place: the state comes 10 times a second, and a row
  // rebuilt each time would be read out again and again and flicker under the finger
  const box = $("alerts");
  const rows = new Map([...box.children].map((row) => [row.dataset.kind, row]));
  list.forEach((a, i) => {
    let row = rows.get(a.kind);
    rows.delete(a.kind);
    if (!row) {
      row = document.createElement("div");
      row.className = "alert";
      row.dataset.kind = a.kind;
      const icon = document.createElement("span");
      icon.className = "icon";
      const text = document.createElement("span");
      text.className = "message";
      const when = document.createElement("span");
      when.className = "when";
      row.append(icon, text, when);
    }
    if (row.dataset.severity !== a.severity) {
      row.dataset.severity = a.severity;
      row.setAttribute("role", a.severity === "critical" ? "alert" : "status");
      row.querySelector(".icon").textContent = a.severity === "info" ? "ℹ" : "⚠";
    }
    const since = a.t != null && !a.local ? `since ${clock(onsetOf(a))}` : "";
    const text = row.querySelector(".message"), when = row.querySelector(".when");
    if (text.textContent !== a.message) text.textContent = a.message;
    if (when.textContent !== since) when.textContent = since;
    if (box.children[i] !== row) box.insertBefore(row, box.children[i] || null);
  });
  for (const row of rows.values()) row.remove();
}

/* ------------------------------------------------------------------ the end of a session */

function sessionNumber(ended) {
  const id = ended ? ended.session_id : app.state && app.state.session_id;
  return id == null ? "" : ` ${id}`;
}
function endedTitle(ended) { return `Session${sessionNumber(ended)} ended · vret console`; }

function showEnded(ended) {
  // `ended` is the server's farewell; null when the server stopped without one after End
  app.localAlerts.clear();
  if (!app.ended) app.ended = ended || { session_id: app.state && app.state.session_id, saved: null };
  const e = app.ended;
  const text = e.kept === false ? `Session${sessionNumber(e)} ended (a try-out: its record is not kept).`
    : e.saved === true ? `Session${sessionNumber(e)} ended, record saved.`
    : e.saved === false ? `Session${sessionNumber(e)} ended, but its record could not be fully saved: see the station's terminal.`
    : `Session${sessionNumber(e)} ended; the console has stopped.`;
  $("ended-text").textContent = text;
  $("ended-report").textContent = e.report || "";
  $("ended-report-line").hidden = !e.report;
  const open = $("ended-open");
  if (e.report_html && !open.href) {
    // the report travels with the goodbye, so this link works after the console has stopped
    open.href = URL.createObjectURL(new Blob([e.report_html], { type: "text/html" }));
    open.hidden = false;
  }
  $("ended").hidden = false;
  // a station's session goes back to the station's home page, where its report is a click away
  if (e.home) setTimeout(() => { location.assign(e.home); }, 1500);
  const link = $("link");
  link.dataset.state = "down";
  link.textContent = "Ended";
  if (app.state) render();
  renderAlerts();
}

/* ------------------------------------------------------------------ ladder */

function buildLadder() {
  const ol = $("ladder"), sel = $("level-select");
  ol.textContent = ""; sel.textContent = "";
  const levels = app.ladder.levels;
  for (let n = levels.length; n >= 0; n--) {
    const li = document.createElement("li");
    li.dataset.level = String(n);
    const num = document.createElement("span"); num.className = "n"; num.textContent = n === 0 ? "" : String(n);
    const name = document.createElement("span"); name.className = "name"; name.textContent = n === 0 ? "Safe scene" : levels[n - 1].name;
    const suds = document.createElement("span"); suds.className = "s";
    if (n > 0 && levels[n - 1].suds != null) { suds.textContent = String(levels[n - 1].suds); suds.title = "Expected SUDS"; }
    if (n > 0 && levels[n - 1].description) li.title = levels[n - 1].description;
    li.append(num, name, suds);
    if (n === 0) li.className = "safe-row";
    li.addEventListener("click", () => chooseLevel(n));
    ol.append(li);
  }
  for (let n = 1; n <= levels.length; n++) {
    const opt = document.createElement("option");
    opt.value = String(n);
    opt.textContent = `${n} · ${levels[n - 1].name}`;
    sel.append(opt);
  }
}

function chooseLevel(n) {
  if (n === 0) { toast("The safe scene has its own button: Safe scene.", ""); return; }
  app.chosenLevel = n;
  $("level-select").value = String(n);
  renderLadder();
  $("set-level").focus();
}

function renderLadder() {
  const s = app.state;
  if (!s || !app.ladder) return;
  for (const li of $("ladder").children) {
    const n = Number(li.dataset.level);
    li.dataset.current = String(n === s.level);
    li.dataset.done = String(n > 0 && n < s.level);
    li.dataset.chosen = String(app.chosenLevel === n && n !== s.level);
    li.dataset.resume = String(n === s.resume_level && (s.phase === "safe"));
  }
  const sel = $("level-select");
  if (app.chosenLevel == null && document.activeElement !== sel && s.level > 0) sel.value = String(s.level);
}

/* ------------------------------------------------------------------ log */

// the coach's own mute, in words apart from the scene sound's (which leaves the coach's voice)
const COACH_WORDS = {
  mute: "Therapist muted the coach: it says nothing by itself",
  unmute: "Therapist unmuted the coach",
};

function eventEntry(e) {
  const who = e.by === "client" ? "Client" : "Therapist";
  switch (e.type) {
    case "note": return { t: e.t, kind: "note", text: e.text };
    case "scene_event": return { t: e.t, kind: "event", text: `Scene event: ${pretty(e.name)}` };
    case "suds": return { t: e.t, kind: "suds", text: `SUDS ${e.value}${e.by === "client" ? " (client, in the headset)" : ""}` };
    case "ask_suds": return { t: e.t, kind: "event", text: "Asked the client for SUDS in the headset" };
    case "recentre": return { t: e.t, kind: "command", text: `${who} recentred the client's view` };
    case "pause": return { t: e.t, kind: "command", text: `${who} paused` };
    case "resume": return { t: e.t, kind: "command", text: `${who} resumed` };
    case "auto_on": return { t: e.t, kind: "command", text: `${who} switched automatic mode on` };
    case "auto_off": return { t: e.t, kind: "command", text: `${who} switched automatic mode off (manual)` };
    case "system": return { t: e.t, kind: "system", text: `${pretty(e.kind)}${e.detail ? ` (${e.detail})` : ""}` };
    case "measure": return { t: e.t, kind: "measure", text: e.instrument === "sickness" ? `Sickness ${e.scores.sickness}/10` : `${e.instrument.toUpperCase()} (${e.phase}): ${Object.entries(e.scores).map(([k, v]) => `${k} ${Math.round(v * 10) / 10}`).join(", ")}` };
    case "expectancy": return { t: e.t, kind: "measure", text: e.stage === "before" ? `Expectancy, step ${e.level}: "${e.expectation}" (${e.likelihood} %)` : `Expectancy, step ${e.level}: ${e.happened ? "it happened" : "it did not happen"}, surprise ${e.surprise}` };
    case "coach": return { t: e.t, kind: "coach", text: `Coach${e.by === "clinician" ? " (therapist)" : ""}: “${e.text}”` };
    case "coach_control": return { t: e.t, kind: "command", text: e.action === "mode" ? `Therapist set the coach to ${e.mode}` : COACH_WORDS[e.action] || `Therapist: coach ${e.action}` };
    case "scene_sound": return { t: e.t, kind: "command", text: e.muted ? `${who} muted the scene sound in the headset` : `${who} turned the scene sound back on` };
    default: return null; // level changes are logged from their decisions, with the reason
  }
}
function decisionEntry(d) {
  return { t: d.t, kind: `decision-${d.who}`, text: `${d.who === "auto" ? "Automatic: " : ""}${d.reason}` };
}
function decisionLine(d) {
  const who = d.who === "auto" ? "automatic" : d.who === "client" ? "client" : "therapist";
  return `Last change at ${clock(d.t)} (${who}): ${d.reason}`;
}
function alertEntry(a) {
  if (a.kind === "command_refused") return { t: a.t, kind: "refused", text: `Not done: ${a.message}` };
  return { t: a.t, kind: a.active ? `alert-${a.severity}` : "alert-cleared", text: a.active ? a.message : `Cleared: ${a.message}` };
}
function addLog(entry) {
  if (!entry) return null;
  const li = document.createElement("li");
  li.dataset.kind = entry.kind;
  const time = document.createElement("time");
  time.textContent = clock(entry.t);
  const text = document.createElement("span");
  text.className = "text";
  text.textContent = entry.text;
  li.append(time, text);
  const log = $("log");
  log.prepend(li);
  while (log.children.length > 400) log.lastChild.remove();
  return li;
}

/* ------------------------------------------------------------------ commands */

async function send(command, button, path = "/api/commands") {
  if (button) button.dataset.busy = "true";
  try {
    const r = await fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(command),
      cache: "no-store",
    });
    const body = await r.json().catch(() => ({}));
    if (r.ok) {
      const refused = (body.effects || []).find((e) => e.type === "alert" && e.kind === "command_refused");
      if (refused) toast(refused.message, "bad");
      const { effects, ...state } = body;
      onState(state);
      return true;
    }
    if (r.status === 401) checkToken();
    toast(body.detail || `The console answered ${r.status}.`, "bad");
  } catch (_) {
    toast("The console cannot be reached: check that the session is still running.", "bad");
  } finally {
    if (button) delete button.dataset.busy;
  }
  return false;
}

let toastTimer = 0;
function toast(message, tone) {
  const el = $("toast");
  el.textContent = message;
  el.dataset.tone = tone || "";
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 4500);
}

function chime(times) {
  if (!app.audio) return;
  try {
    const ctx = app.audio;
    for (let i = 0; i < times; i++) {
      const osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = 660;
      const t0 = ctx.currentTime + i * 0.35;
      gain.gain.setValueAtTime(0.0001, t0);
      gain.gain.exponentialRampToValueAtTime(0.25, t0 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + 0.3);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t0); osc.stop(t0 + 0.32);
    }
  } catch (_) { /* sound is a courtesy; the banner is the alert */ }
}

function unlockAudio() {
  if (app.audio || !window.AudioContext) return;
  try { app.audio = new AudioContext(); } catch (_) { app.audio = null; }
}

/* ------------------------------------------------------------------ SUDS, notes, events, view */

function setupSudsInterval() {
  const sel = $("suds-interval");
  const saved = localStorage.getItem("vret.sudsInterval");
  // the core reminds at the latest when the dwell is up, so a rating comes before each step up
  const cfg = app.settings || {};
  const every = Math.min(cfg.suds_reminder_s || 300, cfg.min_dwell_s || Infinity);
  const fallback = String(Math.round(every));
  let value = saved != null ? saved : fallback;
  if (![...sel.options].some((o) => o.value === value)) {
    const opt = document.createElement("option");
    opt.value = value;
    const n = Number(value);
    opt.textContent = n < 60 ? `${n} s` : n % 60 ? `${clock(n)} min` : `${n / 60} min`;
    sel.prepend(opt);
  }
  sel.value = value;
}

function renderSudsDue() {
  const s = app.state, card = $("suds-card"), label = $("suds-due");
  const interval = Number($("suds-interval").value);
  if (!s || !interval || s.phase !== "exposure") {
    card.dataset.due = "false"; label.textContent = ""; app.sudsDueShown = false; return;
  }
  const since = s.suds_t != null && s.suds_t >= s.level_since ? s.suds_t : Math.max(s.level_since, s.suds_t ?? -Infinity);
  const left = since + interval - s.t;
  const due = left <= 0;
  card.dataset.due = String(due);
  label.textContent = due ? "Due now: ask the client" : `next in ${clock(left)}`;
  if (due && !app.sudsDueShown) chime(1);
  app.sudsDueShown = due;
}

function buildSceneEvents() {
  const box = $("scene-events");
  box.textContent = "";
  const names = app.console.scene_events || [];
  if (!names.length) {
    const p = document.createElement("p");
    p.className = "muted small";
    p.textContent = "This scene has no events to trigger.";
    box.append(p);
    return;
  }
  for (const name of names) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "btn";
    b.textContent = pretty(name);
    b.addEventListener("click", () => send({ type: "scene_event", name }, b));
    box.append(b);
  }
}

let viewTimer = 0, viewUrl = null;
function setupClientView() {
  clearInterval(viewTimer);
  const img = $("view"), empty = $("view-empty");
  if (!app.console.client_view) {
    img.hidden = true; empty.hidden = false;
    empty.textContent = "The headset display sends no picture in this session.";
    return;
  }
  empty.textContent = "Waiting for a picture from the headset…";
  viewTimer = setInterval(async () => {
    if (!app.connected || document.hidden) return;
    try {
      const r = await fetch("/api/client-view.jpg", { cache: "no-store" });
      if (r.status !== 200) { img.hidden = true; empty.hidden = false; return; }
      const url = URL.createObjectURL(await r.blob());
      img.src = url; img.hidden = false; empty.hidden = true;
      if (viewUrl) URL.revokeObjectURL(viewUrl);
      viewUrl = url;
    } catch (_) { /* the connection alert covers a lost server */ }
  }, 350);
}

/* ------------------------------------------------------------------ wiring */

function typing(el) {
  return !!el && (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT"
    || (el.tagName === "INPUT" && !["button", "checkbox", "radio", "range", "submit"].includes(el.type)));
}

function onKey(ev) {
  // Shift+S anywhere but in a text field: the safe scene. Escape leaves a text field first, so
  // a note half written cannot swallow it and a capital S typed in a note cannot trigger it.
  if (ev.key === "Escape" && typing(ev.target)) { ev.target.blur(); return; }
  if ((ev.key === "S" || ev.key === "s") && ev.shiftKey && !ev.ctrlKey && !ev.altKey && !ev.metaKey
      && !ev.repeat && !typing(ev.target)) {
    ev.preventDefault();
    const safe = $("safe");
    if (!safe.disabled) { safe.focus(); send({ type: "safe" }, safe); }
  }
}

function wire() {
  document.addEventListener("pointerdown", unlockAudio, { once: true });
  document.addEventListener("keydown", onKey);
  $("ended-copy").addEventListener("click", async () => {
    try { await navigator.clipboard.writeText($("ended-report").textContent); toast("Copied the report command.", ""); }
    catch (_) { toast("Select the command and copy it by hand.", ""); }
  });
  for (const id of ["step-up", "step-down", "safe"]) {
    const b = $(id);
    b.addEventListener("click", () => send({ type: b.dataset.command }, b));
  }
  $("pause").addEventListener("click", (ev) => send({ type: ev.currentTarget.dataset.command }, ev.currentTarget));
  $("auto").addEventListener("click", (ev) => send({ type: app.state && app.state.auto ? "auto_off" : "auto_on" }, ev.currentTarget));
  $("set-level").addEventListener("click", async (ev) => {
    const level = Number($("level-select").value);
    if (await send({ type: "set_level", level }, ev.currentTarget)) { app.chosenLevel = null; renderLadder(); }
  });
  $("level-select").addEventListener("change", (ev) => { app.chosenLevel = Number(ev.target.value); renderLadder(); });
  const end = $("end");
  end.addEventListener("click", () => {
    if (performance.now() < app.endArmedUntil) {
      app.endArmedUntil = 0;
      end.dataset.armed = "false"; end.textContent = "End session";
      send({ type: "end" }, end);
      return;
    }
    app.endArmedUntil = performance.now() + 4000;
    end.dataset.armed = "true"; end.textContent = "Tap again to end the session";
    setTimeout(() => {
      if (performance.now() >= app.endArmedUntil) { end.dataset.armed = "false"; end.textContent = "End session"; }
    }, 4100);
  });
  const range = $("suds-range"), value = $("suds-value");
  range.addEventListener("input", () => { value.value = range.value; });
  value.addEventListener("input", () => { range.value = value.value; });
  $("suds-send").addEventListener("click", (ev) => {
    const v = Number(value.value);
    if (!Number.isInteger(v) || v < 0 || v > 100) { toast("SUDS is a whole number from 0 to 100.", "bad"); return; }
    send({ type: "suds", value: v }, ev.currentTarget);
  });
  $("suds-ask").addEventListener("click", (ev) => send({ type: "ask_suds" }, ev.currentTarget));
  $("scene-sound").addEventListener("click", (ev) => {
    const muted = !(app.sceneSound && app.sceneSound.muted);
    send({ muted }, ev.currentTarget, "/api/scene-sound");
  });
  $("suds-interval").addEventListener("change", (ev) => {
    localStorage.setItem("vret.sudsInterval", ev.target.value);
    renderSudsDue();
  });
  $("note-send").addEventListener("click", async (ev) => {
    const text = $("note").value.trim();
    if (!text) { toast("Write the note first.", ""); return; }
    if (await send({ type: "note", text }, ev.currentTarget)) $("note").value = "";
  });
  $("note").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) $("note-send").click();
  });
  for (const b of document.querySelectorAll(".span-picker button")) {
    b.addEventListener("click", () => {
      app.span = Number(b.dataset.span);
      for (const o of document.querySelectorAll(".span-picker button")) o.classList.toggle("on", o === b);
      app.chartDirty = true;
    });
  }
}

function frame() {
  if (app.chartDirty) drawChart();
  requestAnimationFrame(frame);
}

function showPages() {
  // the clients and clinic pages open in a new tab (this one keeps Safe in reach), when served
  fetch("/api/pages", { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : {}))
    .then((pages) => { if (pages.clients) document.getElementById("pages").hidden = false; })
    .catch(() => {});
}

function start() {
  wire();
  makeChart();
  connect();
  showPages();
  setInterval(watchdog, 1000);
  requestAnimationFrame(frame);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
