import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildClipTextGraph } from '../../compiler/families/clip-text';
import { parseClipTextConfig } from '../../compiler/families/configs';
import { openCanonical, singleFileLayouts } from '../canonical';
import { compareArrays } from '../compare';
import { f32, npyF32, npyI64, runGraphOnce } from '../run-graph';
import type { KindHandler } from '../types';

/**
 * kind `clip_text`: build the text encoder from every weight layout the case ships (transformers names in
 * weights.safetensors, SD single-file names in weights_ldm.safetensors), run input_ids, and compare
 * last_hidden_state, every hidden state, and the CLIP-skip-2 embeddings.
 */
export const clipTextHandler: KindHandler = {
  kind: 'clip_text',
  async run(ctx) {
    const cfg = parseClipTextConfig((ctx.files.config ?? {}) as Record<string, unknown>);
    const ids = npyI64(join(ctx.dir, 'input_ids.npy'));
    const [B, S] = ids.shape;
    const layouts = singleFileLayouts(ctx.dir);
    for (const layout of layouts) {
      const file = openCanonical(join(ctx.dir, layout.file), 'text_encoder');
      try {
        const w = file.weights;
        const graph = buildClipTextGraph(w, cfg, { batch: B, seqLen: S, hiddenStates: true, floatType: ctx.target.precision });
        const out = await runGraphOnce(graph, ctx.workDir, { input_ids: { type: 'int64', dims: [B, S], data: ids.data } }, ctx.target);
        const expect = (name: string): Float32Array => npyF32(join(ctx.dir, name)).data;
        ctx.report(compareArrays(ctx.name, `${layout.label} last_hidden_state`, f32(out.last_hidden_state), expect('last_hidden_state.npy')));
        if (existsSync(join(ctx.dir, 'hidden_states.npy'))) {
          ctx.report(compareArrays(ctx.name, `${layout.label} hidden_states`, f32(out.hidden_states), expect('hidden_states.npy')));
        }
        if (existsSync(join(ctx.dir, 'clip_skip2_embeds.npy'))) {
          ctx.report(compareArrays(ctx.name, `${layout.label} clip_skip2_embeds`, f32(out.penultimate_normed), expect('clip_skip2_embeds.npy')));
        }
      } finally {
        file.close();
      }
    }
  },
};
