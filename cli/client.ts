import createClient, { type Client as OpenApiClient } from "openapi-fetch";
import type { paths } from "./api-types";
import { CliError } from "./cli-error";
import type { Connection } from "./config";

/** A refusal from the API: its HTTP status and stable error code, with the one-line message. */
export class ApiError extends CliError {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(message: string, status: number, code: string, details: unknown) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const requestTimeoutMs = 30_000;

/** Hints that turn a refusal into something to do next. */
const nextStep: Record<string, string> = {
  "run.not_found": "list runs with `signalbox runs ls`",
  "workflow.not_found": "register it with `signalbox push`",
  "workflow.version_not_found": "see its versions with `signalbox push --dry-run` or the API",
  "run.node_not_found": "see the run's nodes with `signalbox runs show <run>`",
  "auth.not_configured": "set the server's API_TOKEN (`wrangler secret put API_TOKEN`)",
  "auth.forbidden": "this key's role does not allow it: ask an admin for a key that does (docs/security.md)",
};

/**
 * The HTTP side of the command line: a typed client (openapi-fetch over the types generated
 * from the server's OpenAPI document, cli/api-types.ts) whose every request goes through
 * `send`, which adds the bearer key and turns every way a call can go wrong into one line that
 * says what to do. The calls themselves are in api.ts.
 */
export class Client {
  readonly http: OpenApiClient<paths, "application/json">;

  constructor(readonly connection: Connection) {
    this.http = createClient<paths>({ baseUrl: connection.url, fetch: (request) => this.send(request) });
  }

  /** Answers only with a success and Signalbox's JSON (or nothing); throws a one-line CliError otherwise. */
  private async send(request: Request): Promise<Response> {
    request.headers.set("accept", "application/json");
    if (this.connection.token) request.headers.set("authorization", `Bearer ${this.connection.token}`);
    const url = new URL(request.url);
    let response: Response;
    try {
      response = await fetch(request, { signal: AbortSignal.timeout(requestTimeoutMs) });
    } catch (thrown) {
      throw this.unreachable(thrown);
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = text === "" ? null : JSON.parse(text);
    } catch {
      throw new CliError(
        `${url.origin} answered ${response.status} with something other than Signalbox's JSON: check the URL (SIGNALBOX_URL or --url)`,
      );
    }
    if (!response.ok) throw this.refusal(request.method, url, response.status, body);
    return new Response(text === "" ? null : text, { status: response.status, headers: response.headers });
  }

  private unreachable(thrown: unknown): CliError {
    const url = this.connection.url;
    if (thrown instanceof Error && thrown.name === "TimeoutError") {
      return new CliError(`${url} did not answer within ${requestTimeoutMs / 1000}s: check the server and try again`);
    }
    const cause = thrown instanceof Error && thrown.cause instanceof Error ? thrown.cause : undefined;
    const code = (cause as { code?: string } | undefined)?.code;
    const why = code === "ECONNREFUSED" ? "connection refused" : (code ?? cause?.message ?? String(thrown));
    return new CliError(
      `cannot reach Signalbox at ${url} (${why}): start it with \`npm run dev\`, or point SIGNALBOX_URL or --url at it`,
    );
  }

  private refusal(method: string, url: URL, status: number, body: unknown): CliError {
    const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
    const code = typeof error?.code === "string" ? error.code : `http.${status}`;
    const message = typeof error?.message === "string" ? error.message : `${method} ${url.pathname} answered ${status}`;
    if (status === 401 && code.startsWith("auth.") && code !== "auth.not_configured") {
      return new ApiError(`${message} (${code}): ${this.keyHint()}`, status, code, error?.details);
    }
    const hint = nextStep[code];
    return new ApiError(`${message} (${code})${hint ? `: ${hint}` : ""}`, status, code, error?.details);
  }

  private keyHint(): string {
    switch (this.connection.tokenSource) {
      case "SIGNALBOX_TOKEN":
        return `SIGNALBOX_TOKEN is not ${this.connection.url}'s key: set it to the server's API_TOKEN or a live API key`;
      case "login":
        return `the stored key is not ${this.connection.url}'s: run \`signalbox login\` again`;
      case ".dev.vars":
        return "the API_TOKEN in ./.dev.vars is not this server's: set SIGNALBOX_TOKEN or run `signalbox login`";
      default:
        return `no key for ${this.connection.url}: set SIGNALBOX_TOKEN or run \`signalbox login\``;
    }
  }
}
