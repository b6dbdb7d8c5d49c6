// Unit tests of refreshauth's browser client that need no browser: `node --test tests/js/`.
// Two clients in one process play two tabs: they share the BroadcastChannel, the lock
// and the marker, as the tabs of one origin do.

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  RefreshAuthError,
  createClient,
  parseRetryAfter,
} from "../../refreshauth/static/refreshauth/refreshauth.js";
import { claimsOf, fakeServer } from "./fake-server.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Clients of `server`, closed when the test ends. */
function tabs(t, server, count, options = {}) {
  const clients = [];
  for (let i = 0; i < count; i += 1) {
    const client = createClient({
      baseUrl: server.auth,
      fetch: server.fetch,
      tab: `tab${i + 1}`,
      ...options,
    });
    clients.push(client);
  }
  t.after(() => clients.forEach((client) => client.close()));
  return clients;
}

/** Every event of `client`, as {type, ...}. */
function record(client) {
  const events = [];
  for (const type of ["login", "refresh", "logout", "reuse", "error"]) {
    client.on(type, (event) => events.push(event));
  }
  return events;
}

test("Retry-After in seconds or as an HTTP date", () => {
  assert.equal(parseRetryAfter("7"), 7);
  assert.equal(parseRetryAfter(null), null);
  assert.equal(parseRetryAfter("soon"), null);
  const now = Date.parse("2030-01-01T00:00:00Z");
  assert.equal(parseRetryAfter("Tue, 01 Jan 2030 00:00:30 GMT", now), 30);
});

test("cookie transport: CSRF on login, the token response without the refresh token", async (t) => {
  const server = fakeServer();
  const [auth] = tabs(t, server, 1);
  const events = record(auth);
  const result = await auth.login({ username: "ann", password: "secret" });
  assert.equal(result.refresh_token, undefined);
  assert.equal(result.token_type, "Bearer");
  assert.deepEqual(
    server.log.map((e) => e.path),
    ["/auth/csrf/", "/auth/login/"],
  );
  assert.ok(server.log[1].headers["x-csrftoken"]);
  const response = await auth.fetch(server.base + "/api/me/");
  assert.equal(response.status, 200);
  assert.match(server.log.at(-1).headers.authorization, /^Bearer /);
  assert.deepEqual(
    events.map((e) => [e.type, e.remote]),
    [["login", false]],
  );
});

test("a wrong password rejects with the server's code and emits nothing", async (t) => {
  const server = fakeServer();
  const [auth] = tabs(t, server, 1);
  const events = record(auth);
  await assert.rejects(auth.login({ username: "ann", password: "wrong" }), (error) => {
    assert.ok(error instanceof RefreshAuthError);
    assert.equal(error.status, 401);
    assert.equal(error.code, "invalid_credentials");
    return true;
  });
  assert.deepEqual(events, []);
  assert.equal(auth.status().authenticated, false);
});

test("a first visit without a session asks nothing of the server", async (t) => {
  const server = fakeServer();
  const [auth] = tabs(t, server, 1);
  assert.equal(await auth.isAuthenticated(), false);
  assert.equal(await auth.getAccessToken(), null);
  assert.deepEqual(server.log, []);
});

test("concurrent 401s in one tab share one refresh, and each call is retried once", async (t) => {
  const server = fakeServer({ accessSeconds: 1 });
  const [auth] = tabs(t, server, 1, { refreshAhead: false });
  await auth.login({ username: "ann", password: "secret" });
  await sleep(1100);
  const responses = await Promise.all(
    Array.from({ length: 5 }, () => auth.fetch(server.base + "/api/me/")),
  );
  assert.deepEqual(
    responses.map((r) => r.status),
    [200, 200, 200, 200, 200],
  );
  assert.equal(server.refreshes().length, 1);
  const calls = server.calls().map((e) => e.status);
  assert.deepEqual(calls.filter((s) => s === 401).length, 5);
  assert.deepEqual(calls.filter((s) => s === 200).length, 5);
});

test("a token due to expire is refreshed before the call, not after a 401", async (t) => {
  const server = fakeServer({ accessSeconds: 2 });
  const [auth] = tabs(t, server, 1, { refreshAhead: 1.5 });
  await auth.login({ username: "ann", password: "secret" });
  await sleep(600);
  assert.equal((await auth.fetch(server.base + "/api/me/")).status, 200);
  assert.equal(server.refreshes().length, 1);
  assert.deepEqual(
    server.calls().map((e) => e.status),
    [200],
  );
});

test("a token known to have expired is refreshed before the call", async (t) => {
  const server = fakeServer({ accessSeconds: 1 });
  const [auth] = tabs(t, server, 1);
  await auth.login({ username: "ann", password: "secret" });
  await sleep(1100);
  assert.equal((await auth.fetch(server.base + "/api/me/")).status, 200);
  assert.deepEqual(
    server.calls().map((e) => e.status),
    [200],
  );
  assert.equal(server.refreshes().length, 1);
});

