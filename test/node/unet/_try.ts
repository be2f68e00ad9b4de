import { unet2dHandler } from '../../../src/main/verify/kinds/unet2d';
import { formatComparison } from '../../../src/main/verify/compare';
import { mkdtempSync, readFileSync } from 'node:fs';
const dir = '/work/main/test/fixtures/reference/unet2d';
const t0 = Date.now();
await unet2dHandler.run({ dir, name: 'unet2d', files: JSON.parse(readFileSync(dir + '/files.json', 'utf8')), workDir: mkdtempSync('/tmp/u2d-'), report: (c) => console.log(formatComparison(c)) }).catch((e) => console.log('ERR', e.message));
console.log('ms', Date.now() - t0);
