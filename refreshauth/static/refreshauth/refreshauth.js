/**
 * refreshauth's browser client: one ES module, no dependencies, no build step.
 *
 *     import { createClient } from "/static/refreshauth/refreshauth.js";
 *     const auth = createClient({ baseUrl: "/web/auth/", transport: "cookie" });
 *     await auth.login({ username: "ann", password: "..." });
 *     const response = await auth.fetch("/api/me/");
 *
 * Every tab of an origin that uses the same `baseUrl` shares one session. Refreshes are
 * serialised across tabs with the Web Locks API (a localStorage lock where it is
 * missing); a tab that waited for the lock first looks whether another tab has just
 * refreshed, and takes the new access token that tab handed over on a BroadcastChannel
 * instead of spending the refresh token again. Logging out, or reuse detection, ends the
 * session in every tab. Tokens never go to localStorage: what is shared through it is a
 * small marker (a counter, a time, whether a session may exist), so that a new tab knows
 * whether asking `refresh/` makes sense.
 *
 * See refreshauth.d.ts for the types and docs/browser.md for a guide.
 * @module refreshauth
 */

const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
// How long a tab waits for another tab's answer to its "hello" before refreshing itself.
const JOIN_WAIT_MS = 250;
// A marker younger than this means its writer may be handing its token over right now.
const HANDOVER_WINDOW_MS = 500;
const HANDOVER_WAIT_MS = 2000;
const IDB_NAME = "refreshauth";
const IDB_STORE = "dpop-keys";

/** An error of refreshauth's API, or of the client itself (`status` 0). */
export class RefreshAuthError extends Error {
  /**
   * @param {string} message
   * @param {{status?: number, code?: string, detail?: string, retryAfter?: number | null,
   *          body?: unknown, cause?: unknown}} [info]
   */
  constructor(message, info = {}) {
    super(message, info.cause === undefined ? undefined : { cause: info.cause });
    this.name = "RefreshAuthError";
    /** The HTTP status, 0 when no answer came. */
    this.status = info.status ?? 0;
    /** refreshauth's error code (`invalid_credentials`, `token_reused`, `rate_limited`...). */
    this.code = info.code ?? "";
    /** The server's message. */
    this.detail = info.detail ?? message;
    /** Seconds to wait, from `Retry-After`, or null. */
    this.retryAfter = info.retryAfter ?? null;
    /** The parsed JSON body of the answer, when there was one. */
    this.body = info.body;
  }
}

