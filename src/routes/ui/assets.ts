import { Hono } from "hono";
import htmxSource from "htmx.org/dist/htmx.min.js";
import htmxPackage from "htmx.org/package.json";
import { stylesheet } from "../../ui/assets/styles";

/**
 * Static files of the dashboard, bundled into the Worker at build time: htmx's minified file
 * from its npm package (a wrangler Text rule) and our stylesheet. Library files carry their
 * version in the path and are cached for good; the stylesheet is revalidated.
 */
export const assetPaths = {
  htmx: `/ui/assets/htmx-${htmxPackage.version}.min.js`,
  styles: "/ui/assets/signalbox.css",
  icon: "/ui/assets/favicon.svg",
} as const;

// Without an icon of its own, every browser asks for /favicon.ico and logs the 404.
const icon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#14213d"/><circle cx="10" cy="22" r="3" fill="#1a7f37"/><circle cx="22" cy="10" r="3" fill="#f0b400"/><path d="M10 22 L22 10" stroke="#fff" stroke-width="2.5"/></svg>`;

export const assetRoutes = new Hono();

assetRoutes.get(assetPaths.htmx.slice("/ui/assets".length), (c) =>
  c.body(htmxSource, 200, {
    "Content-Type": "text/javascript; charset=utf-8",
    "Cache-Control": "public, max-age=31536000, immutable",
  }),
);

assetRoutes.get(assetPaths.styles.slice("/ui/assets".length), (c) =>
  c.body(stylesheet, 200, { "Content-Type": "text/css; charset=utf-8", "Cache-Control": "public, max-age=300" }),
);

assetRoutes.get(assetPaths.icon.slice("/ui/assets".length), (c) =>
  c.body(icon, 200, { "Content-Type": "image/svg+xml", "Cache-Control": "public, max-age=86400" }),
);
