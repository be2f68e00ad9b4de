import type { ControlNetUnit } from '../../../shared/domain/controlnet';
import { hashModelFile } from '../../compiler/io/hash';
import { hashMediaInput } from '../../media/hash-input';

/**
 * Each unit with the SHA-256 of its ControlNet file and of its conditioning input (a file's bytes, or a folder's
 * frames in order), as the history records them (`modelSha256`, `controlSha256` in params.controlNets, which
 * exports embed). One function for both paths: the CLI calls it directly; the studio queue runs it in the engine
 * worker (the 'hash-control-units' job), since a ControlNet file is hundreds of megabytes.
 */
export async function hashControlUnits(units: readonly ControlNetUnit[]): Promise<ControlNetUnit[]> {
  // A switched-off unit takes no part in the clip; its files may be missing, so it is kept as sent, unhashed.
  return Promise.all(
    units.map(async (u) => (u.enabled === false ? u : { ...u, modelSha256: (await hashModelFile(u.model)).sha256.toLowerCase(), controlSha256: await hashMediaInput(u.control) })),
  );
}
