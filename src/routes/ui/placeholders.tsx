import { Hono } from "hono";
import { MessagePage } from "../../ui/pages/message-page";
import type { Section } from "../../ui/shell";
import type { UiEnv } from "./types";

/** Sections whose pages are not built yet say where the same data is in the API meanwhile. */
export const placeholderRoutes = new Hono<UiEnv>();

const pending: { section: Section; path: string; title: string; api: string }[] = [
  { section: "metrics", path: "/metrics", title: "Metrics", api: "GET /api/metrics" },
];

for (const page of pending) {
  placeholderRoutes.get(page.path, (c) =>
    c.html(
      <MessagePage
        title={page.title}
        message={`This page is not in the dashboard yet. The API has the same data: ${page.api}.`}
        csrf={c.get("csrf")}
        section={page.section}
      />,
    ),
  );
}
