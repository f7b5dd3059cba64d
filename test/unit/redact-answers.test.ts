import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { redactAnswers } from "../../src/routes/redact-answers";

const sealed = { "$signalbox.sealed": { kid: "k1", iv: "AAAAAAAAAAAAAAAA", ct: "c2VjcmV0" } };

function app() {
  const hono = new Hono();
  hono.use("/api/*", redactAnswers);
  hono.get("/api/runs/x", (c) => c.json({ context: { ssn: sealed, name: "Ada" } }, 200, { "x-kept": "yes" }));
  hono.get("/api/files/doc.json", (c) => c.json({ ssn: sealed }));
  hono.get("/api/plain", (c) => c.json({ name: "Ada" }));
  hono.get("/api/text", (c) => c.text(JSON.stringify(sealed)));
  return hono;
}

describe("the last guard of /api answers", () => {
  it("redacts a sealed value a route let through, keeping status and headers", async () => {
    const response = await app().request("/api/runs/x");
    expect(response.status).toBe(200);
    expect(response.headers.get("x-kept")).toBe("yes");
    expect(await response.json()).toEqual({ context: { ssn: { "$signalbox.redacted": true }, name: "Ada" } });
  });

  it("leaves answers without sealed values, non-JSON answers and uploaded files as they are", async () => {
    expect(await (await app().request("/api/plain")).json()).toEqual({ name: "Ada" });
    expect(await (await app().request("/api/text")).text()).toBe(JSON.stringify(sealed));
    expect(await (await app().request("/api/files/doc.json")).json()).toEqual({ ssn: sealed });
  });
});
