import { type Context, Hono } from "hono";
import { authenticateToken } from "../../auth/authenticate";
import { blockedFor, clientAddress, countFailure } from "../../auth/rate-limit";
import { LoginPage } from "../../ui/pages/login-page";
import { attemptedActor, noteAudit, principalActor } from "../audit-trail";
import { limitBody } from "../request";
import { checkForm } from "./guard";
import { safeNextPath } from "./next-path";
import { refusedPage } from "./refused";
import { endSession, readSession, sessionSecret, signOut, startSession } from "./session";
import type { UiEnv } from "./types";

/** Sign-in and sign-out. Signing in trades the API token or an API key for a session cookie. */
export const loginRoutes = new Hono<UiEnv>();

loginRoutes.get("/login", async (c) => {
  const next = safeNextPath(c.req.query("next"));
  const state = await readSession(c);
  if ("session" in state) return c.redirect(next, 303);
  const notice =
    "expired" in state
      ? "Your session ended. Sign in again to go on where you were."
      : c.req.query("signed-out") !== undefined
        ? "You are signed out."
        : undefined;
  if ("expired" in state) endSession(c);
  return c.html(
    <LoginPage next={next} notice={notice} configured={sessionSecret(c.env) !== undefined && !!c.env.API_TOKEN} />,
  );
});

loginRoutes.post("/login", limitBody, async (c) => {
  const check = await checkForm(c, { token: false });
  if (!check.ok) return refusedPage(c, check.reason, false);
  const next = safeNextPath(check.form.get("next"));
  if (sessionSecret(c.env) === undefined) return c.html(<LoginPage next={next} configured={false} />, 503);
  const now = Date.now();
  const address = clientAddress(c);
  const wait = blockedFor("auth", address, now);
  if (wait !== undefined) return tooManyPage(c, next, wait);
  const given = check.form.get("token");
  const signIn =
    typeof given === "string" && given.trim() !== ""
      ? await authenticateToken(c.env, given.trim(), Date.now())
      : undefined;
  if (!signIn || "error" in signIn) {
    noteAudit(c, { actor: attemptedActor(given), code: signIn?.error.code ?? "auth.missing_token" });
    const over = await countFailure(c.env, "auth", address, now);
    if (over !== undefined) return tooManyPage(c, next, over);
    return c.html(<LoginPage next={next} configured error={signInRefusal(signIn?.error.code)} />, 401);
  }
  // The pages show every workflow: a key limited to some signs in to the API only.
  noteAudit(c, { actor: principalActor(signIn.principal) });
  if (signIn.principal.workflows !== null || signIn.principal.role === "trigger") {
    noteAudit(c, { code: "auth.forbidden" });
    return c.html(
      <LoginPage
        next={next}
        configured
        error="This key is limited to starting runs or to some workflows: it works with the API, not the dashboard."
      />,
      403,
    );
  }
  await startSession(c, signIn.principal);
  return c.redirect(next, 303);
});

/** 429 with Retry-After: too many failed sign-ins from this address. */
function tooManyPage(c: Context<UiEnv>, next: string, waitMs: number) {
  c.header("Retry-After", String(Math.ceil(waitMs / 1000)));
  return c.html(
    <LoginPage
      next={next}
      configured
      error={`Too many failed sign-ins from your address. Try again in ${Math.ceil(waitMs / 1000)} seconds.`}
    />,
    429,
  );
}

function signInRefusal(code: string | undefined): string {
  if (code === "auth.key_revoked") return "That API key was revoked.";
  if (code === "auth.key_expired") return "That API key has expired.";
  return "That is neither this Worker's API token nor a live API key.";
}

/** Signing out needs the session's form token: another site cannot sign a person out either. */
loginRoutes.post("/logout", limitBody, async (c) => {
  const state = await readSession(c);
  if (!("session" in state)) {
    endSession(c);
    return c.redirect("/ui/login?signed-out", 303);
  }
  c.set("session", state.session);
  const check = await checkForm(c, { token: true });
  if (!check.ok) return refusedPage(c, check.reason, false);
  await signOut(c, state.session);
  return c.redirect("/ui/login?signed-out", 303);
});
