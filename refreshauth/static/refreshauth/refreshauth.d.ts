// Type declarations of refreshauth's browser client (refreshauth.js beside this file).

/** Where the refresh token travels; the same as the server mount's transport. */
export type Transport = "cookie" | "body";

/** A Web Storage-like object for the refresh token of the body transport. */
export interface TokenStorage {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
}

/** The part of the Web Locks API the client uses (navigator.locks). */
export interface LockManagerLike {
  request<T>(
    name: string,
    options: { signal?: AbortSignal },
    callback: (lock: unknown) => T | Promise<T>,
  ): Promise<T>;
}

export interface ClientOptions {
  /** The URL under which the server mounts refreshauth.urls, e.g. "/web/auth/". */
  baseUrl: string;
  /** "cookie" (the default): the refresh token is an HttpOnly cookie that script never
   * sees. "body": the client keeps it in memory, or in `storage` when given. */
  transport?: Transport;
  /** "memory" (the default): the access token stays in this page's memory and goes out
   * in an Authorization header. "cookie": the server keeps it in an HttpOnly cookie
   * (ACCESS_TOKEN_TRANSPORT = "cookie"); also chosen when a token response carries no
   * access token. */
  accessToken?: "memory" | "cookie";
  /** Bind the session to a non-extractable P-256 key kept in IndexedDB (RFC 9449). */
  dpop?: boolean;
  /** Body transport: where the refresh token survives a reload. Without it, memory only. */
  storage?: TokenStorage | null;
  /** Other origins that get the access token from fetch() and axios(); the baseUrl's
   * origin always does, and no other origin does unless listed here. */
  origins?: string[];
  /** The credentials mode of calls to refreshauth's endpoints ("same-origin"). */
  credentials?: RequestCredentials;
  /** Django's CSRF_COOKIE_NAME ("csrftoken"). */
  csrfCookieName?: string;
  /** The header Django reads the CSRF token from ("X-CSRFToken"). */
  csrfHeaderName?: string;
  /** Seconds before expiry at which a call refreshes first: by default a quarter of the
   * access token's lifetime, between 1 and 30 seconds. false: no expiry tracking, a
   * token is used until the server answers 401. */
  refreshAhead?: number | false;
  /** Retries of a refresh answered 429 or 503 (3). */
  retries?: number;
  /** The longest Retry-After, in seconds, that a refresh waits for (60). */
  maxRetryWait?: number;
  /** Milliseconds to wait for another tab's lock before giving up (60000). */
  lockTimeout?: number;
  /** A name for this tab in events (random by default). */
  tab?: string;
  /** The fetch to use (globalThis.fetch). */
  fetch?: typeof fetch;
  /** The lock manager (navigator.locks); null forces the localStorage fallback. */
  locks?: LockManagerLike | null;
}

/** The token response of login/, without the refresh token. */
export interface TokenResponse {
  access_token?: string;
  token_type: "Bearer" | "DPoP";
  expires_in: number;
  refresh_expires_in?: number;
  [field: string]: unknown;
}

/** An item of sessions/. */
export interface SessionInfo {
  id: string;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  ip_address: string | null;
  user_agent: string;
  /** A label for people: the login's device_name, or the browser and system. */
  device?: string;
  /** True for a DPoP-bound session. */
  dpop?: boolean;
  current: boolean;
}

export interface Status {
  authenticated: boolean;
  /** When this tab's access token expires (ms since the epoch, local clock). */
  expiresAt: number | null;
  tokenType: "Bearer" | "DPoP" | null;
  accessCookie: boolean;
  /** The session id (the tokens' sid), when the access token is in memory. */
  sessionId: string | null;
  tab: string;
}

interface BaseEvent {
  /** The tab whose client emits the event. */
  tab: string;
  /** True when another tab did what the event reports. */
  remote: boolean;
  /** The tab that did it. */
  by: string;
}

export interface LoginEvent extends BaseEvent {
  type: "login";
  expiresAt: number;
}

export interface RefreshEvent extends BaseEvent {
  type: "refresh";
  expiresAt: number;
  /** Why this tab refreshed ("ahead", "missing", "manual", or the 401's code). */
  reason?: string;
  /** True when a tab that held no token got one from another tab. */
  joined?: boolean;
}

