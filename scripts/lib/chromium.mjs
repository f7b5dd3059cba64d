// Debian's Chromium driven by playwright-core: no browser download, nothing leaves 127.0.0.1.
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";

export const chromiumPath = "/usr/bin/chromium";

export async function launchChromium() {
  if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: apt-get install -y chromium`);
  return chromium.launch({
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
  });
}
