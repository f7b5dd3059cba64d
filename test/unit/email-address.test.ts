import { describe, expect, it } from "vitest";
import { fileRefsIn } from "../../src/lib/blob-ref";
import { addressMatches, senderAllowed } from "../../src/triggers/email-address";

describe("email addresses", () => {
  it.each([
    ["invoices@example.com", "invoices@example.com", true],
    ["invoices@example.com", "Invoices@EXAMPLE.com", true],
    ["invoices@example.com", "invoice@example.com", false],
    ["invoices@example.com", "invoices@example.com.evil.test", false],
    ["*@example.com", "anyone@example.com", true],
    ["*@example.com", "Anyone@Example.COM", true],
    // A subdomain is another domain, and a look-alike suffix is no match.
    ["*@example.com", "anyone@mail.example.com", false],
    ["*@example.com", "anyone@badexample.com", false],
    ["*@example.com", "@example.com", false],
  ])("%s matches %s: %s", (pattern, address, expected) => {
    expect(addressMatches(pattern, address)).toBe(expected);
  });

  it("lets every sender through without an allow-list, and only listed ones with one", () => {
    expect(senderAllowed(undefined, "eve@elsewhere.test")).toBe(true);
    const list = ["ap@partner.test", "*@trusted.test"];
    expect(senderAllowed(list, "AP@partner.test")).toBe(true);
    expect(senderAllowed(list, "clerk@trusted.test")).toBe(true);
    expect(senderAllowed(list, "eve@elsewhere.test")).toBe(false);
    expect(senderAllowed(list, "ap@partner.test.evil.test")).toBe(false);
  });
});

describe("file references", () => {
  it("finds an attachment's reference wherever it sits, and no context-value reference", () => {
    const file = { "$signalbox.blob": `sha256:${"a".repeat(64)}`, size: 3, type: "bytes" };
    const value = { "$signalbox.blob": `sha256:${"b".repeat(64)}`, size: 9, type: "object" };
    const input = { attachments: [{ filename: "a.pdf", ref: file }], nested: { list: [[file]] }, other: value };
    expect(fileRefsIn(input)).toEqual([file, file]);
    expect(fileRefsIn(value)).toEqual([]);
    expect(fileRefsIn("text")).toEqual([]);
  });
});
