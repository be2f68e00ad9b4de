/**
 * `generate`'s ControlNet flags, read in order: each `--controlnet <model-file>` starts a unit; `--control`,
 * `--control-scale`, `--control-start`, `--control-end` and `--preprocess` that follow it belong to that unit.
 */
import { resolve } from 'node:path';
import { CONTROL_MAP_HINT, DEFAULT_CONTROL_UNIT, type ControlNetUnit } from '../../shared/domain/controlnet';
import { StudioError } from '../../shared/errors';

export const CONTROL_FLAGS = ['controlnet', 'control', 'control-scale', 'control-start', 'control-end', 'preprocess'] as const;
const UNIT_FLAGS = new Set<string>(CONTROL_FLAGS.slice(1));

export function controlUnitsFromArgs(args: readonly string[], usage: (message: string) => StudioError): ControlNetUnit[] {
  const units: Array<Partial<ControlNetUnit> & { model: string; seen: Set<string> }> = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') break;
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    if (name !== 'controlnet' && !UNIT_FLAGS.has(name)) continue;
    const value = eq >= 0 ? a.slice(eq + 1) : args[++i];
    if (value === undefined) throw usage(`--${name} needs a value.`);
    if (name === 'controlnet') {
      units.push({ model: resolve(value), seen: new Set() });
      continue;
    }
    const unit = units[units.length - 1];
    if (!unit) throw usage(`--${name} belongs to a ControlNet: put it after --controlnet <model-file>.`);
    if (unit.seen.has(name)) throw usage(`--${name} is given twice for ControlNet ${units.length}; start another unit with --controlnet.`);
    unit.seen.add(name);
    const number = (lo: number, hi: number): number => {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n) || n < lo || n > hi) throw usage(`--${name} must be a number from ${lo} to ${hi} (got "${value}").`);
      return n;
    };
    if (name === 'control') unit.control = resolve(value);
    else if (name === 'control-scale') unit.scale = number(-10, 10);
    else if (name === 'control-start') unit.start = number(0, 1);
    else if (name === 'control-end') unit.end = number(0, 1);
    else if (name === 'preprocess') {
      if (value !== 'canny' && value !== 'none') throw usage(`--preprocess must be canny or none (got "${value}"). ${CONTROL_MAP_HINT}`);
      unit.preprocess = value;
    }
  }
  return units.map((u, i) => {
    if (!u.control) throw usage(`ControlNet ${i + 1} (${u.model}) needs its conditioning input: --control <image|video|frames-dir>.`);
    const { seen: _seen, ...rest } = u;
    const unit: ControlNetUnit = { ...DEFAULT_CONTROL_UNIT, ...rest, model: u.model, control: u.control };
    if (!(unit.start < unit.end)) throw usage(`ControlNet ${i + 1}: --control-start (${unit.start}) must be below --control-end (${unit.end}).`);
    return unit;
  });
}