test("two tabs: one refresh, and the other tab takes its result", async (t) => {
  const server = fakeServer({ accessSeconds: 1 });
  const [one, two] = tabs(t, server, 2, { refreshAhead: false });
  const seen = [record(one), record(two)];
  await one.login({ username: "ann", password: "secret" });
  await sleep(50);
  assert.equal(two.status().authenticated, true, "the login was handed over");
  await sleep(1100);
  const results = await Promise.all([
    one.fetch(server.base + "/api/me/"),
    two.fetch(server.base + "/api/me/"),
    one.fetch(server.base + "/api/me/"),
    two.fetch(server.base + "/api/me/"),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    [200, 200, 200, 200],
  );
  assert.equal(server.refreshes().length, 1, "one refresh for both tabs");
  const refreshed = seen.map((events) => events.filter((e) => e.type === "refresh"));
  // One tab made the request; the other got its token from it.
  assert.deepEqual(
    refreshed.map((list) => list.map((e) => e.remote)).flat().sort(),
    [false, true],
  );
  assert.equal([...server.sessions.values()][0].revoked, null);
});

test("a new tab gets its token from a tab that has one, without a request", async (t) => {
  const server = fakeServer();
  const [one] = tabs(t, server, 1);
  await one.login({ username: "ann", password: "secret" });
  const before = server.log.length;
  const [late] = tabs(t, server, 1, { tab: "late" });
  assert.equal(await late.isAuthenticated(), true);
  assert.equal(server.log.length, before);
  assert.equal((await late.fetch(server.base + "/api/me/")).status, 200);
});

test("a new tab alone refreshes from the shared cookie inside the lock", async (t) => {
  const server = fakeServer();
  const [one] = tabs(t, server, 1);
  await one.login({ username: "ann", password: "secret" });
  one.close(); // the only tab is closed: its memory is gone, the cookie stays
  const [reloaded] = tabs(t, server, 1, { tab: "reloaded" });
  assert.equal(await reloaded.isAuthenticated(), true);
  assert.equal(server.refreshes().length, 1);
});

test("Retry-After on a refresh's 429 is honoured", async (t) => {
  const server = fakeServer({ accessSeconds: 1 });
  const [auth] = tabs(t, server, 1, { refreshAhead: false });
  await auth.login({ username: "ann", password: "secret" });
  let limited = 0;
  server.override.set("/auth/refresh/", () => {
    if (limited++ === 0) {
      return new Response(JSON.stringify({ detail: "slow down", code: "rate_limited" }), {
        status: 429,
        headers: { "Retry-After": "1", "Content-Type": "application/json" },
      });
    }
    return null;
  });
  await sleep(1100);
  const started = Date.now();
  assert.equal((await auth.fetch(server.base + "/api/me/")).status, 200);
  assert.ok(Date.now() - started >= 1000, "waited for Retry-After");
  assert.deepEqual(
    server.refreshes().map((e) => e.status),
    [429, 200],
  );
});

test("a Retry-After beyond maxRetryWait gives up with an error event", async (t) => {
  const server = fakeServer({ accessSeconds: 1 });
  const [auth] = tabs(t, server, 1, { refreshAhead: false, maxRetryWait: 5 });
  const events = record(auth);
  await auth.login({ username: "ann", password: "secret" });
  server.override.set(
    "/auth/refresh/",
    () =>
      new Response(JSON.stringify({ detail: "down", code: "service_unavailable" }), {
        status: 503,
        headers: { "Retry-After": "120", "Content-Type": "application/json" },
      }),
  );
  await sleep(1100);
  await assert.rejects(auth.fetch(server.base + "/api/me/"), (error) => {
    assert.equal(error.status, 503);
    assert.equal(error.retryAfter, 120);
    return true;
  });
  assert.deepEqual(
    events.map((e) => e.type),
    ["login", "error"],
  );
  assert.equal(auth.status().authenticated, true, "a 503 does not end the session");
});

test("logout in one tab logs out every tab", async (t) => {
  const server = fakeServer();
  const [one, two, three] = tabs(t, server, 3);
  const seen = [record(one), record(two), record(three)];
  await one.login({ username: "ann", password: "secret" });
  await sleep(30);
  await two.logout();
  await sleep(30);
  for (const [i, events] of seen.entries()) {
    const logout = events.find((e) => e.type === "logout");
    assert.ok(logout, `tab ${i + 1} got logout`);
    assert.equal(logout.remote, i !== 1);
    assert.equal(logout.reason, "logout");
  }
  assert.equal(server.cookies.has("refresh_token"), false);
  assert.equal([...server.sessions.values()][0].revoked, "logout");
  for (const tab of [one, two, three]) assert.equal(await tab.isAuthenticated(), false);
  // No refresh was tried with the dead session.
  assert.equal(server.refreshes().length, 0);
});

test("a stolen token used first: the next refresh meets reuse detection in every tab", async (t) => {
  const server = fakeServer({ accessSeconds: 1 });
  const [one, two] = tabs(t, server, 2, { refreshAhead: false });
  const seen = [record(one), record(two)];
  await one.login({ username: "ann", password: "secret" });
  // The thief presents the refresh token it copied before the owner does.
  const stolen = server.cookies.get("refresh_token");
  const jar = new Map(server.cookies);
  const thief = await server.fetch(server.auth + "refresh/", {
    method: "POST",
    headers: { "X-CSRFToken": jar.get("csrftoken"), "Content-Type": "application/json" },
    body: "{}",
  });
  assert.equal(thief.status, 200);
  server.cookies.set("refresh_token", stolen); // the owner's browser still has the old one
  await sleep(1100);
  const response = await two.fetch(server.base + "/api/me/");
  assert.equal(response.status, 401);
  await sleep(30);
  for (const events of seen) {
    assert.deepEqual(
      events.filter((e) => e.type !== "login" && e.type !== "refresh").map((e) => e.type),
      ["reuse", "logout"],
    );
  }
  assert.equal(seen[1].find((e) => e.type === "reuse").remote, false);
  assert.equal(seen[0].find((e) => e.type === "reuse").remote, true);
  assert.equal(server.refreshes().at(-1).status, 401);
  assert.equal(await one.isAuthenticated(), false);
});

test("body transport: the refresh token stays in memory, shared with the other tabs", async (t) => {
  const server = fakeServer({ transport: "body", accessSeconds: 1 });
  const [one, two] = tabs(t, server, 2, { transport: "body", refreshAhead: false });
  const result = await one.login({ username: "ann", password: "secret" });
  assert.equal(result.refresh_token, undefined, "login() does not hand the refresh token out");
  assert.equal(server.log[0].path, "/auth/login/", "no CSRF with the body transport");
  await sleep(1100);
  const statuses = await Promise.all(
    [one, two, two, one].map((tab) => tab.fetch(server.base + "/api/me/").then((r) => r.status)),
  );
  assert.deepEqual(statuses, [200, 200, 200, 200]);
  assert.equal(server.refreshes().length, 1);
  await sleep(1100);
  assert.equal((await one.fetch(server.base + "/api/me/")).status, 200);
  assert.equal((await two.fetch(server.base + "/api/me/")).status, 200);
  assert.deepEqual(
    server.refreshes().map((e) => e.status),
    [200, 200],
  );
  assert.equal([...server.sessions.values()][0].revoked, null);
});

test("body transport with a storage object: the refresh token survives a reload", async (t) => {
  const server = fakeServer({ transport: "body" });
  const store = new Map();
  const storage = {
    getItem: (key) => (store.has(key) ? store.get(key) : null),
    setItem: (key, value) => store.set(key, value),
    removeItem: (key) => store.delete(key),
  };
  const [one] = tabs(t, server, 1, { transport: "body", storage });
  await one.login({ username: "ann", password: "secret" });
  assert.equal(store.size, 1);
  const [key] = store.keys();
  assert.equal(claimsOf(store.get(key)).sid.length, 36);
  one.close();
  const [again] = tabs(t, server, 1, { transport: "body", storage, tab: "again" });
  assert.equal((await again.fetch(server.base + "/api/me/")).status, 200);
  assert.equal(server.refreshes().length, 1);
  await again.logout();
  assert.equal(store.size, 0);
});

test("both tokens in cookies: no Authorization header, CSRF on unsafe methods", async (t) => {
  const server = fakeServer({ accessCookie: true, accessSeconds: 1 });
  const [auth, other] = tabs(t, server, 2, { refreshAhead: false });
  const result = await auth.login({ username: "ann", password: "secret" });
  assert.equal(result.access_token, undefined);
  assert.equal(auth.status().accessCookie, true, "learnt from the token response");
  assert.equal((await auth.fetch(server.base + "/api/me/")).status, 200);
  const get = server.log.at(-1);
  assert.equal(get.headers.authorization, undefined);
  assert.equal(get.headers["x-csrftoken"], undefined);
  assert.equal((await auth.fetch(server.base + "/api/me/", { method: "POST" })).status, 200);
  assert.ok(server.log.at(-1).headers["x-csrftoken"]);
  await sleep(1100);
  const statuses = await Promise.all(
    [auth, other, other].map((tab) => tab.fetch(server.base + "/api/me/").then((r) => r.status)),
  );
  assert.deepEqual(statuses, [200, 200, 200]);
  assert.equal(server.refreshes().length, 1, "one refresh across tabs");
});

test("logoutAll({keepCurrent}) keeps this session; without it every tab logs out", async (t) => {
  const server = fakeServer();
  const [one, two] = tabs(t, server, 2);
  const seen = record(two);
  await one.login({ username: "ann", password: "secret" });
  await one.logoutAll({ keepCurrent: true });
  assert.equal((await one.fetch(server.base + "/api/me/")).status, 200);
  assert.equal((await one.sessions()).length, 1);
  await one.logoutAll();
  await sleep(30);
  assert.equal(seen.at(-1).type, "logout");
  assert.equal(seen.at(-1).reason, "logout_all");
  assert.equal(await two.isAuthenticated(), false);
});

test("revoking the current session from the list logs out every tab", async (t) => {
  const server = fakeServer();
  const [one, two] = tabs(t, server, 2);
  const seen = record(two);
  await one.login({ username: "ann", password: "secret" });
  const [session] = await one.sessions();
  assert.equal(session.current, true);
  assert.equal(one.status().sessionId, session.id);
  await one.revokeSession(session.id);
  await sleep(30);
  assert.equal(seen.at(-1).type, "logout");
  assert.equal(seen.at(-1).reason, "revoked");
});

test("the Web Locks API is used when present", async (t) => {
  const server = fakeServer({ accessSeconds: 1 });
  const names = [];
  const locks = {
    request(name, options, callback) {
      names.push(name);
      return Promise.resolve().then(() => callback({ name }));
    },
  };
  const [auth] = tabs(t, server, 1, { locks, refreshAhead: false });
  await auth.login({ username: "ann", password: "secret" });
  await sleep(1100);
  assert.equal((await auth.fetch(server.base + "/api/me/")).status, 200);
  assert.deepEqual(names, [`refreshauth:${server.auth}`, `refreshauth:${server.auth}`]);
});

test("tokens go to the baseUrl's origin only", async (t) => {
  const server = fakeServer();
  const [auth] = tabs(t, server, 1);
  await auth.login({ username: "ann", password: "secret" });
  const seen = [];
  const elsewhere = createClient({
    baseUrl: server.auth,
    fetch: async (input, init) => {
      const request = new Request(input, init);
      seen.push(request.headers.get("Authorization"));
      return request.url.startsWith(server.base) ? server.fetch(request) : new Response("{}");
    },
    tab: "elsewhere",
  });
  t.after(() => elsewhere.close());
  await sleep(20);
  await elsewhere.fetch("https://other.example/api/");
  await elsewhere.fetch(server.base + "/api/me/");
  assert.equal(seen[0], null);
  assert.match(seen[1], /^Bearer /);
});

test("a request body is sent again on the retry", async (t) => {
  const server = fakeServer({ accessSeconds: 1 });
  const [auth] = tabs(t, server, 1, { refreshAhead: false });
  await auth.login({ username: "ann", password: "secret" });
  const bodies = [];
  server.override.set("/api/me/", async (request, body) => {
    bodies.push(body);
    return null;
  });
  await sleep(1100);
  const response = await auth.fetch(server.base + "/api/me/", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ hello: "world" }),
  });
  assert.equal(response.status, 200);
  assert.deepEqual(bodies, [{ hello: "world" }, { hello: "world" }]);
});

