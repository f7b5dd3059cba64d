import { createRemoteJWKSet, decodeProtectedHeader, errors, type JWTPayload, jwtVerify } from "jose";
import type { Env } from "../env";
import { type ErrorData, errorData } from "../errors";
import { isRole, type Principal, type Role } from "./roles";

/**
 * Cloudflare Access in front of Signalbox: Access signs in people with the team's identity
 * provider and sends each request with `Cf-Access-Jwt-Assertion`, a JWT signed by the team's
 * keys (`<team domain>/cdn-cgi/access/certs`). With ACCESS_TEAM_DOMAIN and ACCESS_AUD set, the
 * token is verified here (signature, audience, issuer, expiry) and its email or groups are given
 * a role by ACCESS_ROLES.
 */
export const accessHeader = "cf-access-jwt-assertion";

export interface AccessConfig {
  /** The team domain as an origin: `https://<team>.cloudflareaccess.com`. */
  issuer: string;
  audience: string;
  rules: { role: Role; patterns: string[] }[];
}

/** Strongest first: a person matched by several rules gets the strongest role. */
const rank: Role[] = ["admin", "operator", "viewer", "trigger"];

export type AccessSetup = { config: AccessConfig } | { off: true } | { error: ErrorData };

/**
 * ACCESS_ROLES is JSON: `{"<role>": ["<pattern>", ...]}`. A pattern is an email
 * (`ann@example.com`), every address of a domain (`*@example.com`), a group the identity
 * provider sends (`group:sre`), or `*` (anyone Access lets through).
 */
