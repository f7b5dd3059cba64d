/**
 * Splits text into overlapping windows of characters, for map steps and embeddings. Characters,
 * not tokens: a tokenizer is model-specific and would tie a definition to one model's, while a
 * character count is the same everywhere and converts to tokens at about four per token.
 */

export interface TextChunk {
  index: number;
  text: string;
  /** Character offsets in the whole text: `text.slice(start, end)` is the chunk. */
  start: number;
  end: number;
  /** PDFs: the page (1-based) the chunk starts on. */
  page?: number;
}

/** How far back from a window's end a break at a paragraph, line or word is looked for. */
const breakWindow = 0.2;

/** Where a chunk that may end at `limit` ends: after the last blank line, newline or space near the limit. */
function breakPoint(text: string, start: number, limit: number): number {
  if (limit >= text.length) return text.length;
  const earliest = start + Math.floor((limit - start) * (1 - breakWindow));
  const window = text.slice(earliest, limit);
  for (const separator of ["\n\n", "\n", " "]) {
    const at = window.lastIndexOf(separator);
    if (at !== -1) return earliest + at + separator.length;
  }
  return limit;
}

/** The page a character offset falls on, given each page's starting offset (ascending). */
function pageAt(pageStarts: readonly number[], offset: number): number {
  let page = 0;
  while (page + 1 < pageStarts.length && (pageStarts[page + 1] ?? Number.POSITIVE_INFINITY) <= offset) page += 1;
  return page + 1;
}

/**
 * Chunks of at most `size` characters, each starting `overlap` characters before the previous
 * one ended (less when the previous one broke early at a word). Every character is in a chunk.
 */
export function chunkText(
  text: string,
  options: { size: number; overlap: number; pageStarts?: readonly number[] },
): TextChunk[] {
  const { size, overlap, pageStarts } = options;
  if (size < 1 || overlap < 0 || overlap >= size)
    throw new RangeError("chunk size must be at least 1 and above overlap");
  const chunks: TextChunk[] = [];
  let start = 0;
  while (start < text.length) {
    const end = breakPoint(text, start, start + size);
    const chunk: TextChunk = { index: chunks.length, text: text.slice(start, end), start, end };
    if (pageStarts && pageStarts.length > 0) chunk.page = pageAt(pageStarts, start);
    chunks.push(chunk);
    if (end >= text.length) break;
    // Always move forward, however the overlap and an early break combine.
    start = Math.max(end - overlap, start + 1);
  }
  return chunks;
}
