export const projectRoot: string;
export const wranglerBin: string;
export function wranglerEnv(extra?: Record<string, string>): NodeJS.ProcessEnv;
export function applyMigrations(options?: { persistTo?: string; config?: string; stdio?: "inherit" | "pipe" }): void;
export function probePort(port: number): Promise<number | undefined>;
export function waitForHealth(
  baseUrl: string,
  options?: { timeoutMs?: number; exited?: () => string | undefined },
): Promise<void>;
