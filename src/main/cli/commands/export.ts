/**
 * `export <history-id|timeline:id|frames-dir> --format mp4|webm|gif|png --out <path> …`: one clip, a whole
 * timeline or a folder of PNG frames into one file (or a PNG-sequence folder). A bare number is a history id;
 * `timeline:<id>` (or `--timeline`) a timeline; an existing folder a frames folder (its params.json, if any, is
 * embedded). Progress is drawn on stderr when it is a terminal.
 *
 * `--out` is an absolute path (`npm run` starts in the project folder, so a relative one would not mean the
 * shell's folder); an existing file is replaced only with `--overwrite`, a folder never; without `--out` a free
 * name in the data folder's exports/.
 */
import { existsSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { EXPORT_FORMATS, EXPORT_QUALITIES, type ExportFormat, type ExportOptions, type ExportProgress, type ExportQuality, type ExportSource } from '../../../shared/domain/export';
import { StudioError } from '../../../shared/errors';
import { readFramesParams } from '../../export/frame-plan';
import { ExportService, storeLookup } from '../../services/export-service';
import { flag, parseArgs, type CliCommand, type CliIO } from '../command';
import { dataDirFromArgs } from '../data-dir';
import { openForCli } from '../store-access';

const USAGE =
  'export <history-id|timeline:<id>|frames-dir> --format mp4|webm|gif|png --out <path> [--fps N] [--quality low|medium|high|max|<crf>] ' +
  '[--scale WxH] [--loop N] [--pingpong] [--source-fps N] [--timeline] [--no-params] [--overwrite] [--data-dir <dir>] [--json]';

function usage(message: string): StudioError {
  return new StudioError('BAD_REQUEST', `${message}\nUsage: npm run cli -- ${USAGE}`);
}

function positiveNumber(v: string | undefined, name: string, integer = false): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw usage(`--${name} must be a ${integer ? 'whole ' : ''}number above 0 (got "${v}").`);
  return n;
}

export function parseScale(v: string | undefined): { width: number; height: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)[x×:](\d+)$/i.exec(v.trim());
  if (!m) throw usage(`--scale must look like 512x512 (use 0 for one side to keep the aspect ratio), got "${v}".`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

function formatOf(p: ReturnType<typeof parseArgs>, out: string | undefined): ExportFormat {
  const f = flag(p, 'format') ?? (out ? extname(out).slice(1).toLowerCase() : '');
  if (!EXPORT_FORMATS.includes(f as ExportFormat)) throw usage(`--format must be one of ${EXPORT_FORMATS.join(', ')}${f ? ` (got "${f}")` : ''}.`);
  return f as ExportFormat;
}

function progressBar(io: CliIO): (p: ExportProgress) => void {
  if (!io.isTTY) return () => undefined;
  return (p) => {
    const width = 30;
    const filled = Math.round(p.fraction * width);
    process.stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(p.fraction * 100)).padStart(3)}%  ${p.frame}/${p.totalFrames} frames${p.done ? '\n' : ''}`);
  };
}

export const exportCommand: CliCommand = {
  name: 'export',
  summary: 'Export a generation, a timeline or a folder of PNG frames to MP4, WebM, GIF or a PNG sequence',
  usage: USAGE,
  async run(args, io) {
    const p = parseArgs(args, ['json', 'pingpong', 'timeline', 'no-params', 'overwrite']);
    const target = p.positionals[0];
    if (!target) throw usage('Say what to export: a history id, timeline:<id> or a folder of PNG frames.');
    const out = flag(p, 'out');
    const format = formatOf(p, out);
    const options: ExportOptions = { format };
    const fps = positiveNumber(flag(p, 'fps'), 'fps');
    if (fps !== undefined) options.fps = fps;
    const q = flag(p, 'quality');
    if (q !== undefined) {
      if (EXPORT_QUALITIES.includes(q as ExportQuality)) options.quality = q as ExportQuality;
      else if (/^\d+$/.test(q)) options.crf = Number(q);
      else throw usage(`--quality must be one of ${EXPORT_QUALITIES.join(', ')} or a CRF number (got "${q}").`);
    }
    const scale = parseScale(flag(p, 'scale'));
    if (scale) options.scale = scale;
    const loop = positiveNumber(flag(p, 'loop'), 'loop', true);
    if (loop !== undefined) options.loop = loop;
    if (p.bools.has('pingpong')) options.pingpong = true;
    if (p.bools.has('no-params')) options.stripParams = true;

    const dataDir = dataDirFromArgs(p);
    let source: ExportSource;
    let dest = out;
    let service: ExportService;
    const timelineMatch = /^(?:timeline|t):(\d+)$/i.exec(target);
    const historyMatch = /^(?:#|gen:|generation:)?(\d+)$/i.exec(target);
    const isDir = existsSync(target) && statSync(target).isDirectory();
    let close = () => undefined as void;
    if (isDir) {
      const dir = resolve(target);
      const params = readFramesParams(dir);
      const sourceFps = positiveNumber(flag(p, 'source-fps'), 'source-fps') ?? params?.fps ?? 8;
      source = params ? { kind: 'frames', dir, fps: sourceFps, params } : { kind: 'frames', dir, fps: sourceFps };
      if (!dest) throw usage('--out is needed when exporting a frames folder.');
      service = new ExportService({ dataDir, lookup: { getGeneration: notStore, getTimeline: notStore } });
    } else if (timelineMatch || historyMatch) {
      const id = Number((timelineMatch ?? historyMatch)![1]);
      const db = openForCli(dataDir, io, { write: false });
      close = () => db.close();
      service = new ExportService({ dataDir, lookup: storeLookup(db) });
      const job = timelineMatch || p.bools.has('timeline') ? await service.timelineJob(id, options, dest) : await service.generationJob(id, options, dest);
      source = job.source;
      dest = job.out;
    } else {
      throw usage(`"${target}" is neither a history id, timeline:<id>, nor an existing folder of frames.`);
    }

    try {
      const controller = new AbortController();
      const onSigint = () => controller.abort();
      process.once('SIGINT', onSigint);
      try {
        const r = await service.run({ source, options, out: dest!, overwrite: p.bools.has('overwrite'), signal: controller.signal, onProgress: progressBar(io) }).catch((e: unknown) => {
          // The one way past an existing file, in this tool's words.
          if (e instanceof StudioError && e.code === 'EXPORT_TARGET_EXISTS' && e.details?.existing === 'file' && format !== 'png') {
            throw new StudioError(e.code, `${e.message} Or add --overwrite to replace the file.`, e.details);
          }
          throw e;
        });
        if (p.bools.has('json')) io.stdout(JSON.stringify(r));
        else io.stdout(`Exported ${r.frames} frames, ${r.width}×${r.height} at ${r.fps} fps (${(r.durationMs / 1000).toFixed(2)} s, ${(r.bytes / 1024).toFixed(1)} KiB) → ${r.path}`);
        return 0;
      } finally {
        process.off('SIGINT', onSigint);
      }
    } finally {
      close();
    }
  },
};

function notStore(): never {
  throw new StudioError('INTERNAL', 'A frames-folder export does not read the history.');
}
