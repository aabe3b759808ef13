// vret clinic page: the clients and the sessions running on every station (read-only).
"use strict";

function minutes(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.max(0, Math.round(seconds));
  return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
}

async function refresh() {
  const message = document.getElementById("clinic-message");
  try {
    const data = await api("/api/clinic");
    message.textContent = "";
    document.getElementById("station").textContent = data.station;
    const sessions = document.querySelector("#sessions-table tbody");
    sessions.replaceChildren();
    if (!data.sessions.length) {
      const row = el("tr");
      const cell = el("td", "No session is running on any station.", "hint");
      cell.colSpan = 7;
      row.append(cell);
      sessions.append(row);
    }
    for (const s of data.sessions) {
      const row = el("tr");
      row.dataset.session = s.id;
      const station = el("td");
      station.append(el("span", s.station || "—", s.this_station ? "badge" : "badge other"));
      const level = s.level ? s.level + " of " + s.steps : "baseline or safe scene";
      row.append(station, el("td", s.client || "—"), el("td", s.scene), el("td", level),
        el("td", minutes(s.seconds)), el("td", when(s.started)));
      const action = el("td");
      if (s.silent) {
        action.append(el("span", "silent for " + minutes(s.quiet_s) + ": its station may have stopped", "warning"));
      } else if (s.this_session) {
        const open = el("a", "Open the live console");
        open.href = "/";
        action.append(open);
      } else {
        action.append(el("span", "read-only", "hint"));
      }
      row.append(action);
      sessions.append(row);
    }
    const clients = document.querySelector("#clinic-clients tbody");
    clients.replaceChildren();
    for (const c of data.clients) {
      const row = el("tr");
      row.dataset.code = c.code;
      const link = el("a", "Progress");
      link.href = "/clients/" + encodeURIComponent(c.code) + "/progress";
      link.target = "_blank";
      link.rel = "noopener";
      const cell = el("td");
      cell.append(link);
      row.append(el("td", c.code), el("td", c.phobia), el("td", c.start_date),
        el("td", c.sessions, "num"), el("td", when(c.last_session)), cell);
      clients.append(row);
    }
  } catch (err) {
    message.textContent = err.message;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  refresh();
  setInterval(refresh, 5000);
});
