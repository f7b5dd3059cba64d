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
} as const;

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
