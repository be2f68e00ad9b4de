import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * SHA-256 of a media input as recorded in the history: a file's bytes; for a folder of frames, each file's name
 * and bytes in name order (so renaming, reordering or editing a frame changes it).
 */
export async function hashMediaInput(path: string): Promise<string> {
  const h = createHash('sha256');
  const add = (file: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const s = createReadStream(file);
      s.on('data', (d) => h.update(d));
      s.on('error', reject);
      s.on('end', () => resolve());
    });
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))) {
      const p = join(path, name);
      if (!statSync(p).isFile()) continue;
      h.update(`${name}\0`);
      await add(p);
    }
  } else await add(path);
  return h.digest('hex');
}
