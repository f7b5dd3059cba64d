import { describe, expect, it } from "vitest";
import { accessSetup, roleFor } from "../../src/auth/access";
import type { Env } from "../../src/env";
import { deleteAfterOf, retentionVar } from "../../src/run/retention";

const env = (vars: Record<string, string>) => vars as unknown as Env;

describe("ACCESS_ROLES", () => {
  const setup = accessSetup(
    env({
      ACCESS_TEAM_DOMAIN: "myteam.cloudflareaccess.com",
      ACCESS_AUD: "aud",
      ACCESS_ROLES: JSON.stringify({
        viewer: ["*@example.com"],
        admin: ["Ann@Example.com"],
        operator: ["group:SRE"],
        trigger: ["*"],
      }),
    }),
  );

  it("reads the team domain as an https origin and gives the strongest matching role", () => {
    if (!("config" in setup)) throw new Error("not configured");
    expect(setup.config.issuer).toBe("https://myteam.cloudflareaccess.com");
    expect(roleFor(setup.config, "ann@example.com", [])).toBe("admin");
    expect(roleFor(setup.config, "bob@example.com", ["sre"])).toBe("operator");
    expect(roleFor(setup.config, "carol@example.com", [])).toBe("viewer");
    expect(roleFor(setup.config, "dan@example.com.evil.test", [])).toBe("trigger");
  });

  it("is off without both vars, and refuses half a setup or roles it does not know", () => {
    expect(accessSetup(env({}))).toEqual({ off: true });
    expect(accessSetup(env({ ACCESS_AUD: "aud" }))).toMatchObject({ error: { code: "auth.access_not_configured" } });
    const unknownRole = accessSetup(
      env({ ACCESS_TEAM_DOMAIN: "t.cloudflareaccess.com", ACCESS_AUD: "a", ACCESS_ROLES: '{"root": ["*"]}' }),
    );
    expect(unknownRole).toMatchObject({ error: { code: "auth.access_not_configured" } });
    const notList = accessSetup(
      env({
        ACCESS_TEAM_DOMAIN: "t.cloudflareaccess.com",
        ACCESS_AUD: "a",
        ACCESS_ROLES: '{"admin": "ann@example.com"}',
      }),
    );
    expect(notList).toMatchObject({ error: { code: "auth.access_not_configured" } });
  });
});

describe("retention times", () => {
  const vars = { RETENTION_SUCCESS: "30d", RETENTION_FAILED: "0", RETENTION_CANCELLED: "soon" };
  const day = 86_400_000;

  it("takes the definition's duration, else the var; 0, unset or malformed keeps forever", () => {
    const ended = (status: string) => ({ status: status as "success", endedAt: 1_000 });
    expect(deleteAfterOf(ended("success"), { retention: { success: "1h" } }, vars)).toBe(1_000 + 3_600_000);
    expect(deleteAfterOf(ended("success"), {}, vars)).toBe(1_000 + 30 * day);
    expect(deleteAfterOf(ended("failed"), {}, vars)).toBeNull();
    expect(deleteAfterOf(ended("cancelled"), {}, vars)).toBeNull();
    expect(deleteAfterOf(ended("failed"), { retention: { failed: "2d" } }, vars)).toBe(1_000 + 2 * day);
    expect(retentionVar(undefined)).toBeUndefined();
  });

  it("gives none while a run is going, and none to a child run", () => {
    expect(deleteAfterOf({ status: "running" }, {}, vars)).toBeNull();
    const child = { status: "success" as const, endedAt: 5, parent: { runId: "run_x" } as never };
    expect(deleteAfterOf(child, {}, vars)).toBeNull();
  });
});
