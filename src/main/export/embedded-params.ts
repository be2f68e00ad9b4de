/**
 * Parameters inside exported files, per format — what is written and how it is read back:
 *
 *   format   A1111 text                        our JSON (complete GenerationParams)
 *   PNG      tEXt/iTXt "parameters"            tEXt/iTXt "animatelcm"
 *   GIF      Comment Extension (plain text)    Comment Extension starting "animatelcm:"
 *   MP4      "comment" tag (©cmt)              "description" tag (desc)
 *   WebM     COMMENT tag                       DESCRIPTION tag
 *
 * The JSON restores a clip exactly; the text is what other tools (A1111, Civitai, exiftool, viewers) show and is
 * parsed as a fallback for files that carry only it. A folder of frames reads its params.json.
 */
import { spawn } from 'node:child_process';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { EmbeddedParams } from '../../shared/domain/export';
import type { GenerationParams } from '../../shared/domain/generation';
import { StudioError } from '../../shared/errors';
import { locateFfmpeg, type FfmpegTools } from './ffmpeg-locate';
import { readGifComments } from './gif-comment';
import { PNG_JSON_KEY, PNG_TEXT_KEY, type ParamsPayload } from '../formats/params-payload';
import { coerceParams, formatParamsText, parseParamsText } from '../formats/params-text';
import { readPngText } from '../formats/png';

/** Prefix that marks our JSON among GIF comments. */
export const GIF_JSON_PREFIX = 'animatelcm:';

export function gifComments(p: ParamsPayload): string[] {
  return [p.text, GIF_JSON_PREFIX + p.json];
}

export function containerTags(p: ParamsPayload): Record<string, string> {
  return { comment: p.text, description: p.json };
}

function parseJson(s: string | undefined): GenerationParams | undefined {
  if (s === undefined) return undefined;
  try {
    return coerceParams(JSON.parse(s));
  } catch {
    return undefined;
  }
}

/** Combine whatever was found: JSON wins; text is parsed when it is all there is. */
function result(json: string | undefined, text: string | undefined): EmbeddedParams {
  const fromJson = parseJson(json);
  const out: EmbeddedParams = {};
  if (text !== undefined) out.text = text;
  if (fromJson) {
    out.params = fromJson;
    out.source = 'json';
  } else if (text !== undefined) {
    const parsed = parseParamsText(text);
    if (parsed) {
      out.params = parsed;
      out.source = 'text';
    }
  }
  return out;
}

function fromTags(tags: Record<string, string>): EmbeddedParams {
  const lower = new Map(Object.entries(tags).map(([k, v]) => [k.toLowerCase(), v]));
  const json = [lower.get('animatelcm'), lower.get('description')].find((s) => parseJson(s) !== undefined);
  const text = lower.get('parameters') ?? lower.get('comment');
  return result(json, text);
}

function runCapture(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Container tags with ffprobe. */
async function tagsWithFfprobe(ffprobe: string, file: string): Promise<Record<string, string>> {
  const r = await runCapture(ffprobe, ['-v', 'error', '-show_entries', 'format_tags', '-of', 'json', file]);
  if (r.code !== 0) throw new StudioError('FORMAT_UNKNOWN', `Cannot read ${file} as a video: ${r.stderr.trim()}`, { file });
  const j = JSON.parse(r.stdout) as { format?: { tags?: Record<string, string> } };
  return j.format?.tags ?? {};
}

/**
 * Container tags with ffmpeg alone (`-f ffmetadata`), for installs without ffprobe (ffmpeg-static ships none).
 * Format: `key=value` lines; `=`, `;`, `#`, `\` and newlines are backslash-escaped.
 */
export async function tagsWithFfmetadata(ffmpeg: string, file: string): Promise<Record<string, string>> {
  const r = await runCapture(ffmpeg, ['-v', 'error', '-i', file, '-f', 'ffmetadata', '-']);
  if (r.code !== 0) throw new StudioError('FORMAT_UNKNOWN', `Cannot read ${file} as a video: ${r.stderr.trim()}`, { file });
  return parseFfmetadata(r.stdout);
}

export function parseFfmetadata(text: string): Record<string, string> {
  const tags: Record<string, string> = {};
  // Join escaped newlines first: a value may span lines ending in a backslash.
  const lines: string[] = [];
  let cur = '';
  const raw = text.split('\n');
  for (let i = 0; i < raw.length; i++) {
    const l = raw[i];
    let bs = 0;
    for (let j = l.length - 1; j >= 0 && l[j] === '\\'; j--) bs++;
    if (bs % 2 === 1 && i < raw.length - 1) {
      cur += l.slice(0, -1) + '\n';
    } else {
      lines.push(cur + l);
      cur = '';
    }
  }
  for (const line of lines) {
    if (line.startsWith(';') || line.startsWith('[') || line.startsWith('#')) continue;
    let key = '';
    let value = '';
    let inValue = false;
    for (let i = 0; i < line.length; i++) {
      const ch = line[i];
      const target = (c: string) => (inValue ? (value += c) : (key += c));
      if (ch === '\\' && i + 1 < line.length) target(line[++i]);
      else if (ch === '=' && !inValue) inValue = true;
      else target(ch);
    }
    if (inValue && key) tags[key] = value;
  }
  return tags;
}

async function fromPngFile(file: string): Promise<EmbeddedParams> {
  const t = readPngText(await readFile(file));
  return result(t[PNG_JSON_KEY], t[PNG_TEXT_KEY]);
}

async function magic(file: string): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const b = Buffer.alloc(8);
    const { bytesRead } = await fh.read(b, 0, 8, 0);
    return b.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * Parameters embedded in an exported clip (MP4, WebM, GIF, PNG), a PNG-sequence folder or a generator frames
 * folder (params.json). Returns `{}` when the file carries none. Throws FILE_NOT_FOUND / FORMAT_UNKNOWN.
 */
export async function readEmbeddedParams(file: string, tools?: FfmpegTools): Promise<EmbeddedParams> {
  let st;
  try {
    st = await stat(file);
  } catch {
    throw new StudioError('FILE_NOT_FOUND', `${file} does not exist.`, { file });
  }
  if (st.isDirectory()) {
    try {
      const fromJson = coerceParams(JSON.parse(await readFile(join(file, 'params.json'), 'utf8')));
      if (fromJson) return { params: fromJson, text: formatParamsText(fromJson), source: 'json' };
    } catch {
      // no params.json: look at the first frame
    }
    const first = (await readdir(file)).filter((n) => n.toLowerCase().endsWith('.png')).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))[0];
    return first ? fromPngFile(join(file, first)) : {};
  }
  const head = await magic(file);
  if (head.length >= 8 && head.readUInt32BE(0) === 0x89504e47) return fromPngFile(file);
  if (head.toString('latin1', 0, 4) === 'GIF8') {
    const comments = readGifComments(await readFile(file));
    const json = comments.find((c) => c.startsWith(GIF_JSON_PREFIX))?.slice(GIF_JSON_PREFIX.length);
    const text = comments.find((c) => !c.startsWith(GIF_JSON_PREFIX));
    return result(json, text);
  }
  const t = tools ?? locateFfmpeg();
  const tags = t.ffprobe ? await tagsWithFfprobe(t.ffprobe, file) : await tagsWithFfmetadata(t.ffmpeg, file);
  return fromTags(tags);
}