test("a token replaced before the refresh started needs no request, and later 401s still refresh", async (t) => {
  const server = fakeServer({ accessSeconds: 1 });
  const [one, two] = tabs(t, server, 2, { refreshAhead: false });
  await one.login({ username: "ann", password: "secret" });
  await sleep(1100);
  // Tab two's token is replaced (by tab one's refresh) while its call is on the wire.
  let calls = 0;
  server.override.set("/api/me/", async () => {
    if (calls++ === 1) await sleep(300);
    return null;
  });
  const [a, b] = await Promise.all([
    one.fetch(server.base + "/api/me/"),
    two.fetch(server.base + "/api/me/"),
  ]);
  assert.deepEqual([a.status, b.status], [200, 200]);
  assert.equal(server.refreshes().length, 1);
  // One lifetime later the same tabs must refresh again, not reuse a settled promise.
  server.override.delete("/api/me/");
  await sleep(1100);
  const again = await Promise.all([two.fetch(server.base + "/api/me/"), one.fetch(server.base + "/api/me/")]);
  assert.deepEqual(
    again.map((r) => r.status),
    [200, 200],
  );
  assert.equal(server.refreshes().length, 2);
  const last = server.calls().slice(-2).map((e) => e.status);
  assert.deepEqual(last, [200, 200]);
});
