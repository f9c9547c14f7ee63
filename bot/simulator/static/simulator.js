// The simulator page: plain JS, no build step. The server builds and signs every webhook event;
// this page only says what the persona did and draws what the bot sent.
"use strict";

const API = location.pathname.replace(/\/?$/, "/") + "api/";
const $ = (sel) => document.querySelector(sel);
let state = { personas: [], provinces: [], regions: [], places: [] };
let current = null;       // the persona whose chat is open
let shownCount = -1;      // transcript length drawn, to redraw only on change
let logSince = 0;
let richMenu = null;
const seenCounts = {};    // bot messages per chat when last looked at, for the unread badges

async function call(path, options = {}) {
  const response = await fetch(API + path, options);
  const isJson = (response.headers.get("Content-Type") || "").includes("json");
  const body = isJson ? await response.json() : await response.text();
  if (!response.ok) {
    const text = typeof body === "string" ? body.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim() : JSON.stringify(body);
    throw new Error(text.slice(0, 300));
  }
  return body;
}
const post = (path, data) => call(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) });
// kind: "error" (red), "ok" (green: something worked) or "info" (grey); only failures are red.
function say(text, kind = "error") { const s = $("#status"); s.textContent = text || ""; s.className = kind; }
// LINE makes web addresses in a text message tappable; so does the simulator (e.g. the console's
// sign-in link opens in a new tab of this same browser).
function linked(node, text) {
  const parts = String(text || "").split(/(https?:\/\/[^\s<>"]+)/);
  parts.forEach((part, i) => {
    if (i % 2) { const a = el("a", "link", part); a.href = part; a.target = "_blank"; a.rel = "noopener"; node.append(a); }
    else if (part) node.append(document.createTextNode(part));
  });
  return node;
}
function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }

// ---- personas ---------------------------------------------------------------------------

async function loadState() {
  state = await call("state");
  const list = $("#personas"); list.textContent = "";
  for (const p of state.personas) {
    const li = el("li", p.id === (current && current.id) ? "active" : "");
    li.dataset.persona = p.id;
    li.append(el("strong", "", (p.kind === "group" ? "👥 " : "") + p.name));
    li.append(el("span", "roles", p.kind === "group" ? `${p.members.length} members` : (p.roles.join(", ") || p.kind)));
    li.append(el("span", "badge"));
    li.querySelector(".badge").hidden = true;
    li.onclick = () => openChat(p.id);
    list.append(li);
  }
  const prov = $("#new-persona [name=province]");
  if (!prov.options.length) for (const p of state.provinces) prov.append(new Option(p.name, p.code));
  const members = $("#group-members"); members.textContent = "";
  const grantSel = $("#grant [name=persona]"); grantSel.textContent = "";
  for (const p of state.personas.filter((p) => p.kind !== "group")) {
    const label = el("label"); const box = el("input"); box.type = "checkbox"; box.value = p.id; box.name = "member";
    label.append(box, " " + p.name); members.append(label);
    grantSel.append(new Option(p.name, p.id));
  }
  const place = $("#place");
  if (place.options.length === 1) state.places.forEach((p, i) => place.append(new Option(p.title, String(i))));
}

$("#new-persona").onsubmit = async (e) => {
  e.preventDefault();
  const f = e.target, kind = f.kind.value;
  const scope = kind === "secretariat" || kind === "member" ? "national" : `province:${f.province.value}`;
  try {
    const r = await post("personas", { name: f.name.value, kind, scope });
    f.name.value = ""; await loadState(); openChat(r.persona.id);
  } catch (err) { say(err.message); }
};
$("#new-group").onsubmit = async (e) => {
  e.preventDefault();
  const members = [...e.target.querySelectorAll("[name=member]:checked")].map((b) => b.value);
  try {
    const r = await post("groups", { name: e.target.name.value, members });
    e.target.name.value = ""; await loadState(); openChat(r.persona.id);
  } catch (err) { say(err.message); }
};
$("#grant").onsubmit = async (e) => {
  e.preventDefault();
  const f = e.target;
  try { await post(`personas/${f.persona.value}/grant`, { role: f.role.value, scope: f.scope.value }); say("granted", "ok"); await loadState(); }
  catch (err) { say(err.message); }
};

function openChat(id) {
  current = state.personas.find((p) => p.id === id);
  shownCount = -1;
  // Clear the other chat at once, so nothing (or nobody) mistakes it for this one while it loads.
  $("#messages").textContent = ""; $("#quick").textContent = ""; delete $("#messages").dataset.chat;
  $("#phone").hidden = false; $("#pick-hint").hidden = true; $("#held").hidden = true;
  // On a phone the persona list is below the chat: bring the chat back into view.
  if (matchMedia("(max-width: 720px)").matches) $("#phone-area").scrollIntoView({ block: "start" });
  $("#chat-title").textContent = current.name;
  const speaker = $("#speaker"); speaker.textContent = "";
  speaker.hidden = current.kind !== "group";
  if (current.kind === "group") for (const m of current.members) {
    const p = state.personas.find((x) => x.id === m); speaker.append(new Option(p ? p.name : m, m));
  }
  document.querySelectorAll("#personas li").forEach((li) => li.classList.toggle("active", li.dataset.persona === id));
  drawRichMenu();
  refreshChat();
}

// ---- talking ----------------------------------------------------------------------------

async function send(data) {
  if (!current) return;
  if (current.kind === "group") data.as = $("#speaker").value;
  try { await post(`chats/${current.id}/send`, data); say(""); } catch (err) { say(err.message); }
  await refreshChat();
}
$("#composer").onsubmit = (e) => { e.preventDefault(); const t = $("#text").value; if (!t.trim()) return; $("#text").value = ""; send({ type: "text", text: t }); };
$("#btn-more").onclick = () => { $("#more").hidden = !$("#more").hidden; };
$("#btn-sticker").onclick = () => send({ type: "sticker", stickerId: "1988" });
$("#place").onchange = (e) => { if (e.target.value === "") return; const p = state.places[+e.target.value]; e.target.value = ""; send({ type: "location", ...p }); };
$("#btn-coords").onclick = () => send({ type: "location", latitude: $("#lat").value, longitude: $("#lng").value });
$("#photo").onchange = async (e) => {
  const file = e.target.files[0]; if (!file || !current) return;
  const form = new FormData(); form.append("photo", file);
  if (current.kind === "group") form.append("as", $("#speaker").value);
  try { await call(`chats/${current.id}/photo`, { method: "POST", body: form }); } catch (err) { say(err.message); }
  e.target.value = ""; refreshChat();
};

// What a tap on any action does, as in the LINE app.
function tap(action) {
  switch (action.type) {
    case "postback": return send({ type: "postback", data: action.data, displayText: action.displayText || action.text });
    case "message": return send({ type: "text", text: action.text });
    case "datetimepicker": return pickDate(action);
    case "location": $("#more").hidden = false; return $("#place").focus();
    case "camera": case "cameraRoll": return $("#photo").click();
    case "uri": return say(`opens ${action.uri} (not followed: the simulator loads nothing from the internet)`, "info");
    default: return say(`action ${action.type} is not simulated`, "info");
  }
}

// LINE's date/time picker returns params.date | params.time | params.datetime; a native picker stands in.
function pickDate(action) {
  const dialog = $("#picker"), input = $("#picker-input");
  const mode = action.mode || "date";
  input.type = mode === "datetime" ? "datetime-local" : mode;
  input.value = action.initial || ""; input.min = action.min || ""; input.max = action.max || "";
  $("#picker-label").textContent = action.label || "";
  dialog.onclose = () => {
    if (dialog.returnValue !== "ok" || !input.value) return;
    send({ type: "postback", data: action.data, params: { [mode]: input.value } });
  };
  dialog.returnValue = ""; dialog.showModal(); input.focus();
}

// ---- drawing what LINE shows ----------------------------------------------------------------

async function refreshChat() {
  if (!current) return;
  const id = current.id;
  const { messages, held } = await call(`chats/${id}`);
  if (!current || current.id !== id) return;
  // Pushes the outbox keeps back for quiet hours: say so, and until when, as long as they wait.
  const notice = $("#held");
  notice.hidden = !held; notice.textContent = held ? held.notice : "";
  if (held) notice.dataset.until = held.until; else delete notice.dataset.until;
  if (messages.length === shownCount) return;
  shownCount = messages.length;
  const box = $("#messages"); box.textContent = "";
  for (const entry of messages) {
    const mine = entry.from !== "bot";
    const row = el("div", "row " + (mine ? "me" : "bot"));
    row.dataset.from = entry.from;
    if (mine && current.kind === "group") { const p = state.personas.find((x) => x.id === entry.from); row.append(el("span", "who", p ? p.name : "")); }
    row.append(renderMessage(entry.message));
    box.append(row);
  }
  box.scrollTop = box.scrollHeight;
  box.dataset.chat = current.name;  // drawn: the transcript on screen is this persona's
  const last = messages[messages.length - 1];
  const quick = $("#quick"); quick.textContent = "";
  // Quick replies show under the newest message only, and vanish once the person answers.
  if (last && last.from === "bot" && last.message.quickReply) for (const item of last.message.quickReply.items) {
    const chip = el("button", "chip", item.action.label); chip.type = "button"; chip.onclick = () => tap(item.action); quick.append(chip);
  }
}

function renderMessage(m) {
  switch (m.type) {
    case "text": case "textV2": return linked(el("div", "bubble"), m.text);
    case "sticker": return el("div", "sticker", "🙂");
    case "image": { const d = el("div", "img"); const img = el("img"); img.src = m.src || m.previewImageUrl || m.originalContentUrl; img.alt = "photo"; d.append(img); return d; }
    case "location": { const d = el("div", "location"); d.append(el("strong", "", "📍 " + (m.title || "")), el("div", "", m.address || ""), el("div", "", `${m.latitude}, ${m.longitude}`)); return d; }
    case "template": return renderTemplate(m.template);
    case "flex": return renderFlex(m.contents);
    default: return el("div", "bubble", `[${m.type}] ${m.altText || ""}`);
  }
}

function actionButton(action, cls) {
  const b = el("button", cls || "", action.label || action.text || action.type); b.type = "button"; b.onclick = () => tap(action); return b;
}

function renderTemplate(t) {
  const card = el("div", "template " + t.type);
  if (t.type === "carousel") { const wrap = el("div", "flex carousel"); for (const c of t.columns) wrap.append(renderTemplate({ ...c, type: "buttons" })); return wrap; }
  if (t.title) card.append(el("div", "ttitle", t.title));
  card.append(el("div", "ttext", t.text));
  const acts = el("div", "acts"); for (const a of t.actions || []) acts.append(actionButton(a)); card.append(acts);
  return card;
}

const SPACING = { none: 0, xs: 2, sm: 4, md: 8, lg: 12, xl: 16, xxl: 20 };
const px = (v) => (v in SPACING ? SPACING[v] + "px" : v);

function renderFlex(c) {
  if (c.type === "carousel") { const wrap = el("div", "flex carousel"); for (const b of c.contents) wrap.append(renderBubble(b)); return wrap; }
  const wrap = el("div", "flex"); wrap.append(renderBubble(c)); return wrap;
}

function renderBubble(b) {
  const bubble = el("div", "bubble-flex " + (b.size || "mega"));
  for (const part of ["header", "hero", "body", "footer"]) {
    if (!b[part]) continue;
    const section = el("div", "fsection " + part);
    const style = (b.styles || {})[part] || {};
    if (style.backgroundColor) section.style.background = style.backgroundColor;
    if (part === "hero" && b[part].type === "image") section.style.padding = "0";
    section.append(renderComponent(b[part], "vertical"));
    if (style.separator) section.style.borderTop = "1px solid #ddd";
    bubble.append(section);
  }
  return bubble;
}

function renderComponent(c, parentLayout) {
  let node;
  switch (c.type) {
    case "box": {
      node = el("div", "fbox " + c.layout);
      (c.contents || []).forEach((child, i) => {
        const n = renderComponent(child, c.layout);
        if (i > 0 && c.spacing && !child.margin) n.style[c.layout === "vertical" ? "marginTop" : "marginLeft"] = px(c.spacing);
        node.append(n);
      });
      for (const [k, css] of [["paddingAll", "padding"], ["paddingTop", "paddingTop"], ["paddingBottom", "paddingBottom"], ["paddingStart", "paddingLeft"], ["paddingEnd", "paddingRight"]]) if (c[k]) node.style[css] = px(c[k]);
      if (c.backgroundColor) node.style.background = c.backgroundColor;
      if (c.cornerRadius) node.style.borderRadius = px(c.cornerRadius);
      if (c.borderWidth) node.style.border = `${px(c.borderWidth)} solid ${c.borderColor || "#ddd"}`;
      if (c.justifyContent) node.style.justifyContent = c.justifyContent;
      if (c.alignItems) node.style.alignItems = c.alignItems;
      if (c.width) node.style.width = c.width; if (c.height) node.style.height = c.height;
      break;
    }
    case "text": {
      node = el("div", `ftext ${c.size || "md"}${c.wrap ? " wrap" : ""}`, c.text || (c.contents || []).map((s) => s.text).join(""));
      if (c.weight === "bold") node.style.fontWeight = "700";
      if (c.color) node.style.color = c.color;
      if (c.align) node.style.textAlign = c.align === "end" ? "right" : c.align === "start" ? "left" : "center";
      if (c.decoration) node.style.textDecoration = c.decoration;
      if (c.maxLines) { node.style.display = "-webkit-box"; node.style.webkitLineClamp = c.maxLines; node.style.webkitBoxOrient = "vertical"; }
      break;
    }
    case "button": {
      node = actionButton(c.action, "fbtn " + (c.style || "link"));
      if (c.color) node.style[(c.style === "link" || !c.style) ? "color" : "background"] = c.color;
      if (c.height === "sm") node.style.padding = "5px";
      break;
    }
    case "separator": node = el("hr", "fsep"); if (c.color) node.style.borderTopColor = c.color; break;
    case "image": node = el("img", "fimg"); node.src = c.url; node.alt = ""; if (c.aspectMode === "cover") node.style.objectFit = "cover"; break;
    case "icon": node = el("img", "fimg"); node.src = c.url; node.style.width = "1em"; break;
    case "filler": case "spacer": node = el("div", ""); node.style.flex = "1"; break;
    default: node = el("div", "", `[${c.type}]`);
  }
  // Children of a horizontal box share the width by flex (LINE's default 1); vertical ones don't grow.
  const flex = c.flex != null ? c.flex : (parentLayout === "vertical" ? 0 : 1);
  node.style.flex = `${flex} ${flex} ${flex ? "0" : "auto"}`;
  if (c.margin) node.style[parentLayout === "vertical" ? "marginTop" : "marginLeft"] = px(c.margin);
  if (c.gravity) node.style.alignSelf = c.gravity === "bottom" ? "flex-end" : c.gravity === "center" ? "center" : "flex-start";
  if (c.action && c.type !== "button") { node.classList.add("tappable"); node.onclick = () => tap(c.action); }
  return node;
}

// ---- rich menu, clock, request log ---------------------------------------------------------

async function loadRichMenu() { try { richMenu = (await call("richmenu")).menu; } catch (e) { richMenu = null; } }

let richMenuOpen = true;  // the menu is created with selected: true, so LINE opens it at first
$("#menubar").onclick = () => { richMenuOpen = !richMenuOpen; drawRichMenu(); };

function drawRichMenu() {
  const box = $("#richmenu"), bar = $("#menubar"); box.textContent = "";
  bar.hidden = !richMenu || !current || current.kind === "group";  // LINE shows rich menus in 1:1 chats only
  bar.textContent = richMenu ? `${richMenu.chatBarText || "Menu"} ${richMenuOpen ? "▾" : "▴"}` : "";
  box.hidden = bar.hidden || !richMenuOpen;
  if (box.hidden) return;
  const img = el("img"); img.src = API + `richmenu/${richMenu.richMenuId}/image`; img.alt = richMenu.chatBarText || "menu"; box.append(img);
  for (const area of richMenu.areas) {
    const b = area.bounds, btn = el("button", "area"); btn.type = "button";
    btn.title = area.action.label || area.action.displayText || "";
    btn.dataset.label = btn.title;
    Object.assign(btn.style, { left: `${100 * b.x / richMenu.size.width}%`, top: `${100 * b.y / richMenu.size.height}%`,
      width: `${100 * b.width / richMenu.size.width}%`, height: `${100 * b.height / richMenu.size.height}%` });
    btn.onclick = () => tap(area.action); box.append(btn);
  }
}

async function refreshJobs() {
  const { jobs, now, timezone } = await call("jobs");
  $("#now").textContent = `${now} (${timezone})`;
  const body = $("#jobs tbody"); body.textContent = "";
  for (const job of jobs) {
    const tr = el("tr"); tr.dataset.job = job.name; tr.title = job.description;
    tr.append(el("td", "", job.name), el("td", "", job.next || "–"), el("td", "last", job.last || "never"));
    const td = el("td"); const run = el("button", "run", "run now"); run.type = "button";
    run.onclick = async () => {
      try { const r = await post(`jobs/${encodeURIComponent(job.name)}/run`, {}); say(`${job.name}: ${r.status}${r.error ? " " + r.error : ""}`, r.error || r.status === "failed" ? "error" : "ok"); }
      catch (err) { say(err.message); }
      refreshJobs();
    };
    td.append(run); tr.append(td); body.append(tr);
  }
}

async function refreshLog() {
  const { requests } = await call(`requests?since=${logSince}`);
  const log = $("#log");
  for (const r of requests) {
    logSince = r.index + 1;
    const li = el("li", r.violation ? "violation" : r.status >= 400 ? "error" : "ok");
    // The status code keeps its own colour (2xx green); a row is red when LINE would refuse the call,
    // which the lenient emulator may still have answered with 200, and then it says so in words.
    const code = el("span", "code " + (r.status < 400 ? "good" : "bad"), String(r.status));
    const details = el("details"); const summary = el("summary", "", `${r.at} ${r.method} ${r.path} → `);
    summary.append(code, `${r.violation && r.status < 400 ? " · LINE would refuse this" : ""}${r.errors.length ? " · " + r.errors.join("; ") : ""}`);
    details.append(summary); if (r.body) details.append(el("pre", "", r.body));
    li.append(details); log.prepend(li);
  }
}

// A push to someone else's chat shows as a red count on that persona, as LINE's chat list does.
async function refreshBadges() {
  const { counts } = await call("counts");
  for (const [id, n] of Object.entries(counts)) {
    if (current && current.id === id) seenCounts[id] = n;
    if (!(id in seenCounts)) seenCounts[id] = n;  // history from before this page load is not "new"
    const badge = document.querySelector(`#personas li[data-persona="${id}"] .badge`);
    if (badge) { badge.textContent = String(n - seenCounts[id]); badge.hidden = n === seenCounts[id]; }
  }
}

async function tick() {
  try { await Promise.all([refreshChat(), refreshLog(), refreshBadges()]); } catch (err) { say(err.message); }
}

(async () => {
  await Promise.all([loadState(), loadRichMenu()]);
  await Promise.all([refreshJobs(), refreshLog()]);
  setInterval(tick, 700);          // pushes from the worker show up within a second
  setInterval(refreshJobs, 5000);
})();
