// The refreshauth demo page: refreshauth's browser client on the cookie transport, with a
// live log of what every tab of this page does.
import { createClient } from "refreshauth";

const page = document.body.dataset;
const ACCESS_SECONDS = Number(page.accessSeconds) || 900;
const $ = (id) => document.getElementById(id);

// --- this tab's name, and the page's preferences (no token ever goes to storage) ---

function tabName() {
  let name = sessionStorage.getItem("demo:tab");
  if (!name) {
    const count = Number(localStorage.getItem("demo:tabs") || 0) + 1;
    localStorage.setItem("demo:tabs", String(count));
    name = `Tab ${count}`;
    sessionStorage.setItem("demo:tab", name);
  }
  return name;
}

const TAB = tabName();
const prefs = {
  get: (name, fallback) => {
    const value = localStorage.getItem("demo:" + name);
    return value === null ? fallback : value === "1";
  },
  set: (name, on) => localStorage.setItem("demo:" + name, on ? "1" : "0"),
};
const dpopAvailable = page.dpopMode && page.dpopMode !== "off";
// Both tokens in cookies, on the project's backend-for-frontend mount when it has one.
const bffMode = () => Boolean(page.bff) && prefs.get("bff", false);

// --- the log, shared by every tab of this page ---

const logChannel = new BroadcastChannel("refreshauth-demo-log");
const MAX_LOG = 300;

function show(entry) {
  const list = $("log");
  const last = list.lastElementChild;
  if (last && last.dataset.key === entry.tab + entry.kind + entry.text) {
    const count = Number(last.dataset.count) + 1;
    last.dataset.count = String(count);
    last.querySelector("time").textContent = clock(entry.at);
    last.querySelector(".count").textContent = ` ×${count}`;
    return;
  }
  const item = document.createElement("li");
  item.className = entry.kind;
  item.dataset.key = entry.tab + entry.kind + entry.text;
  item.dataset.count = "1";
  const time = document.createElement("time");
  time.textContent = clock(entry.at);
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = entry.tab;
  const what = document.createElement("span");
  what.className = "what";
  what.textContent = entry.text;
  const count = document.createElement("span");
  count.className = "count";
  what.append(count);
  item.append(time, who, what);
  // Follow the newest line unless the reader has scrolled up.
  const following = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.append(item);
  while (list.children.length > MAX_LOG) list.firstElementChild.remove();
  if (following) list.scrollTop = list.scrollHeight;
}

function clock(at) {
  return new Date(at).toLocaleTimeString([], { hour12: false });
}

/** kind: call, warn, lock, refresh, share, bad, thief, info */
function log(kind, text) {
  const entry = { at: Date.now(), tab: TAB, kind, text };
  show(entry);
  logChannel.postMessage(entry);
}

logChannel.onmessage = (message) => show(message.data);

const path = (url) => {
  const { pathname } = new URL(url, location.href);
  for (const prefix of [page.auth, page.bff]) {
    if (prefix && pathname.startsWith(prefix)) return pathname.slice(prefix.length);
  }
  return pathname;
};

// --- the client ---

let auth = null;

function connect() {
  if (auth) auth.close();
  auth = createClient({
    baseUrl: bffMode() ? page.bff : page.auth,
    transport: "cookie",
    accessToken: bffMode() ? "cookie" : "memory",
    dpop: dpopAvailable && prefs.get("dpop", false),
    refreshAhead: prefs.get("ahead", true) ? undefined : false,
    tab: TAB,
  });
  auth.on("trace", onTrace);
  auth.on("login", (event) => {
    if (event.remote) log("share", `took the login of ${event.by}: no request`);
    else log("refresh", `logged in: a ${auth.status().tokenType} token for ${ACCESS_SECONDS} s`);
    showApp();
  });
  auth.on("refresh", (event) => {
    if (!event.remote) {
      log("refresh", "refreshed, and handed the new token to the other tabs");
    } else if (event.joined) {
      log("share", `had no token: got ${event.by}'s, no request`);
      showApp();
    } else {
      log("share", `received ${event.by}'s new token: no request`);
    }
  });
  auth.on("reuse", (event) => {
    log("bad", event.remote
      ? `told by ${event.by}: reuse detected, the session is revoked`
      : "REUSE DETECTED: refresh/ answered token_reused; the session is revoked in every tab");
  });
  auth.on("logout", (event) => {
    const why = {
      logout: "logged out",
      logout_all: "logged out everywhere",
      revoked: "the session was revoked",
      expired: "the session expired",
      reuse: "reuse detection ended the session",
      ended: "the session had ended",
    }[event.reason] || event.reason;
    log(event.reason === "reuse" ? "bad" : "warn", event.remote ? `${why} (in ${event.by})` : why);
    showLogin(event.reason);
  });
  auth.on("error", (event) => log("bad", `error: ${event.error.message || event.error}`));
  window.demo.auth = auth;
  return auth;
}

