import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { makeKey } from "./access-support";
import { page } from "./dashboard-support";
import { api, register, startManual } from "./helpers";
import { approvalWorkflow, linkFor, openLink } from "./human-helpers";
import { expectError } from "./support";

function from(address: string, token: string, path = "/api/workflows") {
  return api(path, { headers: { authorization: `Bearer ${token}`, "cf-connecting-ip": address } });
}

describe("rate limits on failed authentication", () => {
  it("answers 429 with Retry-After once an address has failed 10 times in a minute, right key or not", async () => {
    const good = await makeKey({ name: "rate", role: "viewer" });
    for (let attempt = 0; attempt < 10; attempt++) {
      await expectError(await from("192.0.2.10", "wrong-token"), 401, "auth.invalid_token");
    }
    const limited = await from("192.0.2.10", "wrong-token");
    await expectError(limited, 429, "auth.rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(limited.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    // While it waits, a right key from that address is refused too, so a guess cannot be seen to succeed.
    await expectError(await from("192.0.2.10", good.key), 429, "auth.rate_limited");
    // Other addresses are not touched, and successes never spend a budget.
    for (let attempt = 0; attempt < 15; attempt++) expect((await from("192.0.2.11", good.key)).status).toBe(200);
    await expectError(await from("192.0.2.11", "wrong-token"), 401, "auth.invalid_token");
    // Refusals over the limit are not written to the audit trail.
    const trail = (await (await api("/api/audit?action=GET%20/api/workflows&limit=200")).json()) as {
      entries: { ip: string; status: number }[];
    };
    const fromTen = trail.entries.filter((entry) => entry.ip === "192.0.2.10");
    expect(fromTen.map((entry) => entry.status)).toEqual(Array(10).fill(401));
  });

  it("limits dashboard sign-ins the same way", async () => {
    const attempt = () =>
      page("/ui/login", { form: { token: "not-it", next: "/ui/runs" }, headers: { "cf-connecting-ip": "192.0.2.20" } });
    for (let index = 0; index < 10; index++) expect((await attempt()).status).toBe(401);
    const limited = await attempt();
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).not.toBeNull();
    expect(await limited.text()).toContain("Too many failed sign-ins");
  });

  it("limits approval-link guesses per address, without blocking the real link elsewhere", async () => {
    await register(approvalWorkflow("rate-approval"));
    const runId = await startManual("rate-approval", { item: "desk", amount: 300 });
    const link = await linkFor(runId, "ann@example.com");
    const guess = (index: number) =>
      SELF.fetch(`http://signalbox.test/approvals/${"a".repeat(40)}${index}`, {
        headers: { "cf-connecting-ip": "192.0.2.30" },
      });
    for (let index = 0; index < 10; index++) expect((await guess(index)).status).toBe(404);
    const limited = await guess(99);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("60");
    expect((await openLink(link, { headers: { "cf-connecting-ip": "192.0.2.30" } })).status).toBe(429);
    expect((await openLink(link, { headers: { "cf-connecting-ip": "192.0.2.31" } })).status).toBe(200);
  });
});

describe("security headers", () => {
  it("sends them on approval pages, dashboard pages, messages and JSON", async () => {
    const approval = await SELF.fetch("http://signalbox.test/approvals/nothing-here");
    expect(approval.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(approval.headers.get("referrer-policy")).toBe("no-referrer");
    expect(approval.headers.get("x-content-type-options")).toBe("nosniff");
    const login = await page("/ui/login");
    expect(login.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(login.headers.get("referrer-policy")).toBe("same-origin");
    expect(login.headers.get("x-content-type-options")).toBe("nosniff");
    const json = await api("/api/nothing");
    expect(json.headers.get("x-content-type-options")).toBe("nosniff");
    expect(json.headers.get("content-security-policy")).toBeNull();
  });
});
