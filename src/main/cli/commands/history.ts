/**
 * `history list|show|reroll|rerun|delete`: the generation history of a data folder.
 * reroll/rerun make the new record and run it to the end through the studio's own queue (GenerationService, engine
 * worker process), so the record ends done (frames in `<data>/outputs/<id>/`), failed or cancelled — never left
 * queued for a queue that does not exist once the command exits (the next start would call it interrupted).
 */
import { StudioError } from '../../../shared/errors';
import type { JobStatus } from '../../../shared/domain/generation';
import type { GenerationFilter, GenerationRecord } from '../../../shared/domain/history';
import { EngineHost } from '../../services/engine-host';
import { GenerationService } from '../../services/generation-service';
import { HistoryService } from '../../services/history-service';
import type { StudioDatabase } from '../../store/database';
import { flag, parseArgs, type CliCommand, type CliIO } from '../command';
import { dataDirFromArgs } from '../data-dir';
import { progressPrinter } from '../progress-printer';
import { openForCli } from '../store-access';

const STATUSES: readonly JobStatus[] = ['queued', 'running', 'done', 'failed', 'cancelled', 'interrupted'];

function usageError(message: string): StudioError {
  return new StudioError('BAD_REQUEST', message);
}

function idArg(positionals: string[], sub: string): number {
  const raw = positionals[1];
  const id = Number(raw);
  if (raw === undefined || !Number.isSafeInteger(id) || id <= 0) throw usageError(`history ${sub} needs a generation id (a positive whole number), e.g. "history ${sub} 12".`);
  return id;
}

function intFlag(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw usageError(`--${name} must be a whole number ≥ 0 (got "${value}").`);
  return n;
}

function oneLine(r: GenerationRecord): string {
  const p = r.params;
  const when = r.createdAt.slice(0, 16).replace('T', ' ');
  const prompt = p.prompt.length > 60 ? `${p.prompt.slice(0, 57)}…` : p.prompt;
  return `#${String(r.id).padEnd(5)} ${r.status.padEnd(11)} ${when}  seed ${String(p.seed).padEnd(10)} ${p.steps} steps  ${p.frames}f ${p.width}×${p.height}${r.favourite ? '  ★' : ''}  "${prompt}"`;
}

function details(r: GenerationRecord): string {
  const p = r.params;
  const lines = [
    `Generation #${r.id} (${r.status})${r.favourite ? ' ★' : ''}${r.parentId !== null ? `, ${r.origin} of #${r.parentId}` : ''}`,
    `  prompt:    ${p.prompt}`,
    `  negative:  ${p.negativePrompt}`,
    `  seed ${p.seed}, ${p.steps} steps, guidance ${p.guidance}, ${p.frames} frames at ${p.width}×${p.height}, ${p.fps} fps, clip skip ${p.clipSkip}`,
    `  model:     ${p.model ?? '(starter model)'}${r.hashes.model ? ` [${r.hashes.model.slice(0, 10)}]` : ''}`,
    `  motion:    ${p.motion ?? '(starter motion module)'}${r.hashes.motion ? ` [${r.hashes.motion.slice(0, 10)}]` : ''}`,
    ...p.loras.map((l, i) => `  lora:      ${l.path} × ${l.weight}${l.enabled === false ? ' (off)' : ''}${r.hashes.loras[i] ? ` [${r.hashes.loras[i]!.slice(0, 10)}]` : ''}`),
    `  noise:     ${r.noise.name} v${r.noise.version}; engine ${r.engineVersion}`,
    `  created:   ${r.createdAt}${r.startedAt ? `, started ${r.startedAt}` : ''}${r.finishedAt ? `, finished ${r.finishedAt}` : ''}`,
  ];
  const timings = Object.entries(r.timings);
  if (timings.length) lines.push(`  timings:   ${timings.map(([k, v]) => `${k} ${Math.round(v)} ms`).join(', ')}`);
  if (r.error) lines.push(`  error:     [${r.error.code}] ${r.error.message}`);
  if (r.outputs) {
    if (r.outputs.framesDir) lines.push(`  frames:    ${r.outputs.framesDir} (${r.outputs.frameCount})`);
    for (const v of r.outputs.videos) lines.push(`  video:     ${v}`);
  }
  return lines.join('\n');
}