function onTrace(event) {
  if (event.step !== "request" && event.step !== "response") auto.eventful = true;
  switch (event.step) {
    case "response":
      // The timer's calls are logged when something happened around them.
      if (!auto.running || auto.eventful || event.status !== 200) {
        log(event.status < 400 ? "call" : "warn", `${event.method} ${path(event.url)} → ${event.status}`);
      }
      break;
    case "auth-response":
      log(event.status < 400 ? "refresh" : "bad", `POST ${path(event.url)} → ${event.status}`);
      break;
    case "lock-wait":
      log("lock", `needs a new access token (${event.reason}): waits for the refresh lock`);
      break;
    case "lock":
      log("lock", `holds the refresh lock${event.waited > 20 ? ` (waited ${event.waited} ms)` : ""}`);
      break;
    case "reuse-result":
      log("share", `${event.by === TAB ? "another tab" : event.by} refreshed while this tab waited: uses that token, no request`);
      break;
    case "retry":
      log("call", `retries ${event.method} ${path(event.url)} with the new token`);
      break;
    case "retry-after":
      log("warn", `the server answered ${event.status}: waits ${event.seconds} s (Retry-After)`);
      break;
    default:
      break;
  }
}

// --- views ---

function setState(state) {
  document.body.dataset.state = state;
  const badge = $("state-badge");
  badge.textContent = state === "logged-in" ? "logged in" : "logged out";
  badge.className = "badge " + (state === "logged-in" ? "in" : "out");
}

const NOTES = {
  reuse: ["reuse", "Reuse detected: a refresh token of this session was presented twice, so the server revoked the whole session in every tab (and the thief's tokens with it). Log in again."],
  revoked: ["", "This session was revoked (from the session list, an admin, a password change or “log out everywhere”)."],
  logout_all: ["", "Logged out everywhere."],
  expired: ["", "The session expired."],
};

function showLogin(reason) {
  setState("logged-out");
  $("login-view").hidden = false;
  for (const card of document.querySelectorAll(".app-only")) card.hidden = true;
  const note = NOTES[reason];
  $("ended-note").hidden = !note;
  if (note) {
    $("ended-note").className = "note " + note[0];
    $("ended-note").textContent = note[1];
  }
  $("me-output").textContent = "";
}

let shownAt = 0;

async function showApp() {
  if (document.body.dataset.state === "logged-in") return;
  setState("logged-in");
  $("login-view").hidden = true;
  $("login-error").textContent = "";
  for (const card of document.querySelectorAll(".app-only")) card.hidden = false;
  // The thief lives under the refresh cookie's path of the default mount.
  $("steal-button").disabled = !page.steal || bffMode();
  $("theft-off").hidden = Boolean(page.steal);
  shownAt = Date.now();
  tick();
  await Promise.all([me().catch(() => {}), loadSessions().catch(() => {})]);
}

let thumbprint = null;

function describeToken() {
  const status = auth.status();
  const type = $("token-type");
  type.textContent = (status.tokenType || "none") + (status.accessCookie ? " · HttpOnly cookie" : "");
  type.className = "badge" + (status.tokenType === "DPoP" ? " dpop" : "");
  if (status.tokenType === "DPoP" && thumbprint === null) {
    thumbprint = "";
    auth.dpopThumbprint().then((jkt) => {
      thumbprint = jkt;
      type.title = "Key thumbprint " + jkt;
    });
  }
}

