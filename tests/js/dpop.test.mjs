// DPoP proofs of refreshauth's browser client (RFC 9449), verified with node:crypto.

import assert from "node:assert/strict";
import { createHash, createPublicKey, verify } from "node:crypto";
import { test } from "node:test";

import {
  createClient,
  dpopProof,
  htu,
  jwkThumbprint,
} from "../../refreshauth/static/refreshauth/refreshauth.js";
import { fakeServer } from "./fake-server.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const decode = (part) => JSON.parse(Buffer.from(part, "base64url").toString());

/** The header and claims of a proof whose ES256 signature verifies with its own jwk. */
function verified(proof) {
  const [header, claims, signature] = proof.split(".");
  const parsed = { header: decode(header), claims: decode(claims) };
  const key = createPublicKey({ key: parsed.header.jwk, format: "jwk" });
  const ok = verify(
    "sha256",
    Buffer.from(`${header}.${claims}`),
    { key, dsaEncoding: "ieee-p1363" },
    Buffer.from(signature, "base64url"),
  );
  assert.ok(ok, "the proof's signature verifies with its jwk");
  assert.equal(Buffer.from(signature, "base64url").length, 64, "raw r||s, as JWS wants");
  return parsed;
}

const thumbprint = (jwk) =>
  createHash("sha256")
    .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }))
    .digest("base64url");

test("a proof carries exactly the claims of RFC 9449 and verifies", async () => {
  const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
    "sign",
    "verify",
  ]);
  assert.equal(keys.privateKey.extractable, false);
  const now = Date.now();
  const proof = await dpopProof(keys, {
    method: "get",
    url: "https://api.example/api/me/?page=2#top",
    accessToken: "the-access-token",
    now,
  });
  const { header, claims } = verified(proof);
  assert.deepEqual(Object.keys(header).sort(), ["alg", "jwk", "typ"]);
  assert.equal(header.typ, "dpop+jwt");
  assert.equal(header.alg, "ES256");
  assert.deepEqual(Object.keys(header.jwk).sort(), ["crv", "kty", "x", "y"], "no private member");
  assert.equal(header.jwk.kty, "EC");
  assert.equal(header.jwk.crv, "P-256");
  assert.deepEqual(Object.keys(claims).sort(), ["ath", "htm", "htu", "iat", "jti"]);
  assert.equal(claims.htm, "GET");
  assert.equal(claims.htu, "https://api.example/api/me/");
  assert.equal(claims.iat, Math.floor(now / 1000));
  assert.equal(claims.ath, createHash("sha256").update("the-access-token").digest("base64url"));
  assert.ok(Buffer.from(claims.jti, "base64url").length >= 16);
  const again = verified(await dpopProof(keys, { method: "POST", url: "https://a.example/x" }));
  assert.notEqual(again.claims.jti, claims.jti, "a new jti for every proof");
  assert.equal(again.claims.ath, undefined, "no ath without an access token");
  assert.equal(await jwkThumbprint(header.jwk), thumbprint(header.jwk));
});

test("htu is the absolute URL without query and fragment", () => {
  assert.equal(htu("https://a.example:8443/p/a?b=1#c"), "https://a.example:8443/p/a");
});

test("the client proves its key on login, refresh and every API call", async (t) => {
  const server = fakeServer({ accessSeconds: 1 });
  const options = { baseUrl: server.auth, fetch: server.fetch, dpop: true, refreshAhead: false };
  const one = createClient({ ...options, tab: "one" });
  const two = createClient({ ...options, tab: "two" });
  t.after(() => {
    one.close();
    two.close();
  });
  const tokens = await one.login({ username: "ann", password: "secret" });
  assert.equal(tokens.token_type, "DPoP");
  await sleep(30);
  assert.equal((await one.fetch(server.base + "/api/me/?q=1")).status, 200);
  await sleep(1100);
  assert.equal((await two.fetch(server.base + "/api/me/")).status, 200);

  const proofs = server.log.filter((e) => e.headers.dpop);
  const paths = proofs.map((e) => e.path);
  assert.deepEqual(paths, ["/auth/login/", "/api/me/", "/api/me/", "/auth/refresh/", "/api/me/"]);
  const jkts = new Set();
  for (const entry of proofs) {
    const { claims, header } = verified(entry.headers.dpop);
    jkts.add(thumbprint(header.jwk));
    assert.equal(claims.htm, entry.method);
    assert.equal(claims.htu, server.base + entry.path);
    assert.ok(Math.abs(claims.iat - Date.now() / 1000) < 5);
    if (entry.path.startsWith("/api/")) {
      const [scheme, token] = entry.headers.authorization.split(" ");
      assert.equal(scheme, "DPoP");
      assert.equal(claims.ath, createHash("sha256").update(token).digest("base64url"));
    } else {
      assert.equal(claims.ath, undefined);
      assert.equal(entry.headers.authorization, undefined);
    }
  }
  assert.equal(jkts.size, 1, "every tab signs with the one key of this origin");
  assert.equal(await one.dpopThumbprint(), [...jkts][0]);
  assert.equal(await two.dpopThumbprint(), [...jkts][0]);
});

test("a 401 for a bad proof is retried once with a new proof, without a refresh", async (t) => {
  const server = fakeServer();
  const auth = createClient({ baseUrl: server.auth, fetch: server.fetch, dpop: true });
  t.after(() => auth.close());
  await auth.login({ username: "ann", password: "secret" });
  let refused = 0;
  server.override.set("/api/me/", () =>
    refused++ === 0
      ? new Response(null, {
          status: 401,
          headers: { "WWW-Authenticate": 'DPoP algs="ES256", error="invalid_dpop_proof"' },
        })
      : null,
  );
  assert.equal((await auth.fetch(server.base + "/api/me/")).status, 200);
  assert.equal(server.refreshes().length, 0);
  const calls = server.calls();
  assert.equal(calls.length, 2);
  assert.notEqual(
    decode(calls[0].headers.dpop.split(".")[1]).jti,
    decode(calls[1].headers.dpop.split(".")[1]).jti,
  );
});
