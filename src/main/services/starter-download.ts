/**
 * First run: download one of the files AnimateLCM needs (shared/domain/starter-files) into the models folder and
 * import it into the library (by reference: the models folder is the creator's copy).
 */
import { join } from 'node:path';
import { StudioError } from '../../shared/errors';
import type { ImportResult } from '../../shared/domain/library';
import type { StarterFile } from '../../shared/domain/starter-files';
import type { LibraryService } from './library-service';
import { downloadModel, type DownloadOptions } from './model-download';

/** `baseUrl` replaces the address's origin (tests point it at 127.0.0.1; the studio never sets it). */
export async function downloadStarterFile(
  file: StarterFile,
  modelsDir: string,
  library: LibraryService,
  opts: DownloadOptions & { baseUrl?: string } = {},
): Promise<ImportResult> {
  if (!file.url) throw new StudioError('BAD_REQUEST', `${file.role}: choose your own file (add your model folder or import a checkpoint).`, { id: file.id });
  const url = opts.baseUrl ? new URL(new URL(file.url).pathname, opts.baseUrl).toString() : file.url;
  const dest = join(modelsDir, file.fileName);
  await downloadModel({ url, dest, sha256: file.sha256 ?? undefined }, opts);
  return library.importFile(dest, { mode: 'reference' });
}
