/** `library list|import|remove|refresh`: the model and LoRA library of a data folder. */
import { StudioError } from '../../../shared/errors';
import { LIBRARY_KINDS, type FolderLayout, type LibraryItem, type LibraryKind, type ModelFolder } from '../../../shared/domain/library';
import { LibraryService } from '../../services/library-service';
import { ModelFolderService } from '../../services/model-folders';
import { flag, parseArgs, type CliCommand, type CliIO } from '../command';
import { dataDirFromArgs } from '../data-dir';
import { openForCli } from '../store-access';

const KINDS = LIBRARY_KINDS;
const LAYOUTS: readonly FolderLayout[] = ['a1111', 'comfyui', 'plain'];

function layoutFlag(value: string | undefined): FolderLayout | undefined {
  if (value === undefined) return undefined;
  if (!LAYOUTS.includes(value as FolderLayout)) throw new StudioError('BAD_REQUEST', `--layout must be one of ${LAYOUTS.join(', ')}.`);
  return value as FolderLayout;
}

/** A list entry for tools: the item plus where it came from and whether it is complete enough to use. */
function listed(i: LibraryItem, folders: ReadonlyMap<number, ModelFolder>) {
  const folder = i.folderId !== null ? folders.get(i.folderId) : undefined;
  return {
    ...i,
    completeness: i.supported ? 'usable' : (i.supportMessage ?? 'not usable'),
    previewPath: i.preview && !i.preview.startsWith('data:') ? i.preview : null,
    source: folder ? { type: 'folder', folderId: folder.id, folder: folder.path, layout: folder.layout } : { type: i.storage === 'copy' ? 'copy' : 'import' },
  };
}

function folderLine(f: ModelFolder): string {
  const state = f.status === 'offline' ? 'OFFLINE' : f.pending ? `hashing ${f.done}/${f.files}` : 'indexed';
  return `#${String(f.id).padEnd(3)} ${f.layout.padEnd(8)} ${state.padEnd(18)} ${f.files} file(s), ${f.done} in the library, ${f.failed} not usable  ${f.path}${f.note ? `\n      ${f.note}` : ''}`;
}

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
  if (sub !== 'list' && sub !== 'import' && sub !== 'remove' && sub !== 'refresh' && sub !== 'add-folder' && sub !== 'folders') {
    io.stderr(`Usage: npm run cli -- ${libraryCommand.usage}`);
    return 2;
  }
  const db = openForCli(dataDirFromArgs(parsed), io, { write: sub !== 'list' && sub !== 'folders' });
  try {
    const library = new LibraryService(db);
    switch (sub) {
      case 'list': {
        const items = await library.list({ kind: kindFlag(flag(parsed, 'kind')), text: flag(parsed, 'search') });
        const folders = new Map(new ModelFolderService(db, library).listFolders().map((f) => [f.id, f]));
        out(items.map((i) => listed(i, folders)), items.length ? items.map(oneLine).join('\n') : 'The library is empty. Add a file with "library import <file>".');
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
      case 'add-folder': {
        const dir = parsed.positionals[1];
        if (!dir) throw new StudioError('BAD_REQUEST', 'library add-folder needs a folder, e.g. "library add-folder ~/stable-diffusion-webui --layout a1111".');
        let last = 0;
        const folders = new ModelFolderService(db, library, undefined, (p) => {
          // One progress line a second at most, on stderr, so --json stdout stays one document.
          if (Date.now() - last < 1000 && p.done !== p.total) return;
          last = Date.now();
          io.stderr(`hashing ${p.done}/${p.total}: ${p.path}`);
        });
        const scan = await folders.addFolder(dir, layoutFlag(flag(parsed, 'layout')));
        await folders.hashPending(scan.folder.id);
        const folder = folders.listFolders().find((f) => f.id === scan.folder.id)!;
        const notes = folders.notes(folder.id);
        out(
          { folder, scan: { added: scan.added, removed: scan.removed, changed: scan.changed, renamed: scan.renamed, unchanged: scan.unchanged }, notes },
          [folderLine(folder), ...notes.map((n) => `  ${n.path}: ${n.note}`)].join('\n'),
        );
        return 0;
      }
      case 'folders': {
        const list = new ModelFolderService(db, library).listFolders();
        out(list, list.length ? list.map(folderLine).join('\n') : 'No model folders. Add one with "library add-folder <dir>".');
        return 0;
      }
      case 'refresh': {
        const folders = new ModelFolderService(db, library);
        const r = await library.refresh();
        // Folders after files: a folder whose root is gone turns its items 'offline' rather than 'missing'.
        await folders.rescanAll();
        Object.assign(r, { items: await library.list(), folders: folders.listFolders() });
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
    `library list [--kind ${KINDS.join('|')}] [--search <text>] | library import <file> [--copy] [--kind …] [--name …] | library remove <id> | library refresh\n` +
    '       library add-folder <dir> [--layout a1111|comfyui|plain] (indexed in place, never copied) | library folders\n' +
    '       (all: [--json] [--data-dir <dir>]; import without --copy keeps a reference to your file)',
  run,
};
