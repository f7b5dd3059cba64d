import { BareShell } from "../shell";

/** Sign-in: the API token or an API key, once; the session cookie carries the rest. */
export function LoginPage(props: {
  next: string;
  error?: string | undefined;
  notice?: string | undefined;
  configured: boolean;
}) {
  return (
    <BareShell title="Sign in">
      <div class="card narrow">
        <h1>Sign in to Signalbox</h1>
        {props.notice ? (
          <p class="note" role="status">
            {props.notice}
          </p>
        ) : null}
        {props.configured ? (
          <form method="post" action="/ui/login">
            <input type="hidden" name="next" value={props.next} />
            <label for="token">API token or key</label>
            <input
              id="token"
              name="token"
              type="password"
              autocomplete="current-password"
              required
              aria-describedby={props.error ? "token-error" : "token-help"}
              aria-invalid={props.error ? "true" : undefined}
            />
            {props.error ? (
              <p id="token-error" class="error" role="alert">
                {props.error}
              </p>
            ) : (
              <p id="token-help" class="note">
                The Worker's <code>API_TOKEN</code>, or an API key (<code>sbk_…</code>) a viewer, operator or admin was
                given. You stay signed in for 12 hours in this browser.
              </p>
            )}
            <div class="actions">
              <button type="submit" class="primary">
                Sign in
              </button>
            </div>
          </form>
        ) : (
          <p class="error" role="alert">
            Nobody can sign in yet: this Worker has no <code>API_TOKEN</code>. Set it with{" "}
            <code>wrangler secret put API_TOKEN</code> (or in <code>.dev.vars</code> locally).
          </p>
        )}
      </div>
    </BareShell>
  );
}
