// The axios adapter behaves like auth.fetch: the access token on every call, one shared
// refresh on 401s, one retry. axios comes from tests/js/node_modules (`npm ci`).

import assert from "node:assert/strict";
import { test } from "node:test";

import axios from "axios";

import { createClient } from "../../refreshauth/static/refreshauth/refreshauth.js";
import { fakeServer } from "./fake-server.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** An axios instance whose requests go to the fake server through its fetch. */
function instanceFor(server) {
  const instance = axios.create({ baseURL: server.base });
  instance.defaults.adapter = async (config) => {
    const headers = config.headers.toJSON();
    const response = await server.fetch(instance.getUri(config), {
      method: config.method.toUpperCase(),
      headers,
      body: config.data,
    });
    const text = await response.text();
    const result = {
      data: text ? JSON.parse(text) : text,
      status: response.status,
      statusText: response.statusText,
      headers: Object.fromEntries(response.headers),
      config,
      request: {},
    };
    if (config.validateStatus(response.status)) return result;
    throw new axios.AxiosError(
      `Request failed with status code ${response.status}`,
      axios.AxiosError.ERR_BAD_REQUEST,
      config,
      {},
      result,
    );
  };
  return instance;
}

test("concurrent 401s through axios share one refresh and are retried once", async (t) => {
  const server = fakeServer({ accessSeconds: 1 });
  const auth = createClient({ baseUrl: server.auth, fetch: server.fetch, refreshAhead: false });
  t.after(() => auth.close());
  const api = instanceFor(server);
  auth.axios(api);
  await auth.login({ username: "ann", password: "secret" });
  assert.equal((await api.get("/api/me/")).data.username, "ann");
  assert.match(server.log.at(-1).headers.authorization, /^Bearer /);
  await sleep(1100);
  const answers = await Promise.all([api.get("/api/me/"), api.post("/api/me/", { a: 1 }), api.get("/api/me/")]);
  assert.deepEqual(
    answers.map((a) => a.status),
    [200, 200, 200],
  );
  assert.equal(server.refreshes().length, 1);
});

test("a 401 that a refresh cannot cure is thrown after one retry", async (t) => {
  const server = fakeServer();
  const auth = createClient({ baseUrl: server.auth, fetch: server.fetch });
  t.after(() => auth.close());
  const api = instanceFor(server);
  auth.axios(api);
  await auth.login({ username: "ann", password: "secret" });
  server.override.set(
    "/api/me/",
    () => new Response(JSON.stringify({ code: "token_invalid" }), { status: 401 }),
  );
  await assert.rejects(api.get("/api/me/"), (error) => error.response.status === 401);
  assert.equal(server.calls().length, 2, "the call and one retry");
  assert.equal(server.refreshes().length, 1);
});

test("the adapter ends the session like fetch when the refresh meets reuse", async (t) => {
  const server = fakeServer({ accessSeconds: 1 });
  const auth = createClient({ baseUrl: server.auth, fetch: server.fetch, refreshAhead: false });
  t.after(() => auth.close());
  const events = [];
  auth.on("reuse", (e) => events.push(e.type));
  auth.on("logout", (e) => events.push(e.type));
  const api = instanceFor(server);
  auth.axios(api);
  await auth.login({ username: "ann", password: "secret" });
  for (const session of server.sessions.values()) session.jti = "rotated-by-a-thief";
  await sleep(1100);
  await assert.rejects(api.get("/api/me/"), (error) => error.response.status === 401);
  assert.deepEqual(events, ["reuse", "logout"]);
});

test("eject removes the interceptors; other origins never get the token", async (t) => {
  const server = fakeServer();
  const auth = createClient({ baseUrl: server.auth, fetch: server.fetch });
  t.after(() => auth.close());
  const api = instanceFor(server);
  const eject = auth.axios(api);
  await auth.login({ username: "ann", password: "secret" });
  const other = fakeServer();
  const foreign = instanceFor(other);
  auth.axios(foreign);
  await foreign.get("/api/me/").catch(() => {});
  assert.equal(other.log.at(-1).headers.authorization, undefined);
  eject();
  await api.get("/api/me/").catch(() => {});
  assert.equal(server.log.at(-1).headers.authorization, undefined);
});
