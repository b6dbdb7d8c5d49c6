// The refreshauth demo client: cookie transport, access token in memory only.
"use strict";

const AUTH = document.body.dataset.auth; // e.g. "/demo/auth/"
const ME = document.body.dataset.me;
let accessToken = null; // never stored anywhere but this variable
let refreshing = null; // the one refresh in flight, shared by every caller

const $ = (id) => document.getElementById(id);

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function ensureCsrf() {
  if (!csrfToken()) {
    await fetch(AUTH + "csrf/", { credentials: "same-origin" });
  }
}

async function post(path, body) {
  await ensureCsrf();
  return fetch(AUTH + path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body || {}),
  });
}

// Single flight: concurrent 401s wait for the same refresh instead of each spending the
// refresh token (which would look like reuse).
function refresh() {
  if (!refreshing) {
    refreshing = (async () => {
      const response = await post("refresh/");
      if (!response.ok) {
        accessToken = null;
        return false;
      }
      accessToken = (await response.json()).access_token;
      return true;
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

// An API call with the access token; on a 401 it refreshes once and retries, and a
// failed refresh returns to the login form. A 401 for a token that another call has
// already replaced is retried with the new one, not refreshed again.
async function api(url, options = {}) {
  const call = (token) =>
    fetch(url, {
      ...options,
      credentials: "same-origin",
      headers: { ...(options.headers || {}), Authorization: "Bearer " + token },
    });
  const used = accessToken;
  let response = used ? await call(used) : null;
  if (!response || response.status === 401) {
    if (refreshing) {
      await refreshing;
    } else if (accessToken === used) {
      await refresh();
    }
    if (!accessToken) {
      showLogin("Your session has ended. Please log in again.");
      throw new Error("logged out");
    }
    response = await call(accessToken);
  }
  if (response.status === 401) {
    showLogin("Your session has ended. Please log in again.");
    throw new Error("logged out");
  }
  return response;
}

function showLogin(message) {
  accessToken = null;
  $("app-view").hidden = true;
  $("login-view").hidden = false;
  $("login-error").textContent = message || "";
  document.body.dataset.state = "logged-out";
}

async function showApp() {
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  document.body.dataset.state = "logged-in";
  await Promise.all([me(), loadSessions()]);
}

async function me() {
  const response = await api(ME);
  const body = await response.json();
  $("who").textContent = body.username;
  $("me-output").textContent = JSON.stringify(body);
  return body;
}

async function loadSessions() {
  const response = await api(AUTH + "sessions/");
  const items = await response.json();
  const rows = $("sessions");
  rows.replaceChildren();
  for (const item of items) {
    const row = document.createElement("tr");
    row.className = item.current ? "current" : "";
    row.dataset.session = item.id;
    for (const text of [
      item.id.slice(0, 8) + (item.current ? " (this tab)" : ""),
      new Date(item.last_used_at).toLocaleString(),
      item.ip_address || "",
      item.user_agent,
    ]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    const cell = document.createElement("td");
    const button = document.createElement("button");
    button.textContent = "Revoke";
    button.className = "revoke";
    button.addEventListener("click", () => revoke(item.id, item.current));
    cell.append(button);
    row.append(cell);
    rows.append(row);
  }
  return items;
}

async function revoke(id, current) {
  await api(AUTH + "sessions/" + id + "/", { method: "DELETE" });
  if (current) {
    showLogin("This session was revoked.");
  } else {
    await loadSessions();
  }
}

async function login(event) {
  event.preventDefault();
  const response = await post("login/", {
    username: $("username").value,
    password: $("password").value,
  });
  const body = await response.json();
  if (!response.ok) {
    $("login-error").textContent = body.detail || "Login failed.";
    return;
  }
  accessToken = body.access_token;
  $("password").value = "";
  await showApp();
}

async function logout() {
  await post("logout/");
  showLogin("Logged out.");
}

async function logoutAll() {
  await api(AUTH + "logout-all/", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: "{}",
  });
  showLogin("Logged out everywhere.");
}

$("login-form").addEventListener("submit", login);
$("me-button").addEventListener("click", () => me().catch(() => {}));
$("sessions-button").addEventListener("click", () => loadSessions().catch(() => {}));
$("logout-button").addEventListener("click", logout);
$("logout-all-button").addEventListener("click", logoutAll);

// Tests and curious users can drive the client from the console.
window.refreshauthDemo = { me, loadSessions, refresh, logout, api };

// A returning visitor may still hold a refresh cookie: try it once, silently.
(async () => {
  if (await refresh()) {
    await showApp();
  } else {
    showLogin();
  }
})();
