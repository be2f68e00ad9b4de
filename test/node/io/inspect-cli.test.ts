import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { inspectCommand, type InspectReport } from '../../../src/main/cli/commands/inspect';
import { COMMANDS } from '../../../src/main/cli/registry';

async function inspect(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await inspectCommand.run(args, { stdout: (t) => void (out += t), stderr: (t) => void (out += t), isTTY: false });
  return { code, out };
}

describe('npm run cli -- inspect', () => {
  it('is registered', () => {
    expect(COMMANDS).toContain(inspectCommand);
  });

  it('--json prints one object with container, family, config, tensors, metadata, unmatched, hashes', async () => {
    const { code, out } = await inspect(['test/fixtures/reference/unet2d/weights_ldm.safetensors', '--json']);
    expect(code).toBe(0);
    const r = JSON.parse(out) as InspectReport;
    expect(r).toMatchObject({ container: 'safetensors', family: 'unet', layout: 'ldm', unmatched: [], metadata: {} });
    expect(r.config.unet!.block_out_channels).toEqual([32, 64]);
    expect(r.tensors.length).toBe(208);
    expect(r.tensors[0]).toEqual({ name: expect.any(String), dtype: 'F32', shape: expect.any(Array) });
    expect(r.parameters).toBe(r.tensors.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0));
    expect(r.hashes!.autov2).toMatch(/^[0-9A-F]{10}$/);
    expect(r.hashes!.autov3).toMatch(/^[0-9A-F]{12}$/);
  });

  it('shows LoRA library metadata and a readable text report for a .ckpt motion module', async () => {
    const lora = JSON.parse((await inspect(['test/fixtures/reference/lora_kohya_alphas/lora_kohya_alphas.safetensors', '--json', '--no-hash'])).out) as InspectReport;
    expect(lora.family).toBe('lora');
    expect(lora.lora).toMatchObject({ base: 'sd15', formats: ['kohya'], networkModule: 'networks.lora', baseModelVersion: 'sd_v1' });
    expect(lora.hashes).toBeUndefined();
    const { code, out } = await inspect(['test/fixtures/ckpt/motion_module_animatediff.ckpt']);
    expect(code).toBe(0);
    expect(out).toMatch(/container\s+ckpt \(animatediff layout\)/);
    expect(out).toMatch(/family\s+motion: AnimateDiff v2/);
  });

  it('a refused file exits non-zero with {"error": {code, message}} (through the real CLI entry)', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main/cli.ts', 'inspect', 'test/fixtures/ckpt/legacy.pt', '--json'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    const j = JSON.parse(r.stdout.trim()) as { error: { code: string; message: string } };
    expect(j.error.code).toBe('CKPT_LEGACY');
    expect(j.error.message).toMatch(/safetensors/);
  });
});
