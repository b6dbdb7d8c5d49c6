// Compiled by `tsc -p tests/js/tsconfig.json` (tests/test_js.py): refreshauth.d.ts is
// valid, describes what the docs show, and refuses what it should.

import axios from "axios";

import {
  createClient,
  dpopProof,
  RefreshAuthError,
  type LogoutEvent,
  type RefreshAuthClient,
  type SessionInfo,
  type TokenResponse,
} from "../../refreshauth/static/refreshauth/refreshauth.js";

export async function usage(): Promise<void> {
  const auth: RefreshAuthClient = createClient({
    baseUrl: "/web/auth/",
    transport: "cookie",
    dpop: false,
  });
  const tokens: TokenResponse = await auth.login({ username: "ann", password: "..." });
  const expiresIn: number = tokens.expires_in;
  const response: Response = await auth.fetch("/api/me/", { method: "GET" });
  await auth.fetch(new Request("/api/me/"));
  await auth.fetch(new URL("https://example.com/api/me/"));
  await auth.logout();
  await auth.logoutAll({ keepCurrent: true });
  await auth.logoutAll();
  const list: SessionInfo[] = await auth.sessions();
  const device: string | undefined = list[0]?.device;
  await auth.revokeSession(list[0]!.id);
  const stop: () => void = auth.on("refresh", (event) => {
    const remote: boolean = event.remote;
    const by: string = event.by;
    void remote, by;
  });
  stop();
  auth.on("logout", (event: LogoutEvent) => void event.reason);
  auth.on("reuse", (event) => void event.code);
  auth.on("error", (event) => void event.error);
  auth.on("login", (event) => void event.expiresAt);
  auth.on("trace", (event) => void event.step);
  const eject: () => void = auth.axios(axios.create({ baseURL: "/api/" }));
  eject();
  const ok: boolean = await auth.isAuthenticated();
  const token: string | null = await auth.getAccessToken();
  const expiresAt: number | null = auth.status().expiresAt;
  const thumbprint: string | null = await auth.dpopThumbprint();
  void expiresIn, response, device, ok, token, expiresAt, thumbprint;

  createClient({
    baseUrl: "/api/auth/",
    transport: "body",
    storage: sessionStorage,
    accessToken: "cookie",
    origins: ["https://api.example.com"],
    refreshAhead: false,
    locks: null,
  });
  createClient({ baseUrl: "/web/auth/", locks: navigator.locks, fetch: window.fetch });

  const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
    "sign",
  ]);
  const proof: string = await dpopProof(keys, { method: "GET", url: "https://a.example/" });
  void proof;

  try {
    await auth.sessions();
  } catch (error) {
    if (error instanceof RefreshAuthError) {
      const status: number = error.status;
      const code: string = error.code;
      const retryAfter: number | null = error.retryAfter;
      void status, code, retryAfter;
    }
  }

  // @ts-expect-error: transport is "cookie" or "body"
  createClient({ baseUrl: "/x/", transport: "header" });
  // @ts-expect-error: baseUrl is required
  createClient({ transport: "cookie" });
  // @ts-expect-error: no such event
  auth.on("rotated", () => {});
  // @ts-expect-error: login takes an object of strings
  await auth.login("ann", "password");
}
