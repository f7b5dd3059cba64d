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
