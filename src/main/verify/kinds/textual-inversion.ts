import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StudioError } from '../../../shared/errors';
import { buildClipTextGraph } from '../../compiler/families/clip-text';
import { parseClipTextConfig } from '../../compiler/families/configs';
import { readEmbeddingFile } from '../../engine/embeddings/embedding-file';
import { EmbeddingVocab } from '../../engine/embeddings/embedding-vocab';
import { CHUNK_BODY, CONTEXT_LENGTH, ClipTokenizer } from '../../engine/tokenizer/clip-tokenizer';
import { parsePromptAttention, tokenizeWeighted } from '../../engine/tokenizer/prompt-weighting';
import { openCanonical } from '../canonical';
import { compareArrays } from '../compare';
import { f32, npyF32, npyI64, runGraphOnce } from '../run-graph';
import type { KindHandler } from '../types';

/**
 * kind `textual_inversion`: for every run (one per file format), the case's embeddings are read by the studio's
 * own loader (engine/embeddings) — trigger word from the file as A1111 names it — and the positive and negative
 * prompts are tokenized with them against the case's tokenizer, then encoded by the text-encoder graph with the
 * embedding rows fed as extra token-table rows. Compared: the appended rows, input_ids (exactly), and the last
 * hidden state. The fixtures tokenize emphasis syntax literally (diffusers); the studio's A1111 chunker must give
 * the same ids wherever a prompt has no emphasis.
 */
interface TiRun {
  name: string;
  loads: Array<{ file: string; format: string; token: string }>;
}

export const textualInversionHandler: KindHandler = {
  kind: 'textual_inversion',
  async run(ctx) {
    const f = ctx.files as { base?: { text_encoder?: string; text_encoder_config?: string }; tokenizer?: { merges?: string; vocab_size?: number }; runs?: TiRun[]; prompts?: { positive?: string[]; negative?: string[] } };
    if (!f.base?.text_encoder || !f.base.text_encoder_config || !f.tokenizer?.merges || !Array.isArray(f.runs) || !f.prompts?.positive || !f.prompts.negative) {
      throw new StudioError('FORMAT_MISMATCH', `${ctx.name}: files.json needs base, tokenizer.merges, runs and prompts for kind textual_inversion.`);
    }
    const tok = ClipTokenizer.fromMerges(readFileSync(join(ctx.dir, f.tokenizer.merges), 'utf8'));
    if (f.tokenizer.vocab_size !== undefined && tok.vocabSize !== f.tokenizer.vocab_size) {
      throw new Error(`the case's merges give ${tok.vocabSize} tokens, files.json says ${f.tokenizer.vocab_size}`);
    }
    const cfg = parseClipTextConfig(JSON.parse(readFileSync(join(ctx.dir, f.base.text_encoder_config), 'utf8')) as Record<string, unknown>);
    const te = openCanonical(join(ctx.dir, f.base.text_encoder), 'text_encoder');
    try {
      const sides = [
        { label: 'prompt', texts: f.prompts.positive, ids: 'prompt_input_ids.npy', embeds: 'prompt_embeds.npy' },
        { label: 'negative_prompt', texts: f.prompts.negative, ids: 'negative_prompt_input_ids.npy', embeds: 'negative_prompt_embeds.npy' },
      ];
      for (const run of f.runs) {
        const embeddings = run.loads.map((l) => readEmbeddingFile(join(ctx.dir, l.file), { width: cfg.hidden_size }));
        const names = embeddings.map((e) => e.name);
        const wanted = run.loads.map((l) => l.token);
        const namesOk = names.every((n, i) => n === wanted[i]) && embeddings.every((e, i) => e.format === run.loads[i].format);
        ctx.report({ case: ctx.name, what: `${run.name} trigger words and formats`, maxAbs: namesOk ? 0 : Number.NaN, relL2: namesOk ? 0 : Number.NaN, pass: namesOk, note: namesOk ? undefined : `got ${names.join(', ')}; expected ${wanted.join(', ')}` });
        const vocab = new EmbeddingVocab(embeddings, (t) => tok.encode(t), tok.vocabSize);
        const rows = vocab.rows(cfg.hidden_size);
        ctx.report(compareArrays(ctx.name, `${run.name} ti_token_embedding_rows`, rows, npyF32(join(ctx.dir, 'ti_token_embedding_rows.npy')).data, { atol: 0, rtol: 0 }));
        for (const side of sides) {
          const refIds = Array.from(npyI64(join(ctx.dir, side.ids)).data, Number);
          const ids = side.texts.flatMap((t) => literalIds(tok, vocab, t));
          ctx.report(compareArrays(ctx.name, `${run.name} ${side.label} input_ids`, ids, refIds, { atol: 0, rtol: 0 }));
          // The studio's own chunker (A1111 dialect) on the prompts without emphasis syntax.
          side.texts.forEach((t, i) => {
            if (parsePromptAttention(t).some(([, w]) => w !== 1)) return;
            const chunked = tokenizeWeighted(tok, t, { embeddings: vocab }).chunks;
            const ref = refIds.slice(i * CONTEXT_LENGTH, (i + 1) * CONTEXT_LENGTH);
            ctx.report(compareArrays(ctx.name, `${run.name} ${side.label}[${i}] a1111 chunk ids`, chunked.length === 1 ? chunked[0].ids : [], ref, { atol: 0, rtol: 0 }));
          });
          const B = side.texts.length;
          const graph = buildClipTextGraph(te.weights, cfg, { batch: B, seqLen: CONTEXT_LENGTH, extraTokens: true, floatType: ctx.target.precision });
          const out = await runGraphOnce(graph, ctx.workDir, {
            input_ids: { type: 'int64', dims: [B, CONTEXT_LENGTH], data: BigInt64Array.from(ids, (v) => BigInt(v)) },
            extra_token_embeddings: { type: 'float32', dims: [Math.max(1, vocab.vectorCount), cfg.hidden_size], data: rows },
          }, ctx.target);
          ctx.report(compareArrays(ctx.name, `${run.name} ${side.label} last_hidden_state`, f32(out.last_hidden_state), npyF32(join(ctx.dir, side.embeds)).data));
        }
      }
    } finally {
      te.close();
    }
  },
};

/** diffusers' tokenization (emphasis syntax literal, truncated to 75 body tokens) with the embeddings expanded. */
function literalIds(tok: ClipTokenizer, vocab: EmbeddingVocab, text: string): number[] {
  const body = vocab.expand(tok.encode(text)).slice(0, CHUNK_BODY);
  const ids = [tok.bos, ...body, tok.eos];
  while (ids.length < CONTEXT_LENGTH) ids.push(tok.eos);
  return ids;
}
