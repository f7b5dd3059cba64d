import { describe, expect, it } from "vitest";
import { chunkText } from "../../src/lib/text-chunks";

describe("chunkText", () => {
  it("covers every character, in order, with chunks no longer than size", () => {
    const text = Array.from({ length: 60 }, (_, index) => `word${index}`).join(" ");
    const chunks = chunkText(text, { size: 50, overlap: 0 });
    expect(chunks.every((chunk) => chunk.text.length <= 50)).toBe(true);
    expect(chunks.map((chunk) => chunk.text).join("")).toBe(text);
    expect(chunks.map((chunk) => chunk.index)).toEqual(chunks.map((_, index) => index));
    for (const chunk of chunks) expect(text.slice(chunk.start, chunk.end)).toBe(chunk.text);
  });

  it("breaks after a space near the end of a window instead of inside a word", () => {
    const text = "alpha beta gamma delta epsilon zeta eta theta";
    const [first] = chunkText(text, { size: 20, overlap: 0 });
    expect(first?.text).toBe("alpha beta gamma ");
  });

  it("prefers a paragraph break to a line break or a space", () => {
    const text = `${"a".repeat(85)}\n\n${"b".repeat(5)} c\nd ${"e".repeat(40)}`;
    const [first] = chunkText(text, { size: 100, overlap: 0 });
    expect(first?.end).toBe(87);
  });

  it("starts each chunk `overlap` characters before the previous one ended", () => {
    const text = "x".repeat(250);
    const chunks = chunkText(text, { size: 100, overlap: 30 });
    expect(chunks.map((chunk) => [chunk.start, chunk.end])).toEqual([
      [0, 100],
      [70, 170],
      [140, 240],
      [210, 250],
    ]);
  });

  it("gives short text one chunk and empty text none", () => {
    expect(chunkText("short", { size: 100, overlap: 10 })).toEqual([{ index: 0, text: "short", start: 0, end: 5 }]);
    expect(chunkText("", { size: 100, overlap: 10 })).toEqual([]);
  });

  it("names the page a chunk starts on when page offsets are given", () => {
    const pages = ["p".repeat(90), "q".repeat(90)];
    const text = pages.join("\n\n");
    const chunks = chunkText(text, { size: 60, overlap: 0, pageStarts: [0, 92] });
    expect(chunks.map((chunk) => chunk.page)).toEqual([1, 1, 2, 2]);
  });

  it("refuses an overlap as large as the chunk", () => {
    expect(() => chunkText("text", { size: 10, overlap: 10 })).toThrow(RangeError);
  });
});
