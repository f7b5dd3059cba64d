export interface RegisterResult {
  file: string;
  workflowId?: string;
  status: "created" | "updated" | "unchanged" | "failed";
  version?: number;
  hash?: string;
  error?: string;
}

export function readWorkflowFiles(dir: string): Promise<{ file: string; definition?: unknown; error?: string }[]>;
export function registerWorkflows(options: { baseUrl: string; token: string; dir: string }): Promise<RegisterResult[]>;
export function calledWorkflows(definition: unknown): Set<string>;
export function registrationOrder<Entry extends { file: string; definition?: unknown; error?: string }>(
  entries: Entry[],
): Entry[];
