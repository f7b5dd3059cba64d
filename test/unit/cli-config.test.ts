import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CliError } from "../../cli/cli-error";
import { configPath, defaultUrl, readLogin, resolveConnection, writeLogin } from "../../cli/config";

let dir: string;
let env: Record<string, string>;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "signalbox-config-"));
  env = { XDG_CONFIG_HOME: join(dir, "config") };
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the command line's server and key", () => {
  it("defaults to the local dev server and its .dev.vars key", async () => {
    await writeFile(join(dir, ".dev.vars"), "API_TOKEN=from-dev-vars\n");
    expect(await resolveConnection({ cwd: dir }, env)).toEqual({
      url: defaultUrl,
      token: "from-dev-vars",
      tokenSource: ".dev.vars",
    });
  });

  it("stores a login readable by its owner only, under XDG_CONFIG_HOME", async () => {
    const path = await writeLogin({ url: "https://signalbox.example", token: "secret" }, env);
    expect(path).toBe(join(dir, "config", "signalbox", "config.json"));
    expect(path).toBe(configPath(env));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "config", "signalbox"))).mode & 0o777).toBe(0o700);
    expect(await readLogin(env)).toEqual({ url: "https://signalbox.example", token: "secret" });
  });

  it("uses the stored login's key only for the URL it was stored with", async () => {
    await writeLogin({ url: "https://signalbox.example", token: "stored" }, env);
    expect(await resolveConnection({ cwd: dir }, env)).toMatchObject({
      url: "https://signalbox.example",
      token: "stored",
    });
    const elsewhere = await resolveConnection({ url: "https://other.example", cwd: dir }, env);
    expect(elsewhere).toEqual({ url: "https://other.example", token: undefined, tokenSource: undefined });
  });

  it("lets --url beat SIGNALBOX_URL and SIGNALBOX_TOKEN beat the stored key", async () => {
    await writeLogin({ url: "https://signalbox.example", token: "stored" }, env);
    const withEnv = { ...env, SIGNALBOX_URL: "https://env.example/", SIGNALBOX_TOKEN: "from-env" };
    expect(await resolveConnection({ cwd: dir }, withEnv)).toEqual({
      url: "https://env.example",
      token: "from-env",
      tokenSource: "SIGNALBOX_TOKEN",
    });
    expect((await resolveConnection({ url: "http://127.0.0.1:9999", cwd: dir }, withEnv)).url).toBe(
      "http://127.0.0.1:9999",
    );
  });

  it("refuses a URL that is not one, and a config file it did not write, as one-line errors", async () => {
    await expect(resolveConnection({ url: "localhost:8787", cwd: dir }, env)).rejects.toThrow(CliError);
    await expect(resolveConnection({ url: "not a url", cwd: dir }, env)).rejects.toThrow(/is not a URL/);
    await writeLogin({ url: "https://signalbox.example", token: "stored" }, env);
    await writeFile(configPath(env), "{ broken");
    await expect(readLogin(env)).rejects.toThrow(/run `signalbox login` again/);
    expect(await readFile(configPath(env), "utf8")).toBe("{ broken");
  });
});
