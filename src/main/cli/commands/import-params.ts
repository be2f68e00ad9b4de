/**
 * `import-params <file> [--json]`: the generation parameters embedded in an exported clip (MP4, WebM, GIF, PNG),
 * a PNG-sequence folder or a frames folder — what drag-and-drop into the app restores.
 */
import { StudioError } from '../../../shared/errors';
import { readEmbeddedParams } from '../../export/embedded-params';
import { formatParamsText } from '../../formats/params-text';
import { parseArgs, type CliCommand } from '../command';

export const importParamsCommand: CliCommand = {
  name: 'import-params',
  summary: 'Read the generation parameters embedded in an exported clip (MP4, WebM, GIF, PNG)',
  usage: 'import-params <file> [--json]',
  async run(args, io) {
    const p = parseArgs(args, ['json']);
    const file = p.positionals[0];
    if (!file) {
      io.stderr(`Usage: npm run cli -- ${importParamsCommand.usage}`);
      return 2;
    }
    const found = await readEmbeddedParams(file);
    if (!found.params && !found.text) {
      throw new StudioError('NOT_FOUND', `${file} carries no generation parameters (it was not exported by the studio, or they were stripped).`, { file });
    }
    if (p.bools.has('json')) {
      io.stdout(JSON.stringify(found));
      return 0;
    }
    io.stdout(found.text ?? formatParamsText(found.params!));
    if (found.source === 'text') io.stderr('Note: only the A1111-style text was found; fields it does not carry keep their defaults.');
    return 0;
  },
};