// The countdown: where the token is in its life, and where a call refreshes first.
function tick() {
  const status = auth && auth.status();
  const label = $("countdown");
  const bar = $("countdown-bar");
  if (!status || !status.authenticated || !status.expiresAt) {
    label.textContent = "–";
    bar.style.width = "0";
    return;
  }
  const left = (status.expiresAt - Date.now()) / 1000;
  const ahead = prefs.get("ahead", true) ? Math.min(30, Math.max(1, ACCESS_SECONDS / 4)) : 0;
  $("ahead-mark").style.left = `${100 - (ahead / ACCESS_SECONDS) * 100}%`;
  $("ahead-mark").hidden = !ahead;
  bar.style.width = `${Math.max(0, Math.min(1, left / ACCESS_SECONDS)) * 100}%`;
  bar.className = "bar" + (left <= 0 ? " gone" : left <= ahead ? " soon" : "");
  label.textContent = left > 0 ? `expires in ${Math.ceil(left)} s` : "expired";
  describeToken();
}

// --- actions ---

async function me() {
  const response = await auth.fetch(page.me);
  if (response.status === 401) {
    $("me-output").textContent = "401: no session";
    return null;
  }
  const body = await response.json();
  $("me-output").textContent = `${new Date().toLocaleTimeString([], { hour12: false })}  ${JSON.stringify(body)}`;
  return body;
}

async function burst() {
  log("info", "five calls at once");
  const results = await Promise.all(Array.from({ length: 5 }, () => auth.fetch(page.me)));
  $("me-output").textContent = "five calls: " + results.map((r) => r.status).join(", ");
}

function shortAgent(agent) {
  const match = /(Firefox|Edg|Chrome|Safari)\/(\d+)/.exec(agent || "");
  const system = /(Windows|Android|iPhone|iPad|Mac OS X|Linux)/.exec(agent || "");
  if (!match) return (agent || "unknown").slice(0, 40);
  const browser = match[1] === "Edg" ? "Edge" : match[1];
  return `${browser} ${match[2]}${system ? " on " + system[1].replace("Mac OS X", "macOS") : ""}`;
}

async function loadSessions() {
  const items = await auth.sessions();
  const rows = $("sessions");
  rows.replaceChildren();
  for (const item of items) {
    const row = document.createElement("tr");
    row.className = item.current ? "current" : "";
    row.dataset.session = item.id;
    const device = document.createElement("td");
    device.textContent = item.device || shortAgent(item.user_agent);
    if (item.dpop) {
      const badge = document.createElement("span");
      badge.className = "badge dpop";
      badge.textContent = "DPoP";
      device.append(" ", badge);
    }
    const small = document.createElement("span");
    small.className = "small-print";
    small.textContent = item.id.slice(0, 8) + (item.current ? " · this browser" : "");
    device.append(small);
    const used = document.createElement("td");
    used.textContent = new Date(item.last_used_at).toLocaleString([], { hour12: false });
    const ip = document.createElement("td");
    ip.className = "ip";
    ip.textContent = item.ip_address || "";
    const action = document.createElement("td");
    const button = document.createElement("button");
    button.textContent = "Revoke";
    button.className = "revoke";
    button.addEventListener("click", () => revoke(item.id));
    action.append(button);
    row.append(device, used, ip, action);
    rows.append(row);
  }
  return items;
}

async function revoke(id) {
  await auth.revokeSession(id);
  log("warn", `revoked session ${id.slice(0, 8)}`);
  if (document.body.dataset.state === "logged-in") await loadSessions();
}

function csrf() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function thief(again) {
  const response = await fetch(page.steal + (again ? "?again=1" : ""), {
    method: "POST",
    headers: { "X-CSRFToken": csrf() },
    credentials: "same-origin",
  });
  return response.json();
}

