/* vret console: the measures panel. SSQ before, during and after the session, the mid-session
   sickness rating ("sick, not scared"), and expectancy ratings before and after a step.
   The instruments (items, scales) come from GET /api/measures, which reads their data files;
   the server scores every entry and records it as a session event. */
"use strict";

const measures = {
  instruments: {},  // name -> the instrument as GET /api/measures sends it
  threshold: 5,
  recorded: [],
};

function mEl(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v);
  }
  el.append(...children);
  return el;
}

function mToast(message, tone) {
  if (typeof toast === "function") toast(message, tone);  // console.js's toast, when loaded
}

async function mPost(path, body, button) {
  if (button) button.dataset.busy = "true";
  try {
    const r = await fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      cache: "no-store",
    });
    const answer = await r.json().catch(() => ({}));
    if (!r.ok) {
      mToast(answer.detail || `The console answered ${r.status}.`, "bad");
      return null;
    }
    measures.recorded.push(answer.event);
    renderRecorded();
    return answer;
  } catch (_) {
    mToast("The console cannot be reached: check that the session is still running.", "bad");
    return null;
  } finally {
    if (button) delete button.dataset.busy;
  }
}

/* ------------------------------------------------------------------ sickness */

function sicknessBlock() {
  const item = measures.instruments.sickness.items[0];
  const select = mEl("select", { id: "sickness-value", "aria-label": "Sickness 0 to 10" });
  for (let v = item.min; v <= item.max; v++) {
    const label = item.labels[v - item.min];
    select.append(mEl("option", { value: String(v), text: label ? `${v} · ${label}` : String(v) }));
  }
  const button = mEl("button", { type: "button", id: "sickness-send", class: "btn", text: "Record sickness" });
  button.addEventListener("click", async () => {
    const value = Number(select.value);
    const answer = await mPost("/api/measures", { instrument: "sickness", phase: "mid", answers: [value] }, button);
    if (!answer) return;
    const sick = answer.effects.find((e) => e.type === "alert" && e.kind === "sick_not_scared");
    if (sick && sick.active) mToast(sick.message, "bad");
    else mToast(`Sickness ${value}/10 recorded.`, "");
  });
  return mEl("div", { class: "measure-block" },
    mEl("h3", { text: "Sickness now" }),
    mEl("p", { class: "muted small", text: `${measures.instruments.sickness.question} Above ${measures.threshold}: "sick, not scared".` }),
    mEl("div", { class: "measure-row" }, select, button));
}

/* ------------------------------------------------------------------ SSQ */

function ssqBlock() {
  const ssq = measures.instruments.ssq;
  const phase = mEl("select", { id: "ssq-phase", "aria-label": "When the SSQ is taken" },
    mEl("option", { value: "pre", text: "before the session" }),
    mEl("option", { value: "mid", text: "during the session" }),
    mEl("option", { value: "post", text: "after the session" }));
  const rows = ssq.items.map((item, i) => {
    const choice = mEl("select", { "data-item": item.id, "aria-label": item.text });
    for (let v = item.min; v <= item.max; v++) {
      choice.append(mEl("option", { value: String(v), text: item.labels[v - item.min] || String(v) }));
    }
    return mEl("li", {}, mEl("span", { text: `${i + 1}. ${item.text}` }), choice);
  });
  const button = mEl("button", { type: "button", id: "ssq-send", class: "btn btn-primary", text: "Record SSQ" });
  button.addEventListener("click", async () => {
    const answers = rows.map((li) => Number(li.querySelector("select").value));
    const answer = await mPost("/api/measures", { instrument: "ssq", phase: phase.value, answers }, button);
    if (!answer) return;
    mToast(`SSQ ${phaseWord(phase.value)}: total ${answer.event.scores.total.toFixed(1)}.`, "");
    for (const li of rows) li.querySelector("select").value = "0";
    if (phase.value === "pre") phase.value = "post";
  });
  const form = mEl("details", { id: "ssq-form" },
    mEl("summary", { text: `SSQ · ${ssq.question}` }),
    mEl("label", { class: "measure-row" }, "Taken ", phase),
    mEl("ol", { class: "ssq-items" }, ...rows),
    button);
  return mEl("div", { class: "measure-block" }, mEl("h3", { text: "Simulator sickness (SSQ)" }), form);
}

function phaseWord(phase) {
  return { pre: "before", mid: "during", post: "after" }[phase] || phase;
}

/* ------------------------------------------------------------------ expectancy */

