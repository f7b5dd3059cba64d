import type { Browser, LaunchOptions } from "playwright-core";
export const chromiumPath: string;
export function chromiumOptions(): LaunchOptions & { executablePath: string; headless: boolean; args: string[] };
export function launchChromium(): Promise<Browser>;
