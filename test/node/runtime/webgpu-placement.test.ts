import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildClipTextGraph } from '../../../src/main/compiler/families/clip-text';
import { buildUNetGraph } from '../../../src/main/compiler/families/unet';
import { parseUNetConfig } from '../../../src/main/compiler/families/configs';
import { windowFusionPlan } from '../../../src/main/compiler/families/context-windows';
import { buildControlNetGraph } from '../../../src/main/compiler/families/controlnet';
import { buildImageEncoderGraph } from '../../../src/main/compiler/families/image-encoder';
import { buildVaeDecoderGraph, buildVaeEncoderGraph } from '../../../src/main/compiler/families/vae';
import { attentionPlanFor } from '../../../src/main/compiler/graph/attention-plan';
import { normPlanFor } from '../../../src/main/compiler/graph/norm-plan';
import { trigPlanFor } from '../../../src/main/compiler/graph/trig-plan';
import { openSafetensors } from '../../../src/main/compiler/io/safetensors';
import { canonicalizeControlNet } from '../../../src/main/compiler/names/controlnet-names';
import { openI2vFile } from '../../../src/main/verify/kinds/i2v-adapter';
import { readJson } from '../../../src/main/verify/kinds/unet2d';
import { attr, GraphBuilder, type GraphIR } from '../../../src/main/compiler/graph/builder';
import { emitModel } from '../../../src/main/compiler/graph/emit';
import { DEFAULT_LORA_RANK } from '../../../src/main/engine/models/lora-feeds';
import { starterModel } from '../../../src/main/engine/starter/starter-model';
import { webgpuAvailable } from '../webgpu-device';

/**
 * No node of the UNet + motion, VAE or text-encoder graphs may run on the CPU when the studio runs on WebGPU
 * (a CPU node means host↔device copies inside every step). Proven from onnxruntime's own partitioning record:
 * the verbose log's "Node placements" block, written when a session is created, after Memcpy insertion.
 */

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const gpu = await webgpuAvailable();

interface Placement {
  /** Execution provider → node count. */
  counts: Record<string, number>;
  /** Node descriptions ("OpType (name)") listed per provider when the graph is split across providers. */
  nodes: Record<string, string[]>;
}

/** Parses onnxruntime's "Node placements" block (session_state.cc, verbose). */
export function parsePlacements(log: string): Placement {
  const lines = log.split('\n');
  const start = lines.findIndex((l) => l.includes('Node placements'));
  if (start < 0) throw new Error(`onnxruntime wrote no "Node placements" block:\n${log.slice(-2000)}`);
  const counts: Record<string, number> = {};
  const nodes: Record<string, string[]> = {};
  let current: string | undefined;
  for (const line of lines.slice(start + 1)) {
    const body = line.replace(/^.*VerifyEachNodeIsAssignedToAnEp\]/, '');
    if (body === line) break; // the block ends with the first line from elsewhere
    const head = /(?:All nodes|Node\(s\)) placed on \[(\w+)\]\. Number of nodes: (\d+)/.exec(body);
    if (head) {
      current = head[1];
      counts[current] = Number(head[2]);
      nodes[current] = [];
    } else if (current && body.trim()) nodes[current].push(body.trim());
  }
  return { counts, nodes };
}

function placementOf(graph: GraphIR): Placement {
  const dir = mkdtempSync(join(tmpdir(), 'place-'));
  dirs.push(dir);
  const { modelPath } = emitModel(graph, { dir, modelFile: `${graph.name}.onnx` });
  // Once in a clean-clone CI run (2026-12-05, load ≈ 4) a probe exited 0 with a log that lacked the block (it ended in
  // graph clean-up lines); alone the same graph gave it every time. The log capture is what failed, not the placement:
  // a second probe is asked for before judging.
  for (let attempt = 1; ; attempt++) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'placement-probe.ts'), modelPath, 'webgpu'], { encoding: 'utf8', env: process.env, maxBuffer: 256 * 2 ** 20 });
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const log = r.stdout + r.stderr;
    if (attempt < 2 && !log.includes('Node placements')) continue;
    return parsePlacements(log);
  }
}

const s = starterModel();
const webgpu = { floatType: 'float32' as const, attention: attentionPlanFor('webgpu'), trig: trigPlanFor('webgpu'), norm: normPlanFor('webgpu') };
const REF = join(__dirname, '../../fixtures/reference');

