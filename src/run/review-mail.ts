import type { OutgoingEmail } from "../adapters/email";
import type { ReviewRequest } from "../engine/outcome";
import { escapeHtml, textToHtml } from "../lib/html";

export interface ReviewMailInput {
  id: string;
  from: string;
  to: string;
  purpose: "request" | "reminder" | "escalation";
  kind: "approval" | "escalation";
  request: ReviewRequest;
  link: string;
  expiresAt: number;
}

const prefixes = { request: "", reminder: "Reminder: ", escalation: "Escalated to you: " } as const;

/**
 * The email for one approver: the request's own text and HTML, the chosen context fields, and
 * one link. Deciding happens on the page the link opens, never in the email: opening a link
 * changes nothing, so scanners that fetch links are harmless.
 */
export function composeReviewMail(input: ReviewMailInput): OutgoingEmail {
  const { request, link } = input;
  const expires = new Date(input.expiresAt).toUTCString();
  const action = input.kind === "escalation" ? "review the failed step" : "review and decide";
  const summaryText = request.summary.map((entry) => `${entry.label}: ${entry.value}`).join("\n");
  const text = [
    request.text,
    summaryText ? `\n${summaryText}` : "",
    `\nOpen this link to ${action}:\n${link}`,
    `\nThe link is yours alone, works once and expires ${expires}.`,
  ].join("\n");
  const summaryHtml =
    request.summary.length === 0
      ? ""
      : `<table role="presentation" cellpadding="4" style="border-collapse:collapse">${request.summary
          .map(
            (entry) =>
              `<tr><th align="left" style="padding-right:12px">${escapeHtml(entry.label)}</th><td>${escapeHtml(entry.value)}</td></tr>`,
          )
          .join("")}</table>`;
  const html = [
    "<!doctype html>",
    '<html lang="en"><body style="font-family:sans-serif;line-height:1.5">',
    request.html ?? textToHtml(request.text),
    summaryHtml,
    `<p><a href="${escapeHtml(link)}" style="display:inline-block;padding:8px 16px;background:#1f4e8c;color:#fff;text-decoration:none;border-radius:4px">${escapeHtml(action[0]?.toUpperCase() + action.slice(1))}</a></p>`,
    `<p style="color:#555;font-size:small">This link is yours alone, works once and expires ${escapeHtml(expires)}. If the button does not work, copy this address: ${escapeHtml(link)}</p>`,
    "</body></html>",
  ].join("\n");
  return {
    id: input.id,
    from: input.from,
    to: input.to,
    subject: `${prefixes[input.purpose]}${request.subject}`,
    text,
    html,
  };
}
