export function demoWorkflows(deadPort: number): { id: string; nodes: { id: string }[] }[];
export function waitForRun(
  baseUrl: string,
  token: string,
  runId: string,
  done: (report: { status: string }) => boolean,
  timeoutMs?: number,
): Promise<{ status: string }>;
export function seedDemo(
  baseUrl: string,
  token: string,
  deadPort: number,
): Promise<{
  greetingLoud: string;
  greetingQuiet: string;
  orderFailed: string;
  reminderWaiting: string;
  purchaseReview: string;
}>;