async function steal() {
  $("steal-button").disabled = true;
  try {
    log("thief", "a thief copies this browser's refresh cookie and presents it to refresh/ first");
    const first = await thief(false);
    if (first.status !== 200) {
      log("share", `the thief's refresh/ → ${first.status} ${first.code}: the copied token is useless` +
        (first.code === "invalid_dpop_proof" ? " without this browser's DPoP key" : ""));
      return;
    }
    log("thief", "the thief's refresh/ → 200: it holds the session's newest refresh token; this browser's cookie holds the old one");
    log("info", "this tab refreshes now, with the cookie it has");
    await auth.refresh();
    const second = await thief(true);
    log("thief", `the thief tries its new refresh token: ${second.status} ${second.code}` +
      (second.code === "token_revoked" ? ": it died with the session" : ""));
  } catch (error) {
    log("bad", `error: ${error.message || error}`);
  } finally {
    $("steal-button").disabled = !page.steal;
  }
}

async function login(event) {
  event.preventDefault();
  $("login-error").textContent = "";
  try {
    await auth.login({ username: $("username").value, password: $("password").value });
    $("password").value = "";
  } catch (error) {
    $("login-error").textContent = error.detail || error.message;
  }
}

// --- wiring ---

window.demo = { tab: TAB, me, burst, loadSessions, steal, log, auth: null };

const auto = { timer: null, running: false, eventful: false };

function setAuto(on) {
  clearInterval(auto.timer);
  auto.timer = on ? setInterval(async () => {
    if (document.body.dataset.state !== "logged-in" || auto.running) return;
    auto.running = true;
    auto.eventful = false;
    try {
      await me();
    } catch {
      // Shown by the log's error line.
    } finally {
      auto.running = false;
    }
  }, 3000) : null;
}

$("login-form").addEventListener("submit", login);
$("me-button").addEventListener("click", () => me().catch(() => {}));
$("burst-button").addEventListener("click", () => burst().catch(() => {}));
$("refresh-button").addEventListener("click", () => auth.refresh().catch(() => {}));
$("sessions-button").addEventListener("click", () => loadSessions().catch(() => {}));
$("logout-button").addEventListener("click", () => auth.logout().catch(() => {}));
$("logout-others-button").addEventListener("click", async () => {
  await auth.logoutAll({ keepCurrent: true });
  log("warn", "logged out the other sessions");
  await loadSessions();
});
$("logout-all-button").addEventListener("click", () => auth.logoutAll().catch(() => {}));
$("steal-button").addEventListener("click", steal);
$("clear-log").addEventListener("click", () => $("log").replaceChildren());

$("auto-toggle").checked = prefs.get("auto", true);
$("auto-toggle").addEventListener("change", (event) => {
  prefs.set("auto", event.target.checked);
  setAuto(event.target.checked);
});
$("ahead-toggle").checked = prefs.get("ahead", true);
$("ahead-toggle").addEventListener("change", (event) => {
  prefs.set("ahead", event.target.checked);
  log("info", event.target.checked ? "refreshes ahead of expiry" : "refreshes only on a 401");
  connect().isAuthenticated().catch(() => {});
});
$("dpop-toggle").checked = dpopAvailable && prefs.get("dpop", false);
$("dpop-toggle").disabled = !dpopAvailable;
$("dpop-note").textContent = dpopAvailable
  ? "The key is made by WebCrypto, cannot be read by script, and stays in this browser's IndexedDB."
  : `The server has DPOP = "${page.dpopMode || "off"}": set it to "allowed" to try this.`;
$("dpop-toggle").addEventListener("change", (event) => {
  prefs.set("dpop", event.target.checked);
  thumbprint = null;
  connect();
});
$("bff-choice").hidden = !page.bff;
$("bff-note").hidden = !page.bff;
$("bff-toggle").checked = bffMode();
$("bff-toggle").addEventListener("change", (event) => {
  prefs.set("bff", event.target.checked);
  connect();
});
$("tab-name").textContent = TAB;

connect();
setInterval(tick, 250);

// A tab opened beside others takes their token; a returning visitor's tab refreshes from
// the cookie; a first visit asks nothing of the server.
auth.isAuthenticated().then(
  (yes) => {
    if (yes) showApp();
    else showLogin();
    setAuto($("auto-toggle").checked);
  },
  () => {
    showLogin();
    setAuto($("auto-toggle").checked);
  },
);
