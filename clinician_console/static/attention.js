/* vret clinician console: attention from head tracking. The gauge, the attention line on the chart,
   the gaze mark on the client's view, and the Recentre button. console.js calls the hooks
   (hello, state, drawOnChart); everything else lives here. Attention is the share of the last
   10 s the client looked at the stimulus; under the threshold the core holds automatic step ups. */
"use strict";

(function () {
  const HISTORY_S = 3600;
  const POINT_S = 1;
  const att = {
    points: [],        // [t, attention or null] a second apart: the line on the chart
    state: null,
    cone: 30,          // degrees around gaze that count as looking at the stimulus
    fov: 80,           // horizontal field of view of the client's-view picture
  };

  function pctText(x) { return `${Math.round(x * 100)}%`; }

  function hello(h) {
    att.points = (h.attention || []).slice();
    const c = h.console || {};
    if (c.gaze_cone_deg) att.cone = c.gaze_cone_deg;
    if (c.client_view_fov_deg) att.fov = c.client_view_fov_deg;
    setupMark();
  }

  function state(s) {
    if (s.tracking === undefined) return;
    // a command's answer carries no gaze: keep the latest until the next state message
    if (s.gaze === undefined && att.state) s = { ...s, gaze: att.state.gaze };
    att.state = s;
    const value = s.tracking === "ok" ? s.attention : null;
    const last = att.points[att.points.length - 1];
    if (!last || (value !== last[1] && (s.t - last[0] >= POINT_S || value === null))) {
      att.points.push([s.t, value]);
      while (att.points.length && att.points[0][0] < s.t - HISTORY_S) att.points.shift();
    }
    renderGauge(s);
    renderMark(s);
  }

  /* ---------------------------------------------------------------- the gauge */

  function renderGauge(s) {
    const el = document.getElementById("attention");
    const note = document.getElementById("attention-note");
    const bar = document.getElementById("attention-bar");
    const mark = document.getElementById("attention-min");
    const vital = document.getElementById("attention-vital");
    if (!el) return;
    const cfg = (typeof app !== "undefined" && app.settings) || {};
    const min = cfg.attention_min != null ? cfg.attention_min : 0.5;
    const windowS = cfg.attention_window_s || 10;
    if (mark) mark.style.left = `${min * 100}%`;
    vital.dataset.tracking = s.tracking;
    if (s.tracking === "none") {
      el.textContent = "—";
      note.textContent = "attention: no head tracking";
      note.title = "No head pose reaches the station, so the attention rule is off.";
      bar.style.width = "0";
      vital.dataset.zone = "";
      return;
    }
    if (s.tracking === "lost") {
      el.textContent = "lost";
      note.textContent = "head tracking lost: step ups hold";
      note.title = "";
      bar.style.width = "0";
      vital.dataset.zone = "low";
      return;
    }
    const a = s.attention;
    el.textContent = a == null ? "—" : pctText(a);
    bar.style.width = a == null ? "0" : `${Math.max(0, Math.min(1, a)) * 100}%`;
    const low = a != null && min > 0 && a < min;
    vital.dataset.zone = low ? "low" : "ok";
    note.textContent = low
      ? `looked away ${pctText(1 - a)} of the last ${Math.round(windowS)} s`
      : `on the stimulus, last ${Math.round(windowS)} s`;
    note.title = min > 0 ? `Automatic step ups hold under ${pctText(min)}.` : "The attention rule is off (threshold 0).";
  }

  /* ---------------------------------------------------------------- the chart line */

  function drawOnChart(u) {
    const pts = att.points;
    if (!pts.length || !pts.some((p) => p[1] != null)) return;
    const ctx = u.ctx, { left, top, width, height } = u.bbox;
    const dpr = window.devicePixelRatio || 1;
    const now = att.state ? att.state.t : pts[pts.length - 1][0];
    const y = (a) => top + height * (1 - a);
    ctx.save();
    ctx.beginPath(); ctx.rect(left, top, width, height); ctx.clip();
    ctx.strokeStyle = "#7b3fa0"; ctx.lineWidth = 1.75 * dpr; ctx.setLineDash([5 * dpr, 3 * dpr]);
    ctx.beginPath();
    let drawing = false;
    for (let i = 0; i < pts.length; i++) {
      const [t, a] = pts[i];
      if (a == null) { drawing = false; continue; }
      const x = u.valToPos(t, "x", true);
      const tEnd = i + 1 < pts.length ? pts[i + 1][0] : now;
      const xEnd = u.valToPos(tEnd, "x", true);
      if (!drawing) { ctx.moveTo(x, y(a)); drawing = true; } else { ctx.lineTo(x, y(a)); }
      ctx.lineTo(xEnd, y(a));   // attention holds its value until the next point
    }
    ctx.stroke();
    ctx.setLineDash([]);
    const s = att.state;
    const current = s && s.tracking === "ok" ? s.attention : pts[pts.length - 1][1];
    if (current != null) {  // the label says the live figure, as the gauge does
      ctx.font = `${11 * dpr}px system-ui, sans-serif`;
      ctx.fillStyle = "#7b3fa0";
      const text = `attention ${pctText(current)}`;
      const tx = left + width - ctx.measureText(text).width - 8 * dpr;
      ctx.fillText(text, tx, Math.max(top + 12 * dpr, y(current) - 5 * dpr));
    }
    ctx.restore();
  }

  /* ---------------------------------------------------------------- the gaze on the client's view */

  function setupMark() {
    const frame = document.querySelector(".view-frame");
    if (!frame || document.getElementById("gaze-mark")) return;
    frame.classList.add("has-gaze");
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.id = "gaze-mark";
    svg.setAttribute("aria-label", "Where the client looks");
    svg.innerHTML = '<circle class="cone"/><path class="cross"/><text class="tag"></text>';
    frame.append(svg);
  }

  function renderMark(s) {
    const svg = document.getElementById("gaze-mark");
    const img = document.getElementById("view");
    if (!svg || !img) return;
    const g = s.gaze;
    const shown = !img.hidden && img.naturalWidth > 0 && s.tracking !== "none";
    svg.style.display = shown ? "" : "none";
    if (!shown) return;
    // the picture is centred on the head's gaze; `contain` letterboxes it in the frame
    const fw = svg.clientWidth, fh = svg.clientHeight;
    const scale = Math.min(fw / img.naturalWidth, fh / img.naturalHeight);
    const w = img.naturalWidth * scale;
    const cx = fw / 2, cy = fh / 2;
    const r = (Math.tan((att.cone * Math.PI) / 180) / Math.tan((att.fov * Math.PI) / 360)) * (w / 2);
    const on = g && g.valid && g.distance_m != null && g.on_stimulus >= 0.5;
    svg.dataset.on = String(!!on);
    svg.dataset.valid = String(!g || g.valid);
    const cone = svg.querySelector(".cone");
    cone.setAttribute("cx", cx); cone.setAttribute("cy", cy); cone.setAttribute("r", Math.max(4, r));
    svg.querySelector(".cross").setAttribute("d", `M${cx - 9},${cy}h18M${cx},${cy - 9}v18`);
    const tag = svg.querySelector(".tag");
    tag.setAttribute("x", cx); tag.setAttribute("y", Math.max(12, cy - r - 6));
    tag.textContent = !g ? "gaze" : !g.valid ? "tracking lost"
      : g.distance_m == null ? "gaze" : on ? `on the stimulus · ${g.distance_m.toFixed(1)} m` : "looking away";
  }

  /* ---------------------------------------------------------------- recentre */

  function wire() {
    const b = document.getElementById("recentre");
    if (b && typeof send === "function") b.addEventListener("click", () => send({ type: "recentre" }, b));
  }

  window.vretAttention = { hello, state, drawOnChart, points: () => att.points.length };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wire);
  else wire();
})();
