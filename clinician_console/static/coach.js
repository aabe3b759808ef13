/* vret console: the coach panel. What the coach in the headset says next and why; say it now,
   skip it, mute the coach, type a line for it, set its form; and the therapist's own voice for
   its lines, recorded here with the browser's microphone (MediaRecorder), decoded to 16-bit WAV
   in the page and kept by the station, so the client hears their own therapist. */
"use strict";

const coach = { view: null, recorder: null, recording: null, chunks: [], timer: null };

function cEl(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v);
  }
  el.append(...children);
  return el;
}

function cToast(message, tone) {
  if (typeof toast === "function") toast(message, tone);
}

async function coachFetch(path, options) {
  try {
    const r = await fetch(path, { cache: "no-store", ...options });
    const answer = await r.json().catch(() => ({}));
    if (!r.ok) {
      cToast(answer.detail || `The console answered ${r.status}.`, "bad");
      return null;
    }
    return answer;
  } catch (_) {
    cToast("The console cannot be reached: check that the session is still running.", "bad");
    return null;
  }
}

async function coachCommand(body) {
  const answer = await coachFetch("/api/coach", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (answer && answer.note) cToast(answer.note, "bad");
  await refreshCoach();
  return answer;
}

/* ------------------------------------------------------------------ the panel */

async function refreshCoach() {
  const view = await coachFetch("/api/coach");
  if (!view) return;
  coach.view = view;
  if (!view.enabled && coach.timer) {  // a session without a coach: nothing to follow
    clearInterval(coach.timer);
    coach.timer = null;
  }
  renderCoach();
}

function renderCoach() {
  const view = coach.view;
  const card = document.getElementById("coach-card");
  if (!card || !view) return;
  card.hidden = !view.enabled;
  if (!view.enabled) return;
  document.getElementById("coach-status").textContent =
    `${view.mode === "person" ? "A figure at the client's side" : view.mode === "voice" ? "A voice with a soft light" : "Hidden (off)"}` +
    (view.muted ? " · muted: it says nothing by itself" : "");
  const mute = document.getElementById("coach-mute");
  mute.textContent = view.muted ? "Unmute" : "Mute";
  mute.setAttribute("aria-pressed", String(view.muted));
  document.getElementById("coach-mode").value = view.mode;
  const next = document.getElementById("coach-next");
  if (view.next) {
    const when = view.next.in_s > 0 ? `by itself in ${Math.ceil(view.next.in_s)} s at the soonest` : "by itself when its moment comes";
    next.replaceChildren(
      cEl("p", { class: "coach-line", text: `\u201c${view.next.text}\u201d` }),
      cEl("p", { class: "muted", text: `Why: ${view.next.why}; ${when}.` }),
    );
  } else {
    next.replaceChildren(cEl("p", { class: "muted", text: "Nothing to say now." }));
  }
  const said = view.said.slice(-4).reverse().map((l) =>
    cEl("li", {}, cEl("time", { text: typeof clock === "function" ? clock(l.t) : `${l.t.toFixed(0)} s` }),
      cEl("span", { text: `${l.by === "clinician" ? "(you) " : ""}\u201c${l.text}\u201d` })));
  document.getElementById("coach-said").replaceChildren(...said);
  const spoken = document.getElementById("coach-spoken");
  spoken.textContent = view.spoken ? `In the headset: ${view.spoken.sound ? "playing" : "caption only"}` : "";
  renderRecordings();
}

function renderRecordings() {
  const list = document.getElementById("coach-lines");
  if (!list || !coach.view) return;
  const rows = coach.view.lines.map((line) => {
    const busy = coach.recording === line.id;
    const record = cEl("button", { type: "button", class: "btn small", "data-line": line.id,
      "data-action": busy ? "stop" : "record", text: busy ? "\u25A0 Stop" : "\u25CF Record" });
    const buttons = [record];
    if (line.recorded) {
      buttons.push(cEl("button", { type: "button", class: "btn small", "data-line": line.id, "data-action": "play", text: "\u25B6 Play" }));
      buttons.push(cEl("button", { type: "button", class: "btn small", "data-line": line.id, "data-action": "delete", text: "Use TTS" }));
    }
    return cEl("li", { "data-line": line.id, "data-recorded": String(line.recorded) },
      cEl("span", { class: "coach-source", text: line.recorded ? "your voice" : line.source }),
      cEl("span", { class: "coach-text", text: line.text }),
      cEl("span", { class: "coach-buttons" }, ...buttons));
  });
  list.replaceChildren(...rows);
}

/* ------------------------------------------------------------------ recording */

async function startRecording(lineId) {
  if (!navigator.mediaDevices || !window.MediaRecorder) {
    cToast("This browser cannot record: use a current Chrome, Edge or Firefox.", "bad");
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (_) {
    cToast("The microphone is not available: allow it for this page and try again.", "bad");
    return;
  }
  coach.chunks = [];
  coach.recorder = new MediaRecorder(stream);
  coach.recording = lineId;
  coach.recorder.ondataavailable = (e) => { if (e.data.size) coach.chunks.push(e.data); };
  coach.recorder.onstop = async () => {
    stream.getTracks().forEach((t) => t.stop());
    const blob = new Blob(coach.chunks, { type: coach.recorder.mimeType });
    const id = coach.recording;
    coach.recording = null;
    renderRecordings();
    await uploadRecording(id, blob);
  };
  coach.recorder.start();
  renderRecordings();
}

function stopRecording() {
  if (coach.recorder && coach.recorder.state !== "inactive") coach.recorder.stop();
}

async function toWav(blob) {
  /* MediaRecorder gives Opus in WebM or Ogg; the headset plays WAV: decode it here. */
  const context = new (window.AudioContext || window.webkitAudioContext)();
  const audio = await context.decodeAudioData(await blob.arrayBuffer());
  context.close();
  const n = audio.length, rate = audio.sampleRate, channels = audio.numberOfChannels;
  const mono = new Float32Array(n);
  for (let c = 0; c < channels; c++) {
    const data = audio.getChannelData(c);
    for (let i = 0; i < n; i++) mono[i] += data[i] / channels;
  }
  const buffer = new ArrayBuffer(44 + n * 2);
  const v = new DataView(buffer);
  const text = (at, s) => { for (let i = 0; i < s.length; i++) v.setUint8(at + i, s.charCodeAt(i)); };
  text(0, "RIFF"); v.setUint32(4, 36 + n * 2, true); text(8, "WAVE"); text(12, "fmt ");
  v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 1, true);
  v.setUint32(24, rate, true); v.setUint32(28, rate * 2, true); v.setUint16(32, 2, true);
  v.setUint16(34, 16, true); text(36, "data"); v.setUint32(40, n * 2, true);
  for (let i = 0; i < n; i++) {
    const s = Math.max(-1, Math.min(1, mono[i]));
    v.setInt16(44 + i * 2, s < 0 ? s * 0x8000 : s * 0x7fff, true);
  }
  return new Blob([buffer], { type: "audio/wav" });
}

async function uploadRecording(lineId, blob) {
  let wav;
  try {
    wav = await toWav(blob);
  } catch (_) {
    cToast("The recording could not be read: record the line again.", "bad");
    return;
  }
  const answer = await coachFetch(`/api/coach/recordings/${encodeURIComponent(lineId)}`, {
    method: "PUT",
    headers: { "content-type": "audio/wav" },
    body: wav,
  });
  if (answer) cToast(`Your voice for this line is kept (${answer.seconds} s).`, "good");
  await refreshCoach();
}

/* ------------------------------------------------------------------ answers from the headset */

function answerArrived(e) {
  /* A measure or expectancy rating, from the headset's panel or the console: the measures
     panel (measures.js) shows it as it arrives, once. */
  if (e.type !== "measure" && e.type !== "expectancy") return;
  if (typeof measures === "undefined" || typeof renderRecorded !== "function") return;
  const same = (a) => a.type === e.type && a.t === e.t && a.instrument === e.instrument && a.stage === e.stage && a.level === e.level;
  // one entered on this page is added by its own request's answer: look after that has come
  setTimeout(() => {
    if (measures.recorded.some(same)) return;
    measures.recorded.push(e);
    renderRecorded();
  }, 800);
}

/* ------------------------------------------------------------------ wiring */

function wireCoach() {
  const card = document.getElementById("coach-card");
  if (!card) return;
  document.getElementById("coach-trigger").addEventListener("click", () => coachCommand({ action: "trigger" }));
  document.getElementById("coach-skip").addEventListener("click", () => coachCommand({ action: "skip" }));
  document.getElementById("coach-mute").addEventListener("click", () =>
    coachCommand({ action: coach.view && coach.view.muted ? "unmute" : "mute" }));
  document.getElementById("coach-mode").addEventListener("change", (e) =>
    coachCommand({ action: "mode", mode: e.target.value }));
  document.getElementById("coach-ask-send").addEventListener("click", () =>
    coachCommand({ action: "ask", ask: document.getElementById("coach-ask").value }));
  document.getElementById("coach-say-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = document.getElementById("coach-text");
    const text = input.value.trim();
    if (!text) { cToast("Type the line the coach should say.", "bad"); return; }
    if (await coachCommand({ action: "say", text })) input.value = "";
  });
  document.getElementById("coach-lines").addEventListener("click", async (e) => {
    const button = e.target.closest("button[data-action]");
    if (!button) return;
    const id = button.dataset.line;
    switch (button.dataset.action) {
      case "record": return startRecording(id);
      case "stop": return stopRecording();
      case "play": return new Audio(`/api/coach/recordings/${encodeURIComponent(id)}`).play().catch(() => {});
      case "delete":
        await coachFetch(`/api/coach/recordings/${encodeURIComponent(id)}`, { method: "DELETE" });
        return refreshCoach();
    }
  });
  refreshCoach();
  coach.timer = setInterval(refreshCoach, 1000);
}

document.addEventListener("DOMContentLoaded", wireCoach);
