// vret clients page: add, list and archive clients; build a client's fear hierarchy.
"use strict";

const state = { client: null, scene: null, steps: [] };

async function loadClients() {
  const archived = document.getElementById("show-archived").checked;
  const list = await api("/api/clients?archived=" + archived);
  const body = document.querySelector("#clients-table tbody");
  body.replaceChildren();
  if (!list.length) {
    const row = el("tr");
    const cell = el("td", "No clients yet: add the first one above.", "hint");
    cell.colSpan = 7;
    row.append(cell);
    body.append(row);
  }
  for (const c of list) {
    const row = el("tr");
    row.dataset.code = c.code;
    row.append(el("td", c.code), el("td", c.phobia), el("td", c.start_date),
      el("td", c.therapist || "—"), el("td", c.sessions, "num"), el("td", when(c.last_session)));
    const actions = el("td");
    const edit = el("button", "Hierarchy", "quiet");
    edit.type = "button";
    edit.className = "quiet hierarchy";
    edit.addEventListener("click", () => openHierarchy(c));
    const progress = el("a", "Progress");
    progress.href = "/clients/" + encodeURIComponent(c.code) + "/progress";
    progress.target = "_blank";
    progress.rel = "noopener";
    progress.className = "progress";
    const archive = el("button", c.archived ? "Restore" : "Archive", "quiet archive");
    archive.type = "button";
    archive.addEventListener("click", async () => {
      await api("/api/clients/" + encodeURIComponent(c.code) + "/archive?restore=" + c.archived, { method: "POST" });
      await loadClients();
    });
    const measure = el("button", "Measures", "quiet measures");
    measure.type = "button";
    measure.addEventListener("click", () => openMeasures(c));
    actions.append(edit, " ", measure, " ", progress, " ", archive);
    row.append(actions);
    body.append(row);
  }
}

async function addClient(event) {
  event.preventDefault();
  const message = document.getElementById("add-message");
  message.className = "";
  const body = {
    code: document.getElementById("add-code").value.trim(),
    phobia: document.getElementById("add-phobia").value.trim().toLowerCase(),
    therapist: document.getElementById("add-therapist").value.trim(),
  };
  const start = document.getElementById("add-start").value;
  if (start) body.start_date = start;
  try {
    const added = await api("/api/clients", { method: "POST", body });
    message.textContent = added.warning ? added.warning : "Added " + added.code + ".";
    message.className = added.warning ? "warning" : "ok";
    document.getElementById("add-form").reset();
    await loadClients();
  } catch (err) {
    message.textContent = err.message;
    message.className = "error";
  }
}

async function openHierarchy(client) {
  state.client = client;
  document.getElementById("hierarchy").hidden = false;
  document.getElementById("h-client").textContent = client.code;
  document.getElementById("h-progress").href = "/clients/" + encodeURIComponent(client.code) + "/progress";
  const select = document.getElementById("h-scene");
  if (!select.options.length) {
    for (const s of await api("/api/scenes")) {
      const option = el("option", s.name + " (" + s.phobia + ")");
      option.value = s.name;
      select.append(option);
    }
    const match = Array.from(select.options).find((o) => o.textContent.includes(client.phobia));
    if (match) select.value = match.value;
  }
  await loadScene();
  document.getElementById("hierarchy").scrollIntoView();
}

async function loadScene() {
  const name = document.getElementById("h-scene").value;
  state.scene = await api("/api/scenes/" + encodeURIComponent(name));
  const saved = await api("/api/clients/" + encodeURIComponent(state.client.code) + "/hierarchies/" + encodeURIComponent(name));
  state.steps = saved ? saved.steps.map((s) => ({ level: s.level, name: s.name, suds: s.suds, params: Object.assign({}, s.params) })) : [];
  document.getElementById("h-version").textContent = saved ? "version " + saved.version + " saved " + when(saved.saved) : "no hierarchy yet: sessions use the scene's own ladder";
  document.getElementById("h-message").textContent = "";
  renderLevels();
  renderSteps();
}

function renderLevels() {
  const list = document.getElementById("h-levels");
  list.replaceChildren();
  for (const level of state.scene.levels) {
    const item = el("li");
    item.append(el("span", level.name + (level.suds !== null ? " (" + level.suds + ")" : "")));
    const add = el("button", "Add", "quiet add-level");
    add.type = "button";
    add.dataset.level = level.number;
    add.addEventListener("click", () => {
      state.steps.push({ level: level.number, name: "", suds: level.suds === null ? 50 : level.suds, params: {} });
      renderSteps();
    });
    item.append(add);
    list.append(item);
  }
}

