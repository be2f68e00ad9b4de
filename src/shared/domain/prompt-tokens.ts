/** How the text encoder reads a prompt, for the prompt box's counter: CLIP sees it in chunks of 75 tokens. */
export const TOKENS_PER_CHUNK = 75;

export interface TokenCount {
  /** Tokens in each chunk, in order (each at most TOKENS_PER_CHUNK); one chunk for an empty prompt. */
  chunks: number[];
  /** All tokens together. */
  total: number;
}
