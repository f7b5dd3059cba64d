import { rm } from "node:fs/promises";
import type { Command } from "commander";
import { createApi } from "../api";
import { usageError } from "../cli-error";
import { ApiError, Client } from "../client";
import { configPath, resolveConnection, writeLogin } from "../config";
import { contextOf } from "../context";
import { printJson } from "../format";

/** The key from a pipe (`echo $KEY | signalbox login`), or typed at a prompt that does not echo it. */
async function readKey(): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) {
    let text = "";
    for await (const chunk of input) text += String(chunk);
    return text.trim();
  }
  process.stderr.write("API key: ");
  input.setRawMode(true);
  input.setEncoding("utf8");
  try {
    return await new Promise<string>((resolve, reject) => {
      let typed = "";
      const onData = (chunk: string) => {
        for (const char of chunk) {
          if (char === "\r" || char === "\n") {
            input.off("data", onData);
            process.stderr.write("\n");
            resolve(typed.trim());
            return;
          }
          if (char === "\u0003") {
            input.off("data", onData);
            reject(usageError("login cancelled"));
            return;
          }
          typed = char === "\u007f" ? typed.slice(0, -1) : typed + char;
        }
      };
      input.on("data", onData);
    });
  } finally {
    input.setRawMode(false);
    input.pause();
  }
}

export function registerLogin(program: Command): void {
  program
    .command("login")
    .description(
      "store the server's URL and API key in $XDG_CONFIG_HOME/signalbox/config.json (0600), after checking them",
    )
    .addHelpText(
      "after",
      '\nThe key is read from standard input, or typed at a prompt that does not show it.\n\nExamples:\n  signalbox login --url https://signalbox.example.workers.dev\n  echo "$API_TOKEN" | signalbox login --url http://127.0.0.1:8787',
    )
    .action(async (_options, command: Command) => {
      const context = contextOf(command);
      const { url } = await context.connection();
      const token = await readKey();
      if (!token) throw usageError("no API key given: pipe it in or type it at the prompt");
      // A key is stored only once the server has taken it. A key whose role may not read runs (a
      // trigger key) was still taken: its 403 comes after the key was checked.
      try {
        await createApi(new Client({ url, token, tokenSource: "login" })).runs({ limit: 1 });
      } catch (thrown) {
        if (!(thrown instanceof ApiError && thrown.code === "auth.forbidden")) throw thrown;
      }
      const path = await writeLogin({ url, token });
      if (context.json) printJson({ url, config: path });
      else process.stdout.write(`logged in to ${url}; the key is in ${path} (mode 0600)\n`);
    });

  program
    .command("logout")
    .description("forget the stored URL and API key")
    .action(async (_options, command: Command) => {
      const path = configPath();
      await rm(path, { force: true });
      const { url } = await resolveConnection({});
      if (contextOf(command).json) printJson({ removed: path });
      else process.stdout.write(`removed ${path}; the server is now ${url}\n`);
    });
}
