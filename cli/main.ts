import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, Option } from "commander";
import { CliError, exitCodes } from "./cli-error";
import { registerApprovals } from "./commands/approvals";
import { registerEvents } from "./commands/events";
import { registerLogin } from "./commands/login";
import { registerPush } from "./commands/push";
import { registerRun } from "./commands/run";
import { registerRuns } from "./commands/runs";
import { registerTest } from "./commands/test";
import { registerValidate } from "./commands/validate";
import { defaultUrl } from "./config";

/** The project's own version: the command ships with the clone it runs from. */
function projectVersion(): string {
  const manifest = JSON.parse(
    readFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "package.json"), "utf8"),
  ) as {
    version?: string;
  };
  return manifest.version ?? "unknown";
}

export function buildProgram(): Command {
  const program = new Command("signalbox")
    .description("Signalbox from the terminal: push workflows, start and follow runs, act on them")
    .version(projectVersion(), "-V, --version")
    .addOption(new Option("--url <url>", `the server (default: SIGNALBOX_URL, the stored login, or ${defaultUrl})`))
    .option("--json", "print JSON instead of tables")
    .showHelpAfterError("(add --help for usage)")
    .exitOverride()
    .addHelpText(
      "after",
      `
The key: SIGNALBOX_TOKEN, else the one \`signalbox login\` stored, else (for a local server) the
API_TOKEN in ./.dev.vars that \`npm run dev\` wrote.
Exit codes: 0 ok, 1 failure (invalid file, refused request, failed run), 2 usage error.
Every command: signalbox <command> --help`,
    );
  registerValidate(program);
  registerPush(program);
  registerRun(program);
  registerRuns(program);
  registerTest(program);
  registerApprovals(program);
  registerEvents(program);
  registerLogin(program);
  return program;
}

/** Runs one command line; resolves to the exit code. Expected failures print one line on stderr. */
export async function main(argv: string[]): Promise<number> {
  process.exitCode = undefined;
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : exitCodes.ok;
  } catch (thrown) {
    // Commander has already printed the usage problem (or the help the user asked for).
    if (thrown instanceof CommanderError) return thrown.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
    if (thrown instanceof CliError) {
      process.stderr.write(`signalbox: ${thrown.message}\n`);
      return thrown.exitCode;
    }
    const message = thrown instanceof Error ? thrown.message : String(thrown);
    process.stderr.write(`signalbox: unexpected error: ${message} (run with SIGNALBOX_DEBUG=1 for details)\n`);
    if (process.env.SIGNALBOX_DEBUG) console.error(thrown);
    return exitCodes.failure;
  }
}
