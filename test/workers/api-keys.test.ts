import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { asKey, type MadeKey, makeKey, setExpiry } from "./access-support";
import { api } from "./helpers";
import { expectError } from "./support";

describe("API keys", () => {
  it("answers the key once, stores only its hash, and lists it without a secret", async () => {
    const made = await makeKey({ name: "ci deploys", role: "admin", expiresIn: "30d" });
    expect(made.key).toMatch(/^sbk_[0-9a-z]{26}_[A-Za-z0-9_-]{43}$/);
    expect(made.id).toMatch(/^key_[0-9a-z]{26}$/);
    expect(made.key.slice(4, 30)).toBe(made.id.slice(4));
    expect(made).toMatchObject({ name: "ci deploys", role: "admin", workflows: null, lastUsedAt: null });
    expect(made.expiresAt).toBe(made.createdAt + 30 * 86_400_000);

    const row = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?")
      .bind(made.id)
      .first<Record<string, unknown>>();
    const secret = made.key.slice(31);
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(row?.secret_hash).toMatch(/^[0-9a-f]{64}$/);

    const list = (await (await api("/api/keys")).json()) as { keys: Record<string, unknown>[] };
    const listed = list.keys.find((key) => key.id === made.id);
    expect(listed).toMatchObject({
      name: "ci deploys",
      role: "admin",
      createdAt: made.createdAt,
      expiresAt: made.expiresAt,
    });
    expect(JSON.stringify(list)).not.toContain(secret);
    expect(Object.keys(listed ?? {})).not.toContain("key");
    expect(Object.keys(listed ?? {})).not.toContain("secretHash");
  });

  it("lets a key in and notes its last use at most once a minute", async () => {
    const made = await makeKey({ name: "reader", role: "viewer" });
    const response = await asKey(made.key, "/api/workflows");
    expect(response.status).toBe(200);
    const first = (await (await api(`/api/keys/${made.id}`)).json()) as MadeKey;
    expect(first.lastUsedAt).toBeGreaterThanOrEqual(made.createdAt);
    // A use inside the minute writes nothing: the stored time stays where it was put.
    await env.DB.prepare("UPDATE api_keys SET last_used_at = ? WHERE id = ?")
      .bind(Date.now() - 1_000, made.id)
      .run();
    const pinned = (await (await api(`/api/keys/${made.id}`)).json()) as MadeKey;
    expect((await asKey(made.key, "/api/workflows")).status).toBe(200);
    const after = (await (await api(`/api/keys/${made.id}`)).json()) as MadeKey;
    expect(after.lastUsedAt).toBe(pinned.lastUsedAt);
    // An hour-old use is written again.
    await env.DB.prepare("UPDATE api_keys SET last_used_at = ? WHERE id = ?")
      .bind(Date.now() - 3_600_000, made.id)
      .run();
    expect((await asKey(made.key, "/api/workflows")).status).toBe(200);
    const later = (await (await api(`/api/keys/${made.id}`)).json()) as MadeKey;
    expect(later.lastUsedAt).toBeGreaterThan(Date.now() - 60_000);
  });

  it("refuses a revoked key from the next request on, with auth.key_revoked", async () => {
    const made = await makeKey({ name: "on-call", role: "operator" });
    expect((await asKey(made.key, "/api/runs")).status).toBe(200);
    const revoked = await api(`/api/keys/${made.id}`, { method: "DELETE" });
    expect(revoked.status).toBe(200);
    const body = (await revoked.json()) as MadeKey & { revoked: boolean };
    expect(body.revoked).toBe(true);
    expect(body.revokedAt).toBeGreaterThan(0);
    await expectError(await asKey(made.key, "/api/runs"), 401, "auth.key_revoked");
    // Revoking again keeps the first time; an unknown id is 404.
    const again = (await (await api(`/api/keys/${made.id}`, { method: "DELETE" })).json()) as MadeKey;
    expect(again.revokedAt).toBe(body.revokedAt);
    await expectError(
      await api("/api/keys/key_00000000000000000000000000", { method: "DELETE" }),
      404,
      "key.not_found",
    );
  });

  it("refuses an expired key with auth.key_expired, and a live one until then", async () => {
    const made = await makeKey({ name: "short", role: "viewer", expiresIn: "1h" });
    expect((await asKey(made.key, "/api/runs")).status).toBe(200);
    await setExpiry(made.id, Date.now() - 1);
    await expectError(await asKey(made.key, "/api/runs"), 401, "auth.key_expired");
  });

  it("gives malformed, unknown and wrong-secret keys each a 401 with its own code", async () => {
    const made = await makeKey({ name: "real", role: "viewer" });
    await expectError(await asKey("sbk_short", "/api/runs"), 401, "auth.key_malformed");
    await expectError(await asKey(`sbk_${"0".repeat(26)}_${"A".repeat(43)}`, "/api/runs"), 401, "auth.key_unknown");
    const wrongSecret = `${made.key.slice(0, 31)}${"B".repeat(43)}`;
    await expectError(await asKey(wrongSecret, "/api/runs"), 401, "auth.key_unknown");
    await expectError(await asKey("not-the-token", "/api/runs"), 401, "auth.invalid_token");
  });

  it("refuses bad create bodies with a code and the field", async () => {
    const cases: [unknown, number, string, string?][] = [
      [[], 400, "request.invalid"],
      [{ role: "viewer" }, 422, "key.invalid", "name"],
      [{ name: " ", role: "viewer" }, 422, "key.invalid", "name"],
      [{ name: "x", role: "owner" }, 422, "key.invalid", "role"],
      [{ name: "x", role: "trigger" }, 422, "key.invalid", "workflows"],
      [{ name: "x", role: "viewer", workflows: [] }, 422, "key.invalid", "workflows"],
      [{ name: "x", role: "viewer", workflows: ["ok", 3] }, 422, "key.invalid", "workflows"],
      [{ name: "x", role: "admin", workflows: ["a"] }, 422, "key.invalid", "workflows"],
      [{ name: "x", role: "viewer", expiresIn: "soon" }, 422, "key.invalid", "expiresIn"],
      [{ name: "x", role: "viewer", expiresIn: 3600 }, 422, "key.invalid", "expiresIn"],
      [{ name: "x", role: "viewer", expiresIn: "0s" }, 422, "key.invalid", "expiresIn"],
      [{ name: "x", role: "viewer", expiresIn: "3651d" }, 422, "key.invalid", "expiresIn"],
    ];
    for (const [json, status, code, field] of cases) {
      const body = await expectError(await api("/api/keys", { method: "POST", json }), status, code);
      if (field) expect(body.error.details).toEqual({ field });
    }
    const invalidJson = await api("/api/keys", {
      method: "POST",
      body: "{",
      headers: { "content-type": "application/json" },
    });
    await expectError(invalidJson, 400, "request.invalid_json");
  });

  it("lets only admins manage keys", async () => {
    const operator = await makeKey({ name: "ops", role: "operator" });
    const body = await expectError(await asKey(operator.key, "/api/keys"), 403, "auth.forbidden");
    expect(body.error.details).toMatchObject({ permission: "keys.manage", role: "operator" });
    const admin = await makeKey({ name: "second admin", role: "admin" });
    const made = await asKey(admin.key, "/api/keys", { method: "POST", json: { name: "by key", role: "viewer" } });
    expect(made.status).toBe(201);
  });
});