// --- small helpers ----------------------------------------------------------------

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** @param {Uint8Array} bytes */
function base64url(bytes) {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** @param {string} text */
function base64urlDecode(text) {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(padded + "===".slice((padded.length + 3) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** @param {unknown} value */
const base64urlJson = (value) => base64url(new TextEncoder().encode(JSON.stringify(value)));

/** The claims of a JWT, read without verifying it (the server verifies). */
function jwtClaims(token) {
  try {
    return JSON.parse(new TextDecoder().decode(base64urlDecode(token.split(".")[1])));
  } catch {
    return {};
  }
}

function randomId(bytes = 16) {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** Seconds of a `Retry-After` header (delta-seconds or an HTTP date), or null. */
export function parseRetryAfter(value, now = Date.now()) {
  if (value == null || value === "") return null;
  const text = String(value).trim();
  if (/^\d+$/.test(text)) return Number(text);
  const when = Date.parse(text);
  return Number.isNaN(when) ? null : Math.max(0, Math.ceil((when - now) / 1000));
}

/** The absolute URL of `url` without query and fragment: a DPoP proof's `htu`. */
export function htu(url) {
  const parsed = new URL(url);
  parsed.search = "";
  parsed.hash = "";
  return parsed.href;
}

/** @param {Response} response */
async function readJson(response) {
  try {
    return await response.clone().json();
  } catch {
    return undefined;
  }
}

/** A RefreshAuthError for a non-2xx answer of refreshauth. */
async function apiError(response, what) {
  const body = await readJson(response);
  const detail = body && typeof body.detail === "string" ? body.detail : response.statusText;
  return new RefreshAuthError(`${what}: ${response.status} ${detail || ""}`.trim(), {
    status: response.status,
    code: (body && (body.code || body.error)) || "",
    detail,
    retryAfter: parseRetryAfter(response.headers.get("Retry-After")),
    body,
  });
}

// --- shared state between the tabs of this origin ------------------------------------

/** Storage shared by the tabs of an origin where localStorage is usable, else by the
 * clients of this page. Only markers and lock records go here, never a token. */
const memoryStorage = new Map();
const sharedStorage = {
  get(key) {
    try {
      if (globalThis.localStorage) return globalThis.localStorage.getItem(key);
    } catch {
      // localStorage refused (a privacy mode): this page's memory instead.
    }
    return memoryStorage.has(key) ? memoryStorage.get(key) : null;
  },
  set(key, value) {
    try {
      if (globalThis.localStorage) return globalThis.localStorage.setItem(key, value);
    } catch {
      // As above.
    }
    memoryStorage.set(key, value);
  },
  remove(key) {
    try {
      if (globalThis.localStorage) return globalThis.localStorage.removeItem(key);
    } catch {
      // As above.
    }
    memoryStorage.delete(key);
  },
};

/** Locks held in this page, so that two clients of one page queue too. */
const pageLocks = new Map();

/** Runs `callback` while holding the lock `name` of this page alone. */
function pageLock(name, callback) {
  const previous = pageLocks.get(name) || Promise.resolve();
  const run = previous.then(callback, callback);
  const tail = run.catch(() => undefined);
  pageLocks.set(name, tail);
  tail.then(() => {
    if (pageLocks.get(name) === tail) pageLocks.delete(name);
  });
  return run;
}

/**
 * A lock across the tabs of an origin, where the Web Locks API is missing: a record in
 * localStorage with an owner and an expiry, renewed while held. It narrows the window in
 * which two tabs could refresh at once to a few milliseconds; Web Locks close it.
 */
async function storageLock(name, timeoutMs, callback) {
  const key = name + ":lock";
  const owner = randomId(9);
  const ttl = 10000;
  const deadline = Date.now() + timeoutMs;
  const read = () => {
    try {
      return JSON.parse(sharedStorage.get(key) || "null");
    } catch {
      return null;
    }
  };
  for (;;) {
    const held = read();
    if (!held || held.until < Date.now()) {
      sharedStorage.set(key, JSON.stringify({ owner, until: Date.now() + ttl }));
      // Another tab may have written at the same moment: the last writer wins.
      await sleep(30);
      if (read()?.owner === owner) break;
    }
    if (Date.now() > deadline) {
      throw new RefreshAuthError("refreshauth: timed out waiting for another tab's refresh");
    }
    await sleep(40 + Math.random() * 60);
  }
  const renew = setInterval(() => {
    if (read()?.owner === owner) {
      sharedStorage.set(key, JSON.stringify({ owner, until: Date.now() + ttl }));
    }
  }, ttl / 3);
  try {
    return await callback();
  } finally {
    clearInterval(renew);
    if (read()?.owner === owner) sharedStorage.remove(key);
  }
}

// --- DPoP (RFC 9449) --------------------------------------------------------------

const memoryKeys = new Map();

function openKeyDatabase() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(IDB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(IDB_STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** The key pair stored under `id`, or `fresh` stored there if there was none: in one
 * IndexedDB transaction, so that tabs racing to create a key all end up with one. */
async function storedKeyPair(id, fresh) {
  const db = await openKeyDatabase();
  try {
    return await new Promise((resolve, reject) => {
      const transaction = db.transaction(IDB_STORE, "readwrite");
      const store = transaction.objectStore(IDB_STORE);
      let result = null;
      const get = store.get(id);
      get.onsuccess = () => {
        if (get.result && get.result.privateKey) {
          result = get.result;
        } else if (fresh) {
          store.put(fresh, id);
          result = fresh;
        }
      };
      transaction.oncomplete = () => resolve(result);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  } finally {
    db.close();
  }
}

function generateKeyPair() {
  // Not extractable: script can sign with the private key but never read it.
  return crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
    "sign",
    "verify",
  ]);
}

/** This origin's DPoP key pair for `id`, the same in every tab and after a reload. */
async function dpopKeyPair(id) {
  if (typeof indexedDB === "undefined") {
    if (!memoryKeys.has(id)) memoryKeys.set(id, generateKeyPair());
    return memoryKeys.get(id);
  }
  const stored = await storedKeyPair(id, null);
  if (stored) return stored;
  return storedKeyPair(id, await generateKeyPair());
}

/** The public JWK of a P-256 key, its four members only. */
async function publicJwk(keyPair) {
  const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", keyPair.publicKey);
  return { kty, crv, x, y };
}

/** The RFC 7638 thumbprint of a P-256 public JWK. */
export async function jwkThumbprint(jwk) {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical));
  return base64url(new Uint8Array(digest));
}

/**
 * A DPoP proof (RFC 9449 §4.2): an ES256 JWS of `htm`, `htu`, `iat`, `jti` and, for a
 * call with an access token, `ath`.
 * @param {CryptoKeyPair} keyPair
 * @param {{method: string, url: string, accessToken?: string | null, now?: number}} request
 */
export async function dpopProof(keyPair, { method, url, accessToken = null, now = Date.now() }) {
  const header = { typ: "dpop+jwt", alg: "ES256", jwk: await publicJwk(keyPair) };
  /** @type {Record<string, string | number>} */
  const claims = {
    jti: randomId(16),
    htm: method.toUpperCase(),
    htu: htu(url),
    iat: Math.floor(now / 1000),
  };
  if (accessToken) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(accessToken));
    claims.ath = base64url(new Uint8Array(digest));
  }
  const input = base64urlJson(header) + "." + base64urlJson(claims);
  const signature = await crypto.subtle.sign(
    { name: "ECDSA", hash: "SHA-256" },
    keyPair.privateKey,
    new TextEncoder().encode(input),
  );
  return input + "." + base64url(new Uint8Array(signature));
}

// --- the client -------------------------------------------------------------------

/**
 * A client of one refreshauth mount. See refreshauth.d.ts for the options and methods.
 * @param {import("./refreshauth").ClientOptions} options
 * @returns {import("./refreshauth").RefreshAuthClient}
 */
export function createClient(options = {}) {
  const here = globalThis.location ? globalThis.location.href : undefined;
  if (!options.baseUrl) throw new TypeError("refreshauth: createClient() needs a baseUrl");
  const baseUrl = new URL(options.baseUrl, here).href.replace(/\/?$/, "/");
  const transport = options.transport || "cookie";
  if (transport !== "cookie" && transport !== "body") {
    throw new TypeError(`refreshauth: transport must be "cookie" or "body", not ${transport}`);
  }
  const storage = options.storage || null;
  const doFetch = options.fetch || ((...args) => globalThis.fetch(...args));
  const locks = options.locks !== undefined ? options.locks : globalThis.navigator?.locks;
  const credentials = options.credentials || "same-origin";
  const csrfCookieName = options.csrfCookieName || "csrftoken";
  const csrfHeaderName = options.csrfHeaderName || "X-CSRFToken";
  const lockTimeout = options.lockTimeout ?? 60000;
  const maxRetries = options.retries ?? 3;
  const maxRetryWait = options.maxRetryWait ?? 60;
  const tab = options.tab || randomId(3);
  const origins = new Set([new URL(baseUrl).origin, ...(options.origins || [])]);
  const lockName = "refreshauth:" + baseUrl;
  const markerKey = "refreshauth:" + baseUrl + ":marker";
  const storageKey = "refreshauth:" + baseUrl + ":refresh_token";
  const channel =
    typeof BroadcastChannel === "function" ? new BroadcastChannel("refreshauth:" + baseUrl) : null;

  let accessCookie = options.accessToken === "cookie";
  let dpop = Boolean(options.dpop);
  /** What this tab holds. `seq` is the generation of the marker these tokens belong to. */
  const state = {
    access: /** @type {string | null} */ (null),
    type: "Bearer",
    expiresAt: 0,
    lifetime: 0,
    seq: 0,
    live: false,
  };
  /** Body transport: the refresh token, in this tab's memory. */
  let refreshToken = /** @type {string | null} */ (null);
  /** The refresh in flight in this tab, and the generation it replaces. */
  let inflight = /** @type {{staleSeq: number, promise: Promise<boolean>} | null} */ (null);
  let skewMs = 0;
  let keyPairPromise = null;
  /** @type {Map<string, Set<Function>>} */
  const handlers = new Map();
  /** @type {Set<() => void>} */
  const seqWaiters = new Set();

  // --- events ---

  function emit(type, detail = {}) {
    const event = { type, tab, ...detail };
    for (const handler of handlers.get(type) || []) {
      try {
        handler(event);
      } catch (error) {
        // A faulty handler must not break the client, nor be silenced.
        setTimeout(() => {
          throw error;
        });
      }
    }
    return event;
  }

  const trace = (step, detail = {}) => emit("trace", { step, ...detail });

  function fail(error) {
    emit("error", { error });
    return error;
  }

  // --- the marker shared by the tabs ---

  function readMarker() {
    try {
      const value = JSON.parse(sharedStorage.get(markerKey) || "null");
      if (value && typeof value.seq === "number") return value;
    } catch {
      // An unreadable marker is no marker.
    }
    return { seq: 0, session: false, at: 0, by: "", expiresAt: 0, refreshExpiresAt: 0 };
  }

  function writeMarker(fields) {
    const marker = { ...readMarker(), ...fields, at: Date.now(), by: tab };
    sharedStorage.set(markerKey, JSON.stringify(marker));
    return marker;
  }

  /** Whether a session may exist for this browser, so that asking refresh/ makes sense. */
  function sessionMayExist(marker = readMarker()) {
    if (transport === "body") return Boolean(refreshToken) || Boolean(storage);
    if (!marker.session) return false;
    return !marker.refreshExpiresAt || marker.refreshExpiresAt > Date.now();
  }

  // --- the tokens this tab holds ---

  // refreshAhead: false trusts the server alone: a token is used until it answers 401.
  const trackExpiry = options.refreshAhead !== false;

  function usable(now = Date.now()) {
    if (!state.live) return false;
    if (!state.expiresAt || !trackExpiry) return true;
    return now < state.expiresAt;
  }

  function refreshAhead() {
    if (typeof options.refreshAhead === "number") return Math.max(0, options.refreshAhead * 1000);
    return Math.min(30000, Math.max(1000, state.lifetime / 4));
  }

  function dueForRefresh(now = Date.now()) {
    if (!state.live) return true;
    if (!state.expiresAt || !trackExpiry) return false;
    return now >= state.expiresAt - refreshAhead();
  }

  function holdTokens(body, seq, receivedAt = Date.now()) {
    if (body.access_token) {
      state.access = body.access_token;
    } else {
      // No access token in the body: the server keeps it in an HttpOnly cookie.
      accessCookie = true;
      state.access = null;
    }
    state.type = body.token_type === "DPoP" ? "DPoP" : "Bearer";
    state.lifetime = (Number(body.expires_in) || 0) * 1000;
    // The server counts whole seconds from the token's iat: keep half a second in hand.
    state.expiresAt = state.lifetime ? receivedAt + state.lifetime - 500 : 0;
    state.seq = seq;
    state.live = true;
    if (body.refresh_token) refreshToken = body.refresh_token;
    notifySeq();
  }

  function clearTokens(seq) {
    state.access = null;
    state.expiresAt = 0;
    state.live = false;
    state.seq = Math.max(state.seq, seq);
    refreshToken = null;
    notifySeq();
  }

  function notifySeq() {
    for (const wake of [...seqWaiters]) wake();
  }

  /** Resolves once this tab holds generation `seq` or later, or after `ms`. */
  function waitForSeq(seq, ms) {
    if (state.seq >= seq || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        if (state.seq < seq) return;
        finish();
      };
      const finish = () => {
        clearTimeout(timer);
        seqWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(finish, ms);
      seqWaiters.add(done);
    });
  }

  function currentCredential() {
    if (!usable()) return null;
    return { access: state.access, type: state.type, seq: state.seq };
  }

  function publicStatus() {
    return {
      authenticated: state.live,
      expiresAt: state.expiresAt || null,
      tokenType: state.live ? state.type : null,
      accessCookie,
      sessionId: state.access ? jwtClaims(state.access).sid || null : null,
      tab,
    };
  }

  // --- storage of the refresh token, body transport ---

  async function storedRefreshToken() {
    if (!storage) return null;
    return (await storage.getItem(storageKey)) || null;
  }

  async function storeRefreshToken(value) {
    if (!storage) return;
    if (value) await storage.setItem(storageKey, value);
    else await storage.removeItem(storageKey);
  }

  // --- talking to the other tabs ---

  function post(message) {
    if (channel) channel.postMessage({ ...message, from: tab });
  }

  function broadcastTokens(reason) {
    post({
      type: "tokens",
      reason,
      seq: state.seq,
      access: state.access,
      tokenType: state.type,
      lifetime: state.lifetime,
      expiresAt: state.expiresAt,
      accessCookie,
      dpop,
      // Body transport without storage: the other tabs share the session through this.
      refresh: transport === "body" ? refreshToken : undefined,
    });
  }

  let joined = null;

  if (channel) {
    channel.onmessage = (message) => {
      const data = message.data;
      if (!data || data.from === tab) return;
      if (data.type === "hello") {
        if (usable()) broadcastTokens("hello");
      } else if (data.type === "tokens") {
        if (data.seq <= state.seq && state.live) return;
        if (data.seq < state.seq) return;
        const wasLive = state.live;
        accessCookie = Boolean(data.accessCookie) || accessCookie;
        dpop = dpop || Boolean(data.dpop);
        state.access = data.access || null;
        state.type = data.tokenType || "Bearer";
        state.lifetime = data.lifetime || 0;
        state.expiresAt = data.expiresAt || 0;
        state.seq = data.seq;
        state.live = true;
        if (data.refresh) {
          refreshToken = data.refresh;
          storeRefreshToken(data.refresh).catch(fail);
        }
        notifySeq();
        const detail = { remote: true, by: data.from, expiresAt: state.expiresAt };
        if (data.reason === "login") emit("login", detail);
        else emit("refresh", { ...detail, joined: !wasLive });
      } else if (data.type === "end") {
        const wasLive = state.live;
        clearTokens(data.seq);
        storeRefreshToken(null).catch(fail);
        if (wasLive) ended(data.event, data.reason, data.code, true, data.from);
      }
    };
    post({ type: "hello" });
    const helloAt = Date.now();
    joined = () => waitForSeq(state.seq + 1, JOIN_WAIT_MS - (Date.now() - helloAt));
  }

  function ended(event, reason, code, remote, by) {
    const detail = { remote, by, reason, code: code || "" };
    if (event === "reuse") emit("reuse", detail);
    emit("logout", detail);
  }

  /** Ends the session in this tab and every other one. */
  function endSession(event, reason, code = "") {
    const wasLive = state.live || Boolean(refreshToken);
    const marker = writeMarker({
      seq: readMarker().seq + 1,
      session: false,
      expiresAt: 0,
      refreshExpiresAt: 0,
    });
    clearTokens(marker.seq);
    storeRefreshToken(null).catch(fail);
    post({ type: "end", event, reason, code, seq: marker.seq });
    if (wasLive || event === "reuse") ended(event, reason, code, false, tab);
  }

  // --- locking ---

  /** Runs `callback` while holding the cross-tab lock of this mount. */
  function withLock(callback) {
    return pageLock(lockName, () => {
      if (locks && typeof locks.request === "function") {
        const lockOptions = {};
        if (typeof AbortSignal !== "undefined" && AbortSignal.timeout) {
          lockOptions.signal = AbortSignal.timeout(lockTimeout);
        }
        return locks.request(lockName, lockOptions, () => callback()).catch((error) => {
          if (error && error.name === "TimeoutError") {
            throw new RefreshAuthError("refreshauth: timed out waiting for another tab", {
              cause: error,
            });
          }
          throw error;
        });
      }
      return storageLock(lockName, lockTimeout, callback);
    });
  }

  // --- HTTP ---

  function readCookie(name) {
    const cookies = globalThis.document ? globalThis.document.cookie : "";
    for (const part of cookies.split(";")) {
      const [key, ...value] = part.trim().split("=");
      if (key === name) return decodeURIComponent(value.join("="));
    }
    return "";
  }

  async function csrfToken() {
    let token = readCookie(csrfCookieName);
    if (!token) {
      const response = await doFetch(baseUrl + "csrf/", { credentials, cache: "no-store" });
      if (!response.ok) throw await apiError(response, "refreshauth: csrf/");
      token = readCookie(csrfCookieName);
    }
    return token;
  }

  function keyPair() {
    if (!keyPairPromise) {
      keyPairPromise = dpopKeyPair(baseUrl).catch((error) => {
        keyPairPromise = null;
        throw error;
      });
    }
    return keyPairPromise;
  }

  function proof(method, url, accessToken = null) {
    return keyPair().then((pair) =>
      dpopProof(pair, { method, url, accessToken, now: Date.now() + skewMs }),
    );
  }

  function noteClock(response) {
    const date = Date.parse(response.headers.get("Date") || "");
    if (Number.isNaN(date)) return;
    const offset = date - Date.now();
    // The Date header has whole seconds: only a clock that is clearly off is corrected.
    skewMs = Math.abs(offset) > 5000 ? offset : 0;
  }

  /** A POST to one of refreshauth's own endpoints (login/, refresh/, logout/). */
  async function postAuth(path, body, { proofNeeded = dpop } = {}) {
    const url = baseUrl + path;
    const headers = new Headers({ "Content-Type": "application/json" });
    if (transport === "cookie") headers.set(csrfHeaderName, await csrfToken());
    if (proofNeeded) headers.set("DPoP", await proof("POST", url));
    trace("auth-request", { method: "POST", url });
    const response = await doFetch(url, {
      method: "POST",
      credentials,
      cache: "no-store",
      headers,
      body: JSON.stringify(body || {}),
    });
    noteClock(response);
    trace("auth-response", { method: "POST", url, status: response.status });
    return response;
  }

  // --- refreshing ---

  /**
   * Refreshes once for this tab: callers that find the same stale generation share one
   * promise. Resolves to whether this tab then holds a usable session.
   */
  function refresh(staleSeq = state.seq, reason = "expired") {
    if (inflight && inflight.staleSeq >= staleSeq) return inflight.promise;
    if (inflight) {
      // The refresh in flight is for an older token than the caller's: once it is done,
      // refresh again unless the caller's token has been replaced meanwhile.
      return inflight.promise.then(
        () => (state.seq > staleSeq && usable() ? true : refresh(staleSeq, reason)),
        () => refresh(staleSeq, reason),
      );
    }
    const entry = { staleSeq, promise: Promise.resolve(false) };
    inflight = entry;
    entry.promise = (async () => {
      try {
        if (!state.live && joined) await joined();
        if (state.seq > staleSeq && usable()) return true;
        if (!sessionMayExist() && !state.live) return false;
        const asked = { at: Date.now(), seq: readMarker().seq };
        trace("lock-wait", { reason });
        return await withLock(() => refreshLocked(staleSeq, reason, asked));
      } finally {
        // Also right when the body returned without waiting, before this entry was used.
        if (inflight === entry) inflight = null;
      }
    })();
    return entry.promise;
  }

  async function refreshLocked(staleSeq, reason, asked) {
    trace("lock", { waited: Date.now() - asked.at });
    if (state.seq > staleSeq && usable()) {
      trace("reuse-result", { by: "a broadcast", waited: true });
      return true;
    }
    let marker = readMarker();
    const behind = marker.seq > state.seq;
    if (behind && marker.session) {
      // Another tab refreshed after the token this tab holds. If it did so while this
      // tab waited for the lock, it handed the new token over before letting go of the
      // lock, and the message is on its way.
      // A body-transport tab without storage cannot refresh without that token at all.
      const mustWait = transport === "body" && !storage && Boolean(channel);
      let wait = 0;
      if (marker.seq > asked.seq || mustWait) wait = HANDOVER_WAIT_MS;
      else if (Date.now() - marker.at < HANDOVER_WINDOW_MS) wait = HANDOVER_WINDOW_MS;
      await waitForSeq(marker.seq, wait);
      if (state.seq >= marker.seq && usable()) {
        trace("reuse-result", { by: marker.by, waited: true });
        return true;
      }
      marker = readMarker();
    }
    if (transport === "cookie" && !sessionMayExist(marker)) {
      if (state.live) endSession("logout", "ended", "");
      return false;
    }
    if (transport === "body") {
      const stored = await storedRefreshToken();
      if (stored && stored !== refreshToken && (marker.seq > state.seq || !refreshToken)) {
        refreshToken = stored; // written by another tab that shares this storage
      } else if (refreshToken && marker.seq > state.seq && !storage && channel) {
        // Never present a refresh token that another tab has already rotated: that is
        // what reuse detection looks for. This tab lost track of the session.
        clearTokens(marker.seq);
        emit("logout", { remote: false, by: tab, reason: "out_of_sync", code: "" });
        return false;
      }
      if (!refreshToken) {
        if (state.live) clearTokens(state.seq);
        return false;
      }
    }
    return requestRefresh(reason, marker);
  }

  async function requestRefresh(reason, marker) {
    let csrfRetried = false;
    let proofRetried = false;
    for (let attempt = 0; ; attempt += 1) {
      let response;
      try {
        const body = transport === "body" ? { refresh_token: refreshToken } : {};
        response = await postAuth("refresh/", body, { proofNeeded: dpop });
      } catch (error) {
        throw fail(
          error instanceof RefreshAuthError
            ? error
            : new RefreshAuthError("refreshauth: refresh failed: " + error, { cause: error }),
        );
      }
      if (response.ok) {
        const body = await response.json();
        const next = writeMarker({
          seq: Math.max(marker.seq, state.seq) + 1,
          session: true,
          expiresAt: 0,
          refreshExpiresAt: body.refresh_expires_in
            ? Date.now() + body.refresh_expires_in * 1000
            : 0,
          accessCookie: !body.access_token,
        });
        holdTokens(body, next.seq);
        if (!body.access_token) writeMarker({ expiresAt: state.expiresAt });
        if (body.refresh_token) await storeRefreshToken(body.refresh_token);
        broadcastTokens("refresh");
        emit("refresh", { remote: false, by: tab, reason, expiresAt: state.expiresAt });
        return true;
      }
      const error = await apiError(response, "refreshauth: refresh");
      if ((response.status === 429 || response.status === 503) && attempt < maxRetries) {
        const wait = error.retryAfter ?? 1;
        if (wait <= maxRetryWait) {
          trace("retry-after", { status: response.status, seconds: wait });
          await sleep(wait * 1000);
          continue;
        }
      }
      if (response.status === 401) {
        // The session is gone (RFC 6749 invalid_grant): revoked, expired, or reused.
        if (error.code === "token_reused") endSession("reuse", "reuse", error.code);
        else endSession("logout", error.code === "token_expired" ? "expired" : "revoked", error.code);
        return false;
      }
      if (response.status === 403 && error.code === "csrf_failed" && !csrfRetried) {
        csrfRetried = true; // a CSRF cookie that changed meanwhile: fetch it again
        await doFetch(baseUrl + "csrf/", { credentials, cache: "no-store" });
        continue;
      }
      if (response.status === 400 && error.code === "invalid_dpop_proof" && !proofRetried) {
        proofRetried = true; // perhaps a clock that is off: noteClock() corrected it
        continue;
      }
      if (response.status === 400 && transport === "cookie" && !error.code) {
        // No refresh cookie reached the server: there is no session to refresh.
        endSession("logout", "ended", "");
        return false;
      }
      throw fail(error);
    }
  }

  /** A usable credential for a call, refreshing first when due; null without a session. */
  async function credential() {
    if (!state.live && joined) await joined();
    if (!state.live && transport === "cookie") {
      // Both tokens in cookies, and the marker says the access cookie is still good.
      const marker = readMarker();
      if (marker.session && marker.accessCookie && marker.expiresAt > Date.now()) {
        accessCookie = true;
        state.live = true;
        state.expiresAt = marker.expiresAt;
        state.seq = marker.seq;
      }
    }
    if (dueForRefresh()) {
      const before = currentCredential();
      try {
        await refresh(state.seq, state.live ? "ahead" : "missing");
      } catch (error) {
        // A refresh ahead of time that failed: the current token is still good.
        if (!before || !usable()) throw error;
      }
    }
    return currentCredential();
  }

  // --- calls ---

  function resolveUrl(input) {
    if (typeof input === "string" || input instanceof URL) return new URL(input, here).href;
    return input.url;
  }

  function isOurs(url) {
    try {
      return origins.has(new URL(url).origin);
    } catch {
      return false;
    }
  }

  /**
   * The headers that authenticate a call to `url`: Authorization (and DPoP), or with the
   * access token in a cookie the CSRF header of unsafe methods.
   */
  async function authHeaders(method, url, cred) {
    const headers = {};
    if (!cred) return headers;
    if (cred.access) {
      headers.Authorization = `${cred.type} ${cred.access}`;
      if (cred.type === "DPoP") headers.DPoP = await proof(method, url, cred.access);
    } else {
      if (UNSAFE_METHODS.has(method.toUpperCase())) {
        headers[csrfHeaderName] = await csrfToken();
      }
      // A DPoP-bound session in cookie mode still proves its key; the token is unseen.
      if (dpop && state.type === "DPoP") headers.DPoP = await proof(method, url);
    }
    return headers;
  }

  function dpopProblem(response) {
    const challenge = response.headers.get("WWW-Authenticate") || "";
    return /^\s*DPoP\b/i.test(challenge) && /invalid_dpop_proof/.test(challenge);
  }

  /** window.fetch with this session's access token, one refresh and one retry on a 401. */
  async function authFetch(input, init) {
    const url = resolveUrl(input);
    const request = new Request(typeof input === "string" ? url : input, init);
    if (!isOurs(url)) return doFetch(request);
    const send = async (cred) => {
      const headers = new Headers(request.headers);
      for (const [name, value] of Object.entries(await authHeaders(request.method, url, cred))) {
        headers.set(name, value);
      }
      const copy = new Request(request.clone(), { headers });
      trace("request", { method: request.method, url, seq: cred ? cred.seq : null });
      const response = await doFetch(copy);
      trace("response", { method: request.method, url, status: response.status });
      return response;
    };
    let cred = await credential();
    let response = await send(cred);
    if (response.status !== 401) return response;
    if (cred && dpopProblem(response)) {
      noteClock(response);
      trace("retry", { method: request.method, url, why: "dpop" });
      return send(currentCredential());
    }
    if (!cred && !sessionMayExist()) return response;
    const body = await readJson(response);
    const code = body && body.code;
    const refreshed = await refresh(cred ? cred.seq : state.seq, code || "401");
    cred = currentCredential();
    if (!refreshed || !cred) return response;
    trace("retry", { method: request.method, url, why: code || "401" });
    return send(cred);
  }

  async function ensureOk(response, what) {
    if (!response.ok) throw await apiError(response, "refreshauth: " + what);
    return response;
  }

  // --- the public API ---

  async function login(fields, loginOptions = {}) {
    const body = { ...fields };
    if (loginOptions.deviceName) body.device_name = loginOptions.deviceName;
    return withLock(async () => {
      const response = await postAuth("login/", body, { proofNeeded: dpop });
      if (!response.ok) throw await apiError(response, "refreshauth: login");
      const tokens = await response.json();
      const marker = writeMarker({
        seq: Math.max(readMarker().seq, state.seq) + 1,
        session: true,
        refreshExpiresAt: tokens.refresh_expires_in
          ? Date.now() + tokens.refresh_expires_in * 1000
          : 0,
        accessCookie: !tokens.access_token,
        expiresAt: 0,
      });
      holdTokens(tokens, marker.seq);
      if (!tokens.access_token) writeMarker({ expiresAt: state.expiresAt });
      if (tokens.refresh_token) await storeRefreshToken(tokens.refresh_token);
      broadcastTokens("login");
      emit("login", { remote: false, by: tab, expiresAt: state.expiresAt });
      const result = { ...tokens };
      delete result.refresh_token;
      return result;
    });
  }

  async function logout() {
    return withLock(async () => {
      const marker = readMarker();
      let failure = null;
      try {
        if (transport === "cookie" ? marker.session || state.live : refreshToken) {
          const body = transport === "body" ? { refresh_token: refreshToken } : {};
          const response = await postAuth("logout/", body, { proofNeeded: false });
          if (!response.ok && response.status !== 400) {
            failure = await apiError(response, "refreshauth: logout");
          }
        }
      } catch (error) {
        failure = error;
      }
      // Whatever the server said, this browser is logged out.
      endSession("logout", "logout");
      if (failure) throw fail(failure);
    });
  }

  async function logoutAll({ keepCurrent = false } = {}) {
    const response = await authFetch(baseUrl + "logout-all/", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(keepCurrent ? { keep_current: true } : {}),
    });
    await ensureOk(response, "logout-all");
    if (!keepCurrent) {
      await withLock(async () => {
        try {
          if (transport === "cookie") {
            // The session is revoked; logout/ also deletes the cookie that named it.
            await postAuth("logout/", {}, { proofNeeded: false });
          }
        } finally {
          endSession("logout", "logout_all");
        }
      });
    }
  }

  async function sessions() {
    const response = await ensureOk(await authFetch(baseUrl + "sessions/"), "sessions");
    return response.json();
  }

  async function revokeSession(id) {
    const current = publicStatus().sessionId;
    const response = await authFetch(baseUrl + "sessions/" + encodeURIComponent(id) + "/", {
      method: "DELETE",
    });
    await ensureOk(response, "revoke session");
    if (current && current === id) await withLock(async () => endSession("logout", "revoked"));
  }

  function on(type, handler) {
    if (!handlers.has(type)) handlers.set(type, new Set());
    handlers.get(type).add(handler);
    return () => handlers.get(type).delete(handler);
  }

  async function isAuthenticated() {
    if (transport === "body" && !refreshToken && !state.live) {
      refreshToken = await storedRefreshToken();
    }
    return (await credential()) !== null;
  }

  async function getAccessToken() {
    const cred = await credential();
    return cred ? cred.access : null;
  }

  async function dpopThumbprint() {
    if (!dpop) return null;
    return jwkThumbprint(await publicJwk(await keyPair()));
  }

  /** Request and response interceptors on an axios instance, with fetch's behaviour. */
  function axios(instance) {
    const requestId = instance.interceptors.request.use(async (config) => {
      const url = new URL(instance.getUri(config), here).href;
      if (!isOurs(url)) return config;
      const cred = await credential();
      const method = (config.method || "get").toUpperCase();
      const headers = await authHeaders(method, url, cred);
      for (const [name, value] of Object.entries(headers)) {
        if (config.headers && typeof config.headers.set === "function") {
          config.headers.set(name, value);
        } else {
          config.headers = { ...(config.headers || {}), [name]: value };
        }
      }
      config.refreshauth = { ...(config.refreshauth || {}), seq: cred ? cred.seq : null };
      trace("request", { method, url, seq: cred ? cred.seq : null });
      return config;
    });
    const responseId = instance.interceptors.response.use(undefined, async (error) => {
      const config = error && error.config;
      const response = error && error.response;
      const mark = config && config.refreshauth;
      if (!mark || !response || response.status !== 401 || mark.retried) throw error;
      mark.retried = true;
      const url = new URL(instance.getUri(config), here).href;
      const headers = response.headers || {};
      const challenge =
        typeof headers.get === "function" ? headers.get("www-authenticate") : headers["www-authenticate"];
      const wasDpop = /^\s*DPoP\b/i.test(challenge || "") && /invalid_dpop_proof/.test(challenge);
      if (!wasDpop) {
        if (mark.seq === null && !sessionMayExist()) throw error;
        const code = response.data && response.data.code;
        const refreshed = await refresh(mark.seq === null ? state.seq : mark.seq, code || "401");
        if (!refreshed || !currentCredential()) throw error;
      }
      trace("retry", { method: (config.method || "get").toUpperCase(), url, why: "401" });
      return instance.request(config);
    });
    return () => {
      instance.interceptors.request.eject(requestId);
      instance.interceptors.response.eject(responseId);
    };
  }

  function close() {
    if (channel) channel.close();
    handlers.clear();
  }

  // Body transport with a storage object: pick up the session a reload left behind.
  const restored = storage
    ? storedRefreshToken().then(
        (value) => {
          if (value && !refreshToken) refreshToken = value;
        },
        (error) => fail(error),
      )
    : null;
  const afterRestore = (fn) =>
    restored
      ? async (...args) => {
          await restored;
          return fn(...args);
        }
      : fn;

  return Object.freeze({
    tab,
    baseUrl,
    login: afterRestore(login),
    logout: afterRestore(logout),
    logoutAll: afterRestore(logoutAll),
    sessions: afterRestore(sessions),
    revokeSession: afterRestore(revokeSession),
    fetch: afterRestore(authFetch),
    refresh: afterRestore(() => refresh(state.seq, "manual")),
    isAuthenticated: afterRestore(isAuthenticated),
    getAccessToken: afterRestore(getAccessToken),
    dpopThumbprint,
    status: publicStatus,
    on,
    axios,
    close,
  });
}
