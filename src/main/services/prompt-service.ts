/**
 * Prompt facts the Generate panel shows while the creator types: the token count per 75-token chunk, from the same
 * CLIP tokenizer and emphasis parser the engine encodes with (so the counter and the encoder never disagree).
 * Pure TypeScript, cheap: runs in main, not in the engine worker.
 */
import type { WeightingMode } from '../../shared/domain/generation';
import type { TokenCount } from '../../shared/domain/prompt-tokens';
import { TOKENS_PER_CHUNK } from '../../shared/domain/prompt-tokens';
import { ClipTokenizer } from '../engine/tokenizer/clip-tokenizer';
import { tokenizeWeighted } from '../engine/tokenizer/prompt-weighting';

export class PromptService {
  private tokenizer: ClipTokenizer | undefined;

  countTokens(text: string, mode: WeightingMode = 'a1111'): TokenCount {
    this.tokenizer ??= ClipTokenizer.load();
    const tok = this.tokenizer;
    const { chunks } = tokenizeWeighted(tok, text, { mode });
    // Body tokens run from after BOS to the first EOS (chunks are padded with EOS).
    const counts = chunks.map((c) => {
      const end = c.ids.indexOf(tok.eos, 1);
      return Math.min(TOKENS_PER_CHUNK, (end < 0 ? c.ids.length : end) - 1);
    });
    const list = counts.length > 0 ? counts : [0];
    return { chunks: list, total: list.reduce((a, b) => a + b, 0) };
  }
}
