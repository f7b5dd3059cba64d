// Debian's Chromium driven by playwright-core: no browser download, nothing leaves 127.0.0.1.
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";

export const chromiumPath = "/usr/bin/chromium";

/** What playwright launches Debian's Chromium with: headless, nothing fetched on its own. */
export function chromiumOptions() {
  if (!existsSync(chromiumPath))
    throw new Error(`${chromiumPath} is missing: apt-get install -y chromium (.ci/run does)`);
  return {
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  };
}

export async function launchChromium() {
  return chromium.launch(chromiumOptions());
}
