// A small stand-in for a refreshauth server and a browser's cookie jar, for the client's
// unit tests: rotation with reuse detection (grace period 0), the cookie transport with
// its CSRF check, both tokens in cookies, and a log of every request.

let counter = 0;
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
const unb64 = (text) => JSON.parse(Buffer.from(text, "base64url").toString());
const jwt = (claims) => `${b64({ alg: "none" })}.${b64(claims)}.sig`;
const claimsOf = (token) => {
  try {
    return unb64(String(token).split(".")[1]);
  } catch {
    return null;
  }
};

/**
 * @param {{transport?: "cookie" | "body", accessSeconds?: number, accessCookie?: boolean,
 *          origin?: string, delayMs?: number}} options
 */
export function fakeServer({
  transport = "cookie",
  accessSeconds = 60,
  accessCookie = false,
  origin,
  delayMs = 5,
} = {}) {
  counter += 1;
  const base = origin || `http://tab-test-${counter}.example`;
  const sessions = new Map();
  const cookies = new Map(); // the browser's cookie jar: name -> value
  const server = {
    base,
    auth: base + "/auth/",
    sessions,
    cookies,
    log: [],
    /** path -> function(request) returning a Response, to script special answers */
    override: new Map(),
    refreshes() {
      return this.log.filter((entry) => entry.path === "/auth/refresh/");
    },
    calls() {
      return this.log.filter((entry) => entry.path === "/api/me/");
    },
  };

  // document.cookie shows what is not HttpOnly: the CSRF cookie only.
  globalThis.document = {
    get cookie() {
      return cookies.has("csrftoken") ? `csrftoken=${cookies.get("csrftoken")}` : "";
    },
  };

  const json = (status, body, headers = {}) =>
    new Response(body === undefined ? null : JSON.stringify(body), {
      status,
      headers: { "Content-Type": "application/json", ...headers },
    });
  const unauthorized = (code) => json(401, { detail: code, code, error: "invalid_grant" });

  function issue(sid) {
    const session = sessions.get(sid);
    session.jti = crypto.randomUUID();
    session.rotations += 1;
    const access = jwt({ sid, exp: Date.now() + accessSeconds * 1000, n: session.rotations });
    const refresh = jwt({ sid, jti: session.jti });
    const body = {
      access_token: access,
      token_type: session.dpop ? "DPoP" : "Bearer",
      expires_in: accessSeconds,
      refresh_token: refresh,
      refresh_expires_in: 604800,
    };
    const headers = {};
    if (transport === "cookie") {
      cookies.set("refresh_token", refresh);
      delete body.refresh_token;
    }
    if (accessCookie) {
      cookies.set("access_token", access);
      delete body.access_token;
    }
    cookies.set("csrftoken", crypto.randomUUID().replace(/-/g, ""));
    return json(200, body, headers);
  }

  function csrfOk(request) {
    return cookies.get("csrftoken") && request.headers.get("X-CSRFToken") === cookies.get("csrftoken");
  }

  function accessFrom(request) {
    const header = request.headers.get("Authorization");
    if (header) {
      const [scheme, token] = header.split(" ");
      return { scheme, token, cookie: false };
    }
    if (accessCookie && cookies.has("access_token")) {
      return { scheme: "Cookie", token: cookies.get("access_token"), cookie: true };
    }
    return null;
  }

  /** The session of a valid access token, or a 401 Response. */
  function authenticate(request) {
    const credential = accessFrom(request);
    if (!credential) return unauthorized("not_authenticated");
    const claims = claimsOf(credential.token);
    const session = claims && sessions.get(claims.sid);
    if (!session) return unauthorized("token_invalid");
    if (claims.exp <= Date.now()) return unauthorized("token_expired");
    if (session.revoked) return unauthorized("token_revoked");
    if (credential.cookie && !["GET", "HEAD"].includes(request.method) && !csrfOk(request)) {
      return json(403, { detail: "CSRF", code: "csrf_failed" });
    }
    if (credential.scheme === "DPoP" && !request.headers.get("DPoP")) {
      return new Response(null, {
        status: 401,
        headers: { "WWW-Authenticate": 'DPoP error="invalid_dpop_proof"' },
      });
    }
    return { sid: claims.sid, session };
  }

  async function route(request) {
    const url = new URL(request.url);
    const path = url.pathname;
    const text = request.method === "GET" ? "" : await request.text();
    const body = text ? JSON.parse(text) : {};
    if (server.override.has(path)) {
      const answer = await server.override.get(path)(request, body);
      if (answer) return answer;
    }
    if (path === "/auth/csrf/") {
      cookies.set("csrftoken", crypto.randomUUID().replace(/-/g, ""));
      return new Response(null, { status: 204 });
    }
    if (path === "/auth/login/") {
      if (transport === "cookie" && !csrfOk(request)) {
        return json(403, { detail: "CSRF", code: "csrf_failed" });
      }
      if (body.password !== "secret") {
        return json(401, { detail: "no", code: "invalid_credentials" });
      }
      const sid = crypto.randomUUID();
      sessions.set(sid, {
        sid,
        jti: null,
        rotations: 0,
        revoked: null,
        dpop: Boolean(request.headers.get("DPoP")),
        device: body.device_name || "Node",
        loginProof: request.headers.get("DPoP"),
      });
      return issue(sid);
    }
    if (path === "/auth/refresh/" || path === "/auth/logout/") {
      if (transport === "cookie" && !csrfOk(request)) {
        return json(403, { detail: "CSRF", code: "csrf_failed" });
      }
      const token = transport === "cookie" ? cookies.get("refresh_token") : body.refresh_token;
      if (!token) return json(400, { refresh_token: ["This field is required."] });
      const claims = claimsOf(token);
      const session = claims && sessions.get(claims.sid);
      if (path === "/auth/logout/") {
        if (session && !session.revoked) session.revoked = "logout";
        cookies.delete("refresh_token");
        cookies.delete("access_token");
        return new Response(null, { status: 204 });
      }
      if (!session) return unauthorized("token_invalid");
      if (session.revoked) return unauthorized("token_revoked");
      if (session.jti !== claims.jti) {
        session.revoked = "reuse";
        return unauthorized("token_reused");
      }
      if (session.dpop && !request.headers.get("DPoP")) {
        return json(400, { detail: "proof", code: "invalid_dpop_proof" });
      }
      return issue(claims.sid);
    }
    if (path === "/auth/logout-all/") {
      const auth = authenticate(request);
      if (auth instanceof Response) return auth;
      for (const session of sessions.values()) {
        if (!(body.keep_current && session.sid === auth.sid)) session.revoked ||= "logout_all";
      }
      return new Response(null, { status: 204 });
    }
    if (path === "/auth/sessions/") {
      const auth = authenticate(request);
      if (auth instanceof Response) return auth;
      return json(
        200,
        [...sessions.values()]
          .filter((s) => !s.revoked)
          .map((s) => ({ id: s.sid, device: s.device, dpop: s.dpop, current: s.sid === auth.sid })),
      );
    }
    if (path.startsWith("/auth/sessions/")) {
      const auth = authenticate(request);
      if (auth instanceof Response) return auth;
      const session = sessions.get(path.split("/")[3]);
      if (!session || session.revoked) return json(404, { detail: "Not found.", code: "not_found" });
      session.revoked = "user";
      return new Response(null, { status: 204 });
    }
    if (path === "/api/me/") {
      const auth = authenticate(request);
      if (auth instanceof Response) return auth;
      return json(200, { id: 1, username: "ann" });
    }
    return json(404, { detail: "Not found.", code: "not_found" });
  }

  server.fetch = async (input, init) => {
    const request = new Request(input, init);
    const entry = {
      method: request.method,
      path: new URL(request.url).pathname,
      headers: Object.fromEntries(request.headers),
      cookies: Object.fromEntries(cookies),
    };
    server.log.push(entry);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    const response = await route(request);
    entry.status = response.status;
    return response;
  };
  return server;
}

export { claimsOf };