function renderSteps() {
  const body = document.querySelector("#h-steps tbody");
  body.replaceChildren();
  state.steps.forEach((step, index) => {
    const level = state.scene.levels[step.level - 1];
    const row = el("tr");
    row.append(el("td", index + 1));
    const nameCell = el("td");
    const name = el("input");
    name.type = "text";
    name.className = "step-name";
    name.maxLength = 80;
    name.value = step.name;
    name.placeholder = level.name;
    name.addEventListener("input", () => { step.name = name.value; });
    nameCell.append(name);
    const sudsCell = el("td");
    const suds = el("input");
    suds.type = "number";
    suds.min = 0;
    suds.max = 100;
    suds.className = "narrow step-suds";
    suds.value = step.suds;
    suds.addEventListener("input", () => { step.suds = Number(suds.value); });
    sudsCell.append(suds);
    const vars = el("td");
    for (const [key, range] of Object.entries(state.scene.variables)) {
      const label = el("label", key);
      const input = el("input");
      input.type = "number";
      input.step = "any";
      input.className = "narrow step-param";
      input.dataset.param = key;
      input.min = range[0];
      input.max = range[1];
      input.placeholder = level.params[key];
      input.title = key + ": " + range[0] + " to " + range[1] + " (empty: the level's " + level.params[key] + ")";
      if (key in step.params) input.value = step.params[key];
      input.addEventListener("input", () => {
        if (input.value === "") delete step.params[key];
        else step.params[key] = Number(input.value);
      });
      label.append(input);
      vars.append(label);
    }
    vars.className = "row";
    const moves = el("td");
    for (const [text, delta] of [["↑", -1], ["↓", 1]]) {
      const b = el("button", text, "quiet");
      b.type = "button";
      b.title = delta < 0 ? "earlier" : "later";
      b.addEventListener("click", () => {
        const to = index + delta;
        if (to < 0 || to >= state.steps.length) return;
        [state.steps[index], state.steps[to]] = [state.steps[to], state.steps[index]];
        renderSteps();
      });
      moves.append(b);
    }
    const remove = el("button", "Remove", "quiet remove-step");
    remove.type = "button";
    remove.addEventListener("click", () => { state.steps.splice(index, 1); renderSteps(); });
    moves.append(remove);
    row.append(nameCell, sudsCell, vars, moves);
    body.append(row);
  });
}

async function saveHierarchy() {
  const message = document.getElementById("h-message");
  const scene = state.scene.name;
  try {
    const saved = await api("/api/clients/" + encodeURIComponent(state.client.code) + "/hierarchies/" + encodeURIComponent(scene), {
      method: "POST",
      body: { steps: state.steps },
    });
    message.textContent = "Saved version " + saved.version + " (" + saved.steps.length + " steps).";
    message.className = "ok";
    document.getElementById("h-version").textContent = "version " + saved.version + " saved " + when(saved.saved);
  } catch (err) {
    message.textContent = err.message;
    message.className = "error";
  }
}

const measuresState = { client: null, instruments: [] };

async function openMeasures(client) {
  measuresState.client = client;
  document.getElementById("measures").hidden = false;
  document.getElementById("m-client").textContent = client.code;
  const select = document.getElementById("m-instrument");
  if (!select.options.length) {
    measuresState.instruments = await api("/api/instruments");
    for (const inst of measuresState.instruments) {
      const option = el("option", inst.title);
      option.value = inst.name;
      select.append(option);
    }
  }
  showInstrumentHint();
  await loadMeasures();
  document.getElementById("measures").scrollIntoView();
}

function showInstrumentHint() {
  const inst = measuresState.instruments.find((i) => i.name === document.getElementById("m-instrument").value);
  if (!inst) return;
  const count = inst.completed_steps ? "one answer per step completed, up to " + inst.items.length : inst.items.length + " answers, one per item in order";
  document.getElementById("m-hint").textContent = (inst.question ? inst.question + " " : "") + count + ", each " + inst.min + " to " + inst.max + ", separated by commas.";
}

async function loadMeasures() {
  const list = await api("/api/clients/" + encodeURIComponent(measuresState.client.code) + "/measures");
  const body = document.querySelector("#m-table tbody");
  body.replaceChildren();
  for (const m of list) {
    const scores = Object.entries(m.scores).map(([k, v]) => k.replace(/_/g, " ") + " " + v).join(", ");
    const row = el("tr");
    row.append(el("td", m.taken), el("td", m.instrument), el("td", scores), el("td", m.note));
    body.append(row);
  }
}

async function recordMeasure(event) {
  event.preventDefault();
  const message = document.getElementById("m-message");
  const text = document.getElementById("m-answers").value;
  const answers = text.split(",").map((a) => a.trim()).filter((a) => a !== "").map(Number);
  if (answers.some((a) => Number.isNaN(a))) {
    message.textContent = "The answers are numbers separated by commas, such as 10,25,40.";
    message.className = "error";
    return;
  }
  const body = { instrument: document.getElementById("m-instrument").value, answers, note: document.getElementById("m-note").value.trim() };
  const taken = document.getElementById("m-date").value;
  if (taken) body.taken = taken;
  try {
    const added = await api("/api/clients/" + encodeURIComponent(measuresState.client.code) + "/measures", { method: "POST", body });
    message.textContent = "Recorded " + added.instrument + " of " + added.taken + ".";
    message.className = "ok";
    document.getElementById("m-form").reset();
    showInstrumentHint();
    await loadMeasures();
  } catch (err) {
    message.textContent = err.message;
    message.className = "error";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("m-form").addEventListener("submit", recordMeasure);
  document.getElementById("m-instrument").addEventListener("change", showInstrumentHint);
  document.getElementById("add-form").addEventListener("submit", addClient);
  document.getElementById("show-archived").addEventListener("change", loadClients);
  document.getElementById("h-scene").addEventListener("change", loadScene);
  document.getElementById("h-save").addEventListener("click", saveHierarchy);
  loadClients().catch((err) => {
    document.getElementById("add-message").textContent = err.message;
  });
});
