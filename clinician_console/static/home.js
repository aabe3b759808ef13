// vret station home page: pick a client, scene, sensor and display, test the sensor, Start.
"use strict";

const $ = (id) => document.getElementById(id);
let testTimer = null;

function option(value, text) {
  const o = el("option", text);
  o.value = value;
  return o;
}

async function loadClients(select) {
  const clients = await api("/api/clients");
  const list = $("client");
  list.replaceChildren(...clients.map((c) => option(c.code, `${c.code} · ${c.phobia}`)));
  if (!clients.length) list.append(option("", "no clients yet: add one"));
  if (select) list.value = select;
  await showHierarchy();
}

async function loadScenes() {
  const scenes = await api("/api/scenes");
  $("scene").replaceChildren(...scenes.map((s) => option(s.name, `${s.name} · ${s.phobia} (${s.levels} steps)`)));
}

async function showHierarchy() {
  const code = $("client").value;
  const scene = $("scene").value;
  if (!code || !scene) { $("hierarchy").textContent = ""; return; }
  try {
    const h = await api(`/api/clients/${encodeURIComponent(code)}/hierarchies/${encodeURIComponent(scene)}`);
    $("hierarchy").textContent = h
      ? `${code}'s hierarchy v${h.version} for ${scene}: ${h.steps.length} steps (edit it on the Clients page).`
      : `${code} has no hierarchy for ${scene}: the session uses the scene's own ladder.`;
  } catch (err) {
    $("hierarchy").textContent = err.message;
  }
}

async function addClient() {
  $("client-message").textContent = "";
  try {
    const added = await api("/api/clients", {
      method: "POST",
      body: { code: $("new-code").value.trim(), phobia: $("new-phobia").value.trim() || "unspecified" },
    });
    $("new-code").value = "";
    $("new-phobia").value = "";
    await loadClients(added.code);
    if (added.warning) $("client-message").textContent = added.warning;
  } catch (err) {
    $("client-message").textContent = err.message;
  }
}

async function findSensors() {
  const button = $("find-sensors");
  button.disabled = true;
  $("sensor-detail").textContent = "Listening to each port for a few seconds…";
  try {
    const found = await api("/api/sensors");
    const keep = $("sensor").value;
    $("sensor").replaceChildren(...found.map((s) => {
      const said = s.protocol ? ` · ${s.protocol}` : "";
      const o = option(s.port, `${s.description}${said}`);
      o.dataset.detail = s.detail || "";
      o.dataset.protocol = s.protocol || "";
      return o;
    }));
    if (found.some((s) => s.port === keep)) $("sensor").value = keep;
    showSensorDetail();
  } catch (err) {
    $("sensor-detail").textContent = err.message;
  } finally {
    button.disabled = false;
  }
}

function showSensorDetail() {
  const chosen = $("sensor").selectedOptions[0];
  $("sensor-detail").textContent = chosen ? chosen.dataset.detail || "" : "";
}

async function testSensor() {
  $("sensor-test").hidden = false;
  $("test-verdict").textContent = "Starting…";
  $("test-readings").replaceChildren();
  try {
    const body = { sensor: $("sensor").value, protocol: $("protocol").value || null };
    showTest(await api("/api/sensor-test", { method: "POST", body }));
  } catch (err) {
    $("test-verdict").textContent = err.message;
    return;
  }
  clearInterval(testTimer);
  testTimer = setInterval(async () => {
    const test = await api("/api/sensor-test");
    if (test) showTest(test);
    if (!test || !test.running) clearInterval(testTimer);
  }, 500);
}

function showTest(test) {
  $("test-verdict").textContent = test.verdict;
  $("test-left").textContent = test.running ? `${Math.ceil(test.seconds_left)} s left` : "Test finished.";
  $("test-readings").replaceChildren(...test.readings.slice(-30).map((r) => {
    const li = el("li", r.hr === null ? r.quality : `${Math.round(r.hr)} bpm · ${r.quality}`);
    if (r.quality !== "ok") li.classList.add("bad");
    return li;
  }));
}

async function loadDisplays() {
  const displays = await api("/api/display");
  const box = $("displays");
  box.replaceChildren(...displays.map((d, i) => {
    const label = el("label");
    const radio = document.createElement("input");
    radio.type = "radio";
    radio.name = "display";
    radio.value = d.name;
    radio.disabled = !d.available;
    label.append(radio, el("strong", { openvr: "Headset (SteamVR)", window: "Window", offscreen: "Offscreen" }[d.name] || d.name),
      el("span", d.message, "fix"));
    if (!d.available) label.classList.add("unavailable");
    return label;
  }));
  const first = box.querySelector("input:not([disabled])");
  if (first) first.checked = true;
}

async function start() {
  $("start-message").textContent = "";
  const display = document.querySelector("input[name=display]:checked");
  const button = $("start");
  button.disabled = true;
  button.textContent = "Starting…";
  try {
    await api("/api/sessions", {
      method: "POST",
      body: {
        client: $("client").value,
        scene: $("scene").value,
        sensor: $("sensor").value,
        protocol: $("protocol").value || null,
        display: display ? display.value : "offscreen",
      },
    });
    location.assign("/");
  } catch (err) {
    $("start-message").textContent = err.message;
    button.disabled = false;
    button.textContent = "Start the session";
  }
}

async function showCurrent() {
  const now = await api("/api/sessions/current");
  const run = now.session;
  $("running").hidden = !run;
  if (run) $("running-text").textContent = `Session ${run.id} for ${run.client} (${run.scene}) is running.`;
  $("start").disabled = !!run;
  const last = now.last;
  $("last").hidden = !last;
  if (last) {
    $("last-text").textContent = `Session ${last.id} for ${last.client} (${last.scene}) ended: ${last.status}.`;
    $("last-report").href = last.report;
  }
}

async function init() {
  $("client").addEventListener("change", showHierarchy);
  $("scene").addEventListener("change", showHierarchy);
  $("sensor").addEventListener("change", showSensorDetail);
  $("add-client").addEventListener("click", addClient);
  $("find-sensors").addEventListener("click", findSensors);
  $("test-sensor").addEventListener("click", testSensor);
  $("start").addEventListener("click", start);
  const protocols = ["pulsesensor", "pulsesensor-raw", "cms50-legacy", "cms50-v7", "nonin-1", "nonin-2", "nonin-7", "ble-bridge", "text"];
  $("protocol").append(...protocols.map((p) => option(p, p)));
  await loadScenes();
  await Promise.all([loadClients(), loadDisplays(), showCurrent()]);
  setInterval(showCurrent, 3000);
}

init().catch((err) => { $("start-message").textContent = err.message; });