export function accessSetup(env: Env): AccessSetup {
  const domain = typeof env.ACCESS_TEAM_DOMAIN === "string" ? env.ACCESS_TEAM_DOMAIN.trim() : "";
  const audience = typeof env.ACCESS_AUD === "string" ? env.ACCESS_AUD.trim() : "";
  if (domain === "" && audience === "") return { off: true };
  const notConfigured = (why: string) => ({ error: errorData("auth.access_not_configured", why) });
  if (domain === "" || audience === "")
    return notConfigured("Cloudflare Access needs both ACCESS_TEAM_DOMAIN and ACCESS_AUD");
  let issuer: string;
  try {
    issuer = new URL(/^https?:\/\//.test(domain) ? domain : `https://${domain}`).origin;
  } catch {
    return notConfigured("ACCESS_TEAM_DOMAIN is not a domain such as myteam.cloudflareaccess.com");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(
      typeof env.ACCESS_ROLES === "string" && env.ACCESS_ROLES.trim() !== "" ? env.ACCESS_ROLES : "{}",
    );
  } catch {
    return notConfigured('ACCESS_ROLES is not JSON: {"admin": ["ann@example.com"], "viewer": ["*@example.com"]}');
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return notConfigured('ACCESS_ROLES must be a JSON object {"<role>": ["<email, *@domain, group:name or *>", ...]}');
  }
  const rules: AccessConfig["rules"] = [];
  for (const [role, patterns] of Object.entries(parsed)) {
    if (!isRole(role) || !Array.isArray(patterns) || !patterns.every((item) => typeof item === "string")) {
      return notConfigured(
        `ACCESS_ROLES: "${role}" must be a role (viewer, operator, trigger, admin) with a list of patterns`,
      );
    }
    rules.push({ role, patterns: patterns.map((item) => item.trim().toLowerCase()) });
  }
  rules.sort((a, b) => rank.indexOf(a.role) - rank.indexOf(b.role));
  return { config: { issuer, audience, rules } };
}

function matches(pattern: string, email: string, groups: readonly string[]): boolean {
  if (pattern === "*") return true;
  if (pattern.startsWith("group:")) return groups.includes(pattern.slice(6));
  if (pattern.startsWith("*@")) return email.endsWith(pattern.slice(1));
  return pattern === email;
}

/** The strongest role a rule gives this person; undefined when none does. */
export function roleFor(config: AccessConfig, email: string, groups: readonly string[]): Role | undefined {
  const lowered = groups.map((group) => group.toLowerCase());
  return config.rules.find((rule) => rule.patterns.some((pattern) => matches(pattern, email, lowered)))?.role;
}

/** One key set per certs URL per isolate: jose caches the keys and refetches on an unknown kid. */
const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

function keySet(issuer: string) {
  const url = `${issuer}/cdn-cgi/access/certs`;
  let set = keySets.get(url);
  if (!set) {
    set = createRemoteJWKSet(new URL(url), { timeoutDuration: 5_000, cooldownDuration: 30_000 });
    keySets.set(url, set);
  }
  return set;
}

function groupsOf(payload: JWTPayload): string[] {
  const groups = payload.groups ?? (payload.custom as { groups?: unknown } | undefined)?.groups;
  if (!Array.isArray(groups)) return [];
  return groups.flatMap((group) =>
    typeof group === "string" ? [group] : typeof group?.name === "string" ? [group.name as string] : [],
  );
}

export type AccessResult =
  | { principal: Principal; email: string; expiresAt: number; tokenId: string }
  | { error: ErrorData };

/** Verifies an Access token and gives its person a role; each refusal has its own code. */
export async function verifyAccessToken(config: AccessConfig, token: string, now: number): Promise<AccessResult> {
  let alg: string | undefined;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    return { error: errorData("auth.access_malformed", "the Cf-Access-Jwt-Assertion is not a JWT") };
  }
  if (alg === undefined || alg.toLowerCase() === "none") {
    return { error: errorData("auth.access_unsigned", "the Access token is not signed") };
  }
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, keySet(config.issuer), {
      audience: config.audience,
      issuer: config.issuer,
      algorithms: ["RS256", "ES256"],
      currentDate: new Date(now),
      requiredClaims: ["exp"],
    }));
  } catch (thrown) {
    return { error: accessError(thrown) };
  }
  const email = typeof payload.email === "string" ? payload.email.toLowerCase() : "";
  if (email === "") return { error: errorData("auth.access_malformed", "the Access token carries no email") };
  const role = roleFor(config, email, groupsOf(payload));
  if (!role) {
    return { error: errorData("auth.access_no_role", `ACCESS_ROLES gives ${email} no role`, { details: { email } }) };
  }
  return {
    principal: { kind: "access", id: email, name: email, role, workflows: null },
    email,
    expiresAt: (payload.exp ?? 0) * 1000,
    tokenId: `${payload.sub ?? email}:${payload.iat ?? payload.exp}`,
  };
}

function accessError(thrown: unknown): ErrorData {
  if (thrown instanceof errors.JWTExpired) return errorData("auth.access_expired", "the Access token has expired");
  if (thrown instanceof errors.JWTClaimValidationFailed) {
    if (thrown.claim === "aud") {
      return errorData(
        "auth.access_audience",
        "the Access token is for another application (its aud is not ACCESS_AUD)",
      );
    }
    return errorData("auth.access_claims", `the Access token's ${thrown.claim} claim is not valid: ${thrown.reason}`);
  }
  if (
    thrown instanceof errors.JWSSignatureVerificationFailed ||
    thrown instanceof errors.JWKSNoMatchingKey ||
    thrown instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return errorData("auth.access_signature", "the Access token is not signed by the team's keys");
  }
  if (thrown instanceof errors.JOSEAlgNotAllowed)
    return errorData("auth.access_signature", "the Access token's algorithm is not accepted");
  // The key set could not be fetched or read (a network error is not a jose error).
  if (
    thrown instanceof errors.JWKSTimeout ||
    thrown instanceof errors.JWKSInvalid ||
    !(thrown instanceof errors.JOSEError)
  ) {
    return errorData("auth.access_unavailable", "the Access team's keys could not be fetched");
  }
  return errorData("auth.access_malformed", `the Access token cannot be read: ${(thrown as Error).message}`);
}