async function run(args: string[], io: CliIO): Promise<number> {
  const parsed = parseArgs(args, ['json', 'favourite']);
  const json = parsed.bools.has('json');
  const sub = parsed.positionals[0];
  const dataDir = dataDirFromArgs(parsed);
  const out = (value: unknown, text: string) => io.stdout(json ? JSON.stringify(value) : text);

  if (sub !== 'list' && sub !== 'show' && sub !== 'reroll' && sub !== 'rerun' && sub !== 'delete') {
    io.stderr(`Usage: npm run cli -- ${historyCommand.usage}`);
    return 2;
  }
  const db = openForCli(dataDir, io, { write: sub === 'reroll' || sub === 'rerun' || sub === 'delete' });
  try {
    const history = new HistoryService(db);
    switch (sub) {
      case 'list': {
        const status = flag(parsed, 'status');
        if (status !== undefined && !STATUSES.includes(status as JobStatus)) throw usageError(`--status must be one of ${STATUSES.join(', ')}.`);
        const filter: GenerationFilter = {
          text: flag(parsed, 'search'),
          model: flag(parsed, 'model'),
          lora: flag(parsed, 'lora'),
          from: flag(parsed, 'from'),
          to: flag(parsed, 'to'),
          favourite: parsed.bools.has('favourite') ? true : undefined,
          status: status as JobStatus | undefined,
          limit: intFlag(flag(parsed, 'limit'), 'limit'),
          offset: intFlag(flag(parsed, 'offset'), 'offset'),
        };
        const page = await history.listGenerations(filter);
        const text = page.items.length
          ? [...page.items.map(oneLine), `(${page.offset + 1}–${page.offset + page.items.length} of ${page.total})`].join('\n')
          : `No generations${page.total ? ` on this page (${page.total} in total)` : ''} in ${dataDir}.`;
        out(page, text);
        return 0;
      }
      case 'show': {
        const r = await history.getGeneration(idArg(parsed.positionals, sub));
        out(r, details(r));
        return 0;
      }
      case 'reroll':
      case 'rerun': {
        const id = idArg(parsed.positionals, sub);
        const seed = intFlag(flag(parsed, 'seed'), 'seed');
        const r = await runFromHistory(db, dataDir, io, sub === 'reroll' ? { reroll: id, seed } : { rerun: id });
        out(r, `Generation #${r.id} (${sub} of #${id}, seed ${r.params.seed}) done: ${r.outputs?.frameCount ?? 0} frames in ${r.outputs?.framesDir ?? '?'}\n${details(r)}`);
        return 0;
      }
      case 'delete': {
        const res = await history.deleteGeneration(idArg(parsed.positionals, sub));
        const kept = res.keptFiles.length ? `; kept ${res.keptFiles.length} file(s) outside the data folder: ${res.keptFiles.join(', ')}` : '';
        out(res, `Deleted generation #${res.id}: ${res.removedFiles.length} output(s) removed, ${res.removedClips} timeline clip(s) removed${kept}.`);
        return 0;
      }
    }
  } finally {
    db.close();
  }
}

/**
 * Re-roll or re-run exactly: the queue makes the new record and runs it in an engine worker; progress goes to
 * stderr, Ctrl-C cancels. Resolves with the finished record; a failed or cancelled run throws its error.
 */
async function runFromHistory(db: StudioDatabase, dataDir: string, io: CliIO, what: { reroll: number; seed?: number } | { rerun: number }): Promise<GenerationRecord> {
  const history = new HistoryService(db);
  const engine = new EngineHost();
  const printer = progressPrinter(io);
  const queue = new GenerationService({
    engine,
    history,
    dataDir,
    emit: (event, payload) => {
      if (event === 'onJobProgress') printer.onProgress(payload as Parameters<typeof printer.onProgress>[0]);
    },
  });
  let jobId: string | undefined;
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
    if (jobId) void queue.cancel(jobId);
  };
  process.once('SIGINT', onSigint);
  try {
    const job = 'reroll' in what ? await queue.reroll(what.reroll, { seed: what.seed }) : await queue.rerunExact(what.rerun);
    jobId = job.jobId;
    // Ctrl-C while the record was being made had no job to cancel yet.
    if (interrupted) await queue.cancel(jobId);
    const view = await queue.settled(job.jobId);
    printer.finish();
    const rec = await history.getGeneration(job.generationId);
    if (view.status === 'done') return rec;
    const from = 'reroll' in what ? `re-roll of #${what.reroll}` : `re-run of #${what.rerun}`;
    if (view.status === 'cancelled') throw new StudioError('CANCELLED', `Generation #${rec.id} (${from}) was cancelled.`, { id: rec.id });
    const err = view.error ?? rec.error;
    throw new StudioError(err?.code ?? 'INTERNAL', `Generation #${rec.id} (${from}) failed: ${err?.message ?? 'unknown error'}`, { id: rec.id, cause: err });
  } finally {
    printer.finish();
    process.off('SIGINT', onSigint);
    await queue.dispose();
    await engine.dispose();
  }
}

export const historyCommand: CliCommand = {
  name: 'history',
  summary: 'List, show, re-roll, re-run or delete generations in the history',
  usage:
    'history list [--search <words>] [--status <s>] [--model <hash|path>] [--lora <hash|path>] [--from <date>] [--to <date>] [--favourite] [--limit N] [--offset N]\n' +
    '       history show <id> | history reroll <id> [--seed N] | history rerun <id> | history delete <id>\n' +
    '       (all: [--json] [--data-dir <dir>]; reroll/rerun generate the new record\'s frames into <data dir>/outputs/<id>/ and print it)',
  run,
};