export interface LogoutEvent extends BaseEvent {
  type: "logout";
  /** "logout", "logout_all", "revoked", "expired", "reuse", "ended" or "out_of_sync". */
  reason: string;
  /** The server's code when it ended the session (token_revoked, token_reused...). */
  code: string;
}

export interface ReuseEvent extends BaseEvent {
  type: "reuse";
  reason: "reuse";
  code: string;
}

export interface ErrorEvent {
  type: "error";
  tab: string;
  error: unknown;
}

/** Steps of the client's work, for logs and demos: "request", "response", "retry",
 * "lock-wait", "lock", "reuse-result", "auth-request", "auth-response", "retry-after". */
export interface TraceEvent {
  type: "trace";
  tab: string;
  step: string;
  [field: string]: unknown;
}

export interface EventMap {
  login: LoginEvent;
  refresh: RefreshEvent;
  logout: LogoutEvent;
  reuse: ReuseEvent;
  error: ErrorEvent;
  trace: TraceEvent;
}

/** The parts of an axios instance the adapter uses. */
export interface AxiosLike {
  interceptors: {
    request: {
      use(onFulfilled: (config: any) => any, onRejected?: (error: any) => any): number;
      eject(id: number): void;
    };
    response: {
      use(onFulfilled: ((response: any) => any) | undefined, onRejected?: (error: any) => any): number;
      eject(id: number): void;
    };
  };
  getUri(config?: any): string;
  request(config: any): Promise<any>;
}

export interface RefreshAuthClient {
  /** This tab's name in events. */
  readonly tab: string;
  /** The absolute baseUrl. */
  readonly baseUrl: string;
  /** Log in: `fields` are the user model's USERNAME_FIELD and `password`. */
  login(
    fields: Record<string, string>,
    options?: { deviceName?: string },
  ): Promise<TokenResponse>;
  /** window.fetch with the access token; on a 401 one refresh and one retry. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** End this session, in every tab. */
  logout(): Promise<void>;
  /** End all of the user's sessions, or all but this one with keepCurrent. */
  logoutAll(options?: { keepCurrent?: boolean }): Promise<void>;
  /** The user's live sessions. */
  sessions(): Promise<SessionInfo[]>;
  /** End one of the user's sessions. */
  revokeSession(id: string): Promise<void>;
  /** Refresh now (one tab at a time); resolves to whether a session remains. */
  refresh(): Promise<boolean>;
  /** Whether calls can be authenticated: a token held, handed over by another tab, or
   * refreshed when a session may exist. Makes no request when none can. */
  isAuthenticated(): Promise<boolean>;
  /** A valid access token (refreshing first when due), or null. */
  getAccessToken(): Promise<string | null>;
  /** The RFC 7638 thumbprint of the DPoP key, or null without DPoP. */
  dpopThumbprint(): Promise<string | null>;
  /** What this tab holds, without the tokens. */
  status(): Status;
  /** Listen to an event; returns a function that stops listening. */
  on<K extends keyof EventMap>(type: K, handler: (event: EventMap[K]) => void): () => void;
  /** Install request and response interceptors on an axios instance; returns a function
   * that removes them. */
  axios(instance: AxiosLike): () => void;
  /** Stop listening to the other tabs. */
  close(): void;
}

export function createClient(options: ClientOptions): RefreshAuthClient;

/** An error answer of refreshauth, or a failure of the client itself (status 0). */
export class RefreshAuthError extends Error {
  constructor(
    message: string,
    info?: {
      status?: number;
      code?: string;
      detail?: string;
      retryAfter?: number | null;
      body?: unknown;
      cause?: unknown;
    },
  );
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly retryAfter: number | null;
  readonly body: unknown;
}

/** A DPoP proof JWS (ES256) for one request. */
export function dpopProof(
  keyPair: CryptoKeyPair,
  request: { method: string; url: string; accessToken?: string | null; now?: number },
): Promise<string>;

/** The RFC 7638 thumbprint of a P-256 public JWK. */
export function jwkThumbprint(jwk: { kty: string; crv: string; x: string; y: string }): Promise<string>;

/** Seconds of a Retry-After header value, or null. */
export function parseRetryAfter(value: string | null | undefined, now?: number): number | null;

/** The absolute URL without query and fragment (a proof's htu). */
export function htu(url: string): string;
