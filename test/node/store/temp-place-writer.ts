/**
 * Child process for temp-places.test.ts: records a folder outside the data folder, leaves a marked temporary in
 * it (as an export does), says "ready" and waits to be killed.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporarySibling } from '../../../src/main/store/atomic-files';
import { recordTempPlace } from '../../../src/main/store/temp-places';

const [dataDir, folder] = process.argv.slice(2);
recordTempPlace(dataDir, folder);
const tmp = temporarySibling(join(folder, 'clip.mp4'));
writeFileSync(tmp, 'half an mp4');
process.stdout.write(`ready ${tmp}\n`);
setInterval(() => undefined, 1000);
