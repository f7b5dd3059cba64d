export function ensureApiToken(path: string): { token: string; created: boolean };
export function readDevVars(path: string): Record<string, string>;