describe.skipIf(!gpu.usable)(`WebGPU node placement ${gpu.usable ? '' : `(skipped: ${gpu.reason})`}`, () => {
  it('reads a split placement the way onnxruntime writes it', () => {
    const p = parsePlacements(
      [
        'x [V:onnxruntime:, session_state.cc:1377 VerifyEachNodeIsAssignedToAnEp] Node placements',
        'x [V:onnxruntime:, session_state.cc:1384 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [CPUExecutionProvider]. Number of nodes: 1',
        'x [V:onnxruntime:, session_state.cc:1386 VerifyEachNodeIsAssignedToAnEp]   Shape (shape_node)',
        'x [V:onnxruntime:, session_state.cc:1384 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [WebGpuExecutionProvider]. Number of nodes: 3',
        'x [V:onnxruntime:, other.cc:1 Other] done',
      ].join('\n'),
    );
    expect(p.counts).toEqual({ CPUExecutionProvider: 1, WebGpuExecutionProvider: 3 });
    expect(p.nodes.CPUExecutionProvider).toEqual(['Shape (shape_node)']);
  });

  it('sees a node onnxruntime puts on the CPU (an int64 Cast of a Shape, which WebGPU has no kernel for)', () => {
    const g = new GraphBuilder('split');
    const x = g.input('x', 'float32', ['n', 4]);
    const y = g.op('Relu', [x]);
    g.output(g.op('Cast', [g.op('Shape', [y])], { to: attr.int(1) }), 'shape', 'float32', [2]);
    g.output(y, 'y', 'float32', ['n', 4]);
    const p = placementOf(g.build());
    expect(p.counts.CPUExecutionProvider).toBeGreaterThan(0);
    expect(p.nodes.CPUExecutionProvider).toEqual(['Cast (Cast)']);
    expect(p.nodes.WebGpuExecutionProvider).toContain('Relu (Relu)');
  });

  const graphs: Array<[string, () => GraphIR]> = [
    ['UNet + motion module with LoRA slots (the engine graph)', () =>
      buildUNetGraph(s.unet, s.configs.unet, {
        batch: 2,
        latentHeight: 8,
        latentWidth: 8,
        ...webgpu,
        motion: { w: s.motion, cfg: s.configs.motion, frames: 2, groupnorm: 'per_frame' },
        loraSlots: { rank: DEFAULT_LORA_RANK },
      })],
    ['UNet + motion module over FreeNoise context windows (the windowed motion block)', () =>
      buildUNetGraph(s.unet, s.configs.unet, {
        batch: 1,
        latentHeight: 8,
        latentWidth: 8,
        ...webgpu,
        motion: { w: s.motion, cfg: s.configs.motion, frames: 6, groupnorm: 'per_frame', windows: windowFusionPlan(6, { length: 4, stride: 2, weighting: 'pyramid', mode: 'studio' }) },
      })],
    ['ControlNet (the fixture\'s tiny SD1.5 ControlNet)', () => {
      const table = openSafetensors(join(REF, 'controlnet/controlnet.safetensors'));
      try {
        const cfg = parseUNetConfig(readJson(join(REF, 'controlnet/config.json')));
        return buildControlNetGraph(canonicalizeControlNet(table).weights, cfg, { batch: 2, latentHeight: 8, latentWidth: 8, contextLength: 77, ...webgpu });
      } finally {
        table.close();
      }
    }],
    ['AnimateLCM-I2V image encoder', () => {
      const i2v = openI2vFile(join(REF, 'animatelcm_i2v/animatelcm_i2v.safetensors'), 8, 8);
      try {
        return buildImageEncoderGraph(i2v.encoder, { batch: 1, frames: 2, latentHeight: 8, latentWidth: 8, levels: 4, floatType: 'float32' });
      } finally {
        i2v.close();
      }
    }],
    ['VAE decoder', () => buildVaeDecoderGraph(s.vae, s.configs.vae, { batch: 1, latentHeight: 8, latentWidth: 8, ...webgpu })],
    ['VAE encoder', () => buildVaeEncoderGraph(s.vae, s.configs.vae, { batch: 1, height: 64, width: 64, ...webgpu })],
    ['text encoder with LoRA slots', () => buildClipTextGraph(s.text_encoder, s.configs.text_encoder, { batch: 1, seqLen: 77, floatType: 'float32', loraSlots: { rank: DEFAULT_LORA_RANK } })],
  ];
  for (const [what, build] of graphs) {
    it(`${what}: every node on WebGPU, no Memcpy`, () => {
      const p = placementOf(build());
      expect(Object.keys(p.counts)).toEqual(['WebGpuExecutionProvider']);
      expect(p.counts.WebGpuExecutionProvider).toBeGreaterThan(10);
      expect(Object.values(p.nodes).flat().filter((n) => n.startsWith('Memcpy'))).toEqual([]);
    });
  }
});
