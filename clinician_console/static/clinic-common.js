// vret clinic pages: what clients.js and clinic.js share (requests and plain-text elements).
"use strict";

async function api(path, options) {
  const opts = Object.assign({ cache: "no-store", headers: {} }, options || {});
  if (opts.body !== undefined && typeof opts.body !== "string") {
    opts.body = JSON.stringify(opts.body);
    opts.headers["Content-Type"] = "application/json";
  }
  const r = await fetch(path, opts);
  let data = null;
  try { data = await r.json(); } catch (_) { data = null; }
  if (!r.ok) {
    let why = data && data.detail;
    if (Array.isArray(why)) why = why.map((d) => d.msg).join("; ");
    throw new Error(why || ("The console answered " + r.status + "."));
  }
  return data;
}

// an element with text only (never HTML: codes and names come from people)
function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function when(iso) {
  return iso ? iso.slice(0, 16).replace("T", " ") : "—";
}
