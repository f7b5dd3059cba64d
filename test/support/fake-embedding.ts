/**
 * The test LLM server's embeddings: a vector made from the text alone (FNV-1a hashes of the
 * text and the dimension), so a test can compute what any text must come back as and check
 * order and batching. Pure, so it runs in Node and in workerd.
 */

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

export const defaultEmbeddingDimensions = 8;

/** Each component in [-1, 1), rounded to 6 places so it survives JSON unchanged. */
export function fakeEmbedding(text: string, dimensions = defaultEmbeddingDimensions): number[] {
  return Array.from({ length: dimensions }, (_, index) => {
    const unit = fnv1a(`${index}:${text}`) / 0x100000000;
    return Math.round((unit * 2 - 1) * 1e6) / 1e6;
  });
}

/** What the server counts as a text's tokens: its words. */
export function fakeTokenCount(text: string): number {
  return text.split(/\s+/).filter((word) => word !== "").length;
}
