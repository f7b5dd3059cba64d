import { createMimeMessage } from "mimetext";
import type { OutgoingEmail } from "./port";

/** The message as RFC 5322 text: multipart/alternative with a plain-text and an HTML part. */
export function buildMime(message: OutgoingEmail, messageIdDomain: string): string {
  const mime = createMimeMessage();
  mime.setSender({ name: "Signalbox", addr: message.from });
  mime.setRecipient(message.to);
  mime.setSubject(message.subject);
  mime.setHeader("Message-ID", `<${message.id}@${messageIdDomain}>`);
  mime.addMessage({ contentType: "text/plain", data: message.text });
  mime.addMessage({ contentType: "text/html", data: message.html });
  return mime.asRaw();
}

export function domainOf(address: string): string {
  return address.split("@")[1] ?? "signalbox.local";
}
