/**
 * The dashboard's pages, server-rendered with hono/jsx (routes/ui serves them): the page
 * shell and navigation here, one folder per page under pages/.
 */
import type { Child } from "hono/jsx";
import { assetPaths } from "../routes/ui/assets";

export const sections = [
  { key: "runs", label: "Runs", href: "/ui/runs" },
  { key: "workflows", label: "Workflows", href: "/ui/workflows" },
  { key: "approvals", label: "Approvals", href: "/ui/approvals" },
  { key: "dead-letters", label: "Dead letters", href: "/ui/dead-letters" },
  { key: "metrics", label: "Metrics", href: "/ui/metrics" },
] as const;

export type Section = (typeof sections)[number]["key"];

// htmx must not inject its indicator <style> (the CSP allows none) nor evaluate code in attributes.
const htmxConfig = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  historyCacheSize: 0,
});

function Document(props: { title: string; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex, nofollow" />
        <meta name="htmx-config" content={htmxConfig} />
        <title>{`${props.title} · Signalbox`}</title>
        <link rel="icon" href={assetPaths.icon} type="image/svg+xml" />
        <link rel="stylesheet" href={assetPaths.styles} />
        <script src={assetPaths.htmx} defer />
      </head>
      {props.children}
    </html>
  );
}

/** Every signed-in page: the navigation, sign-out, and the page's content. */
export function Shell(props: { title: string; section?: Section | undefined; csrf: string; children: Child }) {
  return (
    <Document title={props.title}>
      <body>
        <a class="skip" href="#content">
          Skip to content
        </a>
        <header class="topbar">
          <a class="brand" href="/ui/runs">
            Signalbox
          </a>
          <nav aria-label="Sections">
            <ul class="nav">
              {sections.map((section) => (
                <li>
                  <a href={section.href} aria-current={section.key === props.section ? "page" : undefined}>
                    {section.label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          <form class="signout" method="post" action="/ui/logout">
            <input type="hidden" name="csrf" value={props.csrf} />
            <button type="submit">Sign out</button>
          </form>
        </header>
        <main id="content">{props.children}</main>
      </body>
    </Document>
  );
}

/** Pages seen without a session: sign-in, and refusals. */
export function BareShell(props: { title: string; children: Child }) {
  return (
    <Document title={props.title}>
      <body>
        <header class="topbar">
          <span class="brand">Signalbox</span>
        </header>
        <main id="content">{props.children}</main>
      </body>
    </Document>
  );
}
