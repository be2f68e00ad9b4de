/** `library list|import|remove|refresh`: the model and LoRA library of a data folder. */
import { StudioError } from '../../../shared/errors';
import type { LibraryItem, LibraryKind } from '../../../shared/domain/library';
import { LibraryService } from '../../services/library-service';
import { flag, parseArgs, type CliCommand, type CliIO } from '../command';
import { dataDirFromArgs } from '../data-dir';
import { openForCli } from '../store-access';

const KINDS: readonly LibraryKind[] = ['checkpoint', 'motion', 'lora'];

function kindFlag(value: string | undefined): LibraryKind | undefined {
  if (value === undefined) return undefined;
  if (!KINDS.includes(value as LibraryKind)) throw new StudioError('BAD_REQUEST', `--kind must be one of ${KINDS.join(', ')}.`);
  return value as LibraryKind;
}

function size(bytes: number): string {
  return bytes >= 1 << 30 ? `${(bytes / 2 ** 30).toFixed(2)} GB` : bytes >= 1 << 20 ? `${(bytes / 2 ** 20).toFixed(1)} MB` : `${(bytes / 1024).toFixed(0)} KB`;
}

function oneLine(i: LibraryItem): string {
  const flags = [i.favourite ? '★' : '', i.availability !== 'ok' ? `[${i.availability.toUpperCase()}]` : '', i.supported ? '' : '[unsupported]'].filter(Boolean).join(' ');
  return `#${String(i.id).padEnd(4)} ${i.kind.padEnd(10)} ${i.familyLabel.padEnd(14)} ${i.autov2}  ${size(i.sizeBytes).padStart(9)}  ${i.name}${flags ? `  ${flags}` : ''}${i.triggerWords.length ? `  (triggers: ${i.triggerWords.join(', ')})` : ''}`;
}

async function run(args: string[], io: CliIO): Promise<number> {
  const parsed = parseArgs(args, ['json', 'copy']);
  const json = parsed.bools.has('json');
  const sub = parsed.positionals[0];
  const out = (value: unknown, text: string) => io.stdout(json ? JSON.stringify(value) : text);
  if (sub !== 'list' && sub !== 'import' && sub !== 'remove' && sub !== 'refresh') {
    io.stderr(`Usage: npm run cli -- ${libraryCommand.usage}`);
    return 2;
  }
  const db = openForCli(dataDirFromArgs(parsed), io, { write: sub !== 'list' });
  try {
    const library = new LibraryService(db);
    switch (sub) {
      case 'list': {
        const items = await library.list({ kind: kindFlag(flag(parsed, 'kind')), text: flag(parsed, 'search') });
        out(items, items.length ? items.map(oneLine).join('\n') : 'The library is empty. Add a file with "library import <file>".');
        return 0;
      }
      case 'import': {
        const file = parsed.positionals[1];
        if (!file) throw new StudioError('BAD_REQUEST', 'library import needs a file, e.g. "library import ~/models/my-lora.safetensors [--copy]".');
        const res = await library.importFile(file, { mode: parsed.bools.has('copy') ? 'copy' : 'reference', kind: kindFlag(flag(parsed, 'kind')), name: flag(parsed, 'name') });
        const i = res.item;
        const note = i.supported ? '' : `\nCannot be used: ${i.supportMessage}`;
        // An unusable file is kept (its card says why) but never reported as "Imported".
        const verb = res.existing ? 'Already in the library' : i.supported ? 'Imported' : 'Added, not usable';
        out(res, `${verb}: #${i.id} ${i.name} (${i.kind}, ${i.familyLabel}, AutoV2 ${i.autov2}${i.autov3 ? `, AutoV3 ${i.autov3}` : ''})${note}`);
        return 0;
      }
      case 'remove': {
        const raw = parsed.positionals[1];
        const id = Number(raw);
        if (!raw || !Number.isSafeInteger(id) || id <= 0) throw new StudioError('BAD_REQUEST', 'library remove needs an item id, e.g. "library remove 3".');
        const item = await library.getItem(id);
        await library.removeItem(id);
        out({ removed: item }, `Removed #${id} ${item.name} from the library${item.storage === 'copy' ? ' (and its copy in the data folder)' : ' (your file was not touched)'}.`);
        return 0;
      }
      case 'refresh': {
        const r = await library.refresh();
        out(r, `Checked ${r.checked} item(s): ${r.missing} missing, ${r.changed} changed.`);
        return 0;
      }
    }
  } finally {
    db.close();
  }
}

export const libraryCommand: CliCommand = {
  name: 'library',
  summary: 'List, import or remove models, motion modules and LoRAs in the library',
  usage:
    'library list [--kind checkpoint|motion|lora] [--search <text>] | library import <file> [--copy] [--kind …] [--name …] | library remove <id> | library refresh\n' +
    '       (all: [--json] [--data-dir <dir>]; import without --copy keeps a reference to your file)',
  run,
};