function expectancyBlock() {
  const expectation = mEl("textarea", { id: "exp-expectation", rows: "2", maxlength: "500", placeholder: "What does the client expect will happen?" });
  const likelihood = mEl("input", { id: "exp-likelihood", type: "number", min: "0", max: "100", step: "5", value: "50", "aria-label": "How likely, percent" });
  const before = mEl("button", { type: "button", id: "exp-before", class: "btn", text: "Record before the step" });
  before.addEventListener("click", async () => {
    const text = expectation.value.trim();
    if (!text) { mToast("Write what the client expects first.", ""); return; }
    const body = { stage: "before", expectation: text, likelihood: Number(likelihood.value) };
    if (await mPost("/api/expectancy", body, before)) expectation.value = "";
  });
  const happened = mEl("select", { id: "exp-happened", "aria-label": "Did it happen?" },
    mEl("option", { value: "false", text: "it did not happen" }),
    mEl("option", { value: "true", text: "it happened" }));
  const surprise = mEl("input", { id: "exp-surprise", type: "number", min: "0", max: "100", step: "5", value: "50", "aria-label": "How surprised, 0 to 100" });
  const after = mEl("button", { type: "button", id: "exp-after", class: "btn", text: "Record after the step" });
  after.addEventListener("click", async () => {
    const body = { stage: "after", happened: happened.value === "true", surprise: Number(surprise.value) };
    const pending = lastBefore(null);
    if (pending) body.level = pending.level;  // the step the expectation was about, even after a move
    await mPost("/api/expectancy", body, after);
  });
  return mEl("div", { class: "measure-block" },
    mEl("h3", { text: "Expectancy" }),
    mEl("p", { class: "muted small", text: "Before a step: what the client expects and how likely (%). After it: did it happen, and how surprised (0-100)." }),
    expectation,
    mEl("label", { class: "measure-row" }, "Likelihood % ", likelihood, before),
    mEl("div", { class: "measure-row" }, happened, mEl("label", {}, "Surprise ", surprise), after));
}

function lastBefore(level) {
  for (let i = measures.recorded.length - 1; i >= 0; i--) {
    const e = measures.recorded[i];
    if (e.type === "expectancy" && e.stage === "before" && (level == null || e.level === level)) return e;
  }
  return null;
}

/* ------------------------------------------------------------------ recorded */

function measureLine(e, index) {
  if (e.type === "expectancy") {
    if (e.stage === "before") return `Step ${e.level}, expected: "${e.expectation}" (${e.likelihood} %)`;
    const earlier = measures.recorded.slice(0, index).reverse().find((b) => b.type === "expectancy" && b.stage === "before" && b.level === e.level);
    const violation = earlier ? earlier.likelihood - (e.happened ? 100 : 0) : null;
    const v = violation == null ? "" : `, violation ${violation > 0 ? "+" : ""}${violation}`;
    return `Step ${e.level}: ${e.happened ? "it happened" : "it did not happen"}, surprise ${e.surprise}${v}`;
  }
  if (e.instrument === "sickness") return `Sickness ${e.scores.sickness}/10${e.scores.sickness > measures.threshold ? " · sick, not scared" : ""}`;
  if (e.instrument === "ssq") {
    const s = e.scores;
    return `SSQ ${phaseWord(e.phase)}: total ${s.total.toFixed(1)} (N ${s.nausea.toFixed(1)}, O ${s.oculomotor.toFixed(1)}, D ${s.disorientation.toFixed(1)})`;
  }
  return `${e.instrument} ${e.phase}: ${Object.entries(e.scores).map(([k, v]) => `${k} ${v}`).join(", ")}`;
}

function renderRecorded() {
  const list = document.getElementById("measures-recorded");
  if (!list) return;
  list.replaceChildren(...measures.recorded.map((e, i) => {
    const li = mEl("li", { "data-type": e.type, text: measureLine(e, i) });
    li.prepend(mEl("time", { text: typeof clock === "function" ? clock(e.t) : `${Math.round(e.t)} s` }));
    return li;
  }).reverse());
  const pre = measures.recorded.find((e) => e.instrument === "ssq" && e.phase === "pre");
  const post = [...measures.recorded].reverse().find((e) => e.instrument === "ssq" && e.phase === "post");
  const change = document.getElementById("ssq-change");
  if (change) {
    change.textContent = pre && post
      ? `SSQ total ${pre.scores.total.toFixed(1)} → ${post.scores.total.toFixed(1)} (${post.scores.total - pre.scores.total >= 0 ? "+" : ""}${(post.scores.total - pre.scores.total).toFixed(1)})`
      : pre ? "SSQ before recorded: take it again after the session, before End." : "Take the SSQ before exposure starts.";
  }
}

async function startMeasures() {
  const card = document.getElementById("measures-card");
  if (!card) return;
  try {
    const r = await fetch("/api/measures", { cache: "no-store" });
    if (!r.ok) return;  // console.js tells the therapist about a bad token
    const view = await r.json();
    for (const i of view.instruments) measures.instruments[i.name] = i;
    measures.threshold = view.sickness_threshold;
    measures.recorded = view.recorded;
  } catch (_) {
    return;
  }
  card.querySelector(".measures-body").replaceChildren(
    mEl("p", { id: "ssq-change", class: "ssq-change" }),
    sicknessBlock(), ssqBlock(), expectancyBlock(),
    mEl("h3", { text: "Recorded this session" }),
    mEl("ol", { id: "measures-recorded", class: "measures-recorded" }));
  renderRecorded();
  card.dataset.ready = "true";
}

document.addEventListener("DOMContentLoaded", startMeasures);
