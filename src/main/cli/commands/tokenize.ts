/**
 * `tokenize [--json] [--mode a1111|comfy] <text>`: shows how the studio reads a prompt — CLIP ids (SD1.x: BOS,
 * 75 body tokens, EOS, EOS padding) and the per-token weights of the emphasis syntax, chunk by chunk.
 * `--json`: { text, mode, input_ids (77, literal SD1.x tokenization as in the fixtures), truncated, chunks }.
 * `--embedding <file>` (repeatable): textual-inversion embeddings called by file name; each takes its vectors'
 * positions (ids from 49408 on), so the count is what the text encoder sees.
 */
import { resolve } from 'node:path';
import { readEmbeddingFile } from '../../engine/embeddings/embedding-file';
import { EmbeddingVocab } from '../../engine/embeddings/embedding-vocab';
import { StudioError } from '../../../shared/errors';
import { ClipTokenizer } from '../../engine/tokenizer/clip-tokenizer';
import { tokenizeWeighted, type WeightingMode } from '../../engine/tokenizer/prompt-weighting';
import { flag, parseArgs, type CliCommand } from '../command';

export const tokenizeCommand: CliCommand = {
  name: 'tokenize',
  summary: 'Show the CLIP token ids and emphasis weights of a prompt',
  usage: 'tokenize [--json] [--mode a1111|comfy] [--embedding <file> …] <text>',
  async run(args, io) {
    const p = parseArgs(args, ['json']);
    const mode = (flag(p, 'mode') ?? 'a1111') as WeightingMode;
    if (mode !== 'a1111' && mode !== 'comfy') {
      throw new StudioError('BAD_REQUEST', `--mode must be "a1111" or "comfy" (got "${mode}").`);
    }
    if (p.positionals.length === 0) throw new StudioError('BAD_REQUEST', 'tokenize needs the prompt text, e.g. tokenize "a cat, (sunset:1.2)".');
    const text = p.positionals.join(' ');
    const tok = ClipTokenizer.load();
    const files = p.flags.get('embedding') ?? [];
    const embeddings = files.length > 0 ? new EmbeddingVocab(files.map((f) => readEmbeddingFile(resolve(f), {})), (t) => tok.encode(t), tok.vocabSize) : undefined;
    const { chunks } = tokenizeWeighted(tok, text, { mode, embeddings });
    if (p.bools.has('json')) {
      // input_ids: the text tokenized as CLIP/SD1.x does with no emphasis syntax (brackets literal, truncated to
      // 75 body tokens), i.e. exactly the reference fixtures' `input_ids`; chunks: what the studio encodes.
      const body = tok.encode(text);
      io.stdout(JSON.stringify({ text, mode, input_ids: tok.inputIds(text), truncated: body.length > 75, chunks }));
      return 0;
    }
    io.stdout(`${chunks.length} chunk${chunks.length === 1 ? '' : 's'} of 77 tokens (${mode} emphasis)`);
    chunks.forEach((c, i) => {
      const body: string[] = [];
      for (let k = 1; k < c.ids.length - 1 && c.ids[k] !== tok.eos; k++) {
        const w = c.weights[k];
        const emb = embeddings?.embeddingOf(c.ids[k]);
        if (emb) {
          body.push(`<${emb.name}>(${c.ids[k]})${w === 1 ? '' : `×${Number(w.toFixed(4))}`}`);
          continue;
        }
        body.push(`${tok.decode([c.ids[k]]).trim() || JSON.stringify(tok.decode([c.ids[k]]))}(${c.ids[k]})${w === 1 ? '' : `×${Number(w.toFixed(4))}`}`);
      }
      io.stdout(`chunk ${i + 1}: ${body.length} tokens`);
      io.stdout(`  ${body.join(' ')}`);
      io.stdout(`  ids: ${c.ids.join(' ')}`);
    });
    return 0;
  },
};
