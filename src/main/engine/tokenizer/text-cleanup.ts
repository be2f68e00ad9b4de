import { HTML_ENTITIES, HTML_LEGACY_NAMES } from './html-entities';

/**
 * The text clean-up openai/CLIP's SimpleTokenizer runs before BPE (`basic_clean` + `whitespace_clean` + lower):
 *   ftfy.fix_text → html.unescape → html.unescape → strip → collapse whitespace → lower-case.
 *
 * `fixText` is a faithful subset of ftfy 6.3's `fix_text` with its default configuration, enough for the prompts
 * people type (and every prompt in test/fixtures/tokenizer): HTML entities (only when the line has no `<`),
 * mojibake repair for UTF-8 misread as Latin-1 / Windows-1252 (whole text, or embedded sequences), C1 controls,
 * Latin ligatures, fullwidth/halfwidth forms, curly quotes, line breaks, lone surrogates, terminal escapes,
 * control characters and NFC. Not covered: ftfy's badness heuristic for mixups between *other* single-byte
 * encodings (MacRoman, cp437, Cyrillic/Greek code pages) and the `restore_byte_a0` / lossy-sequence repairs;
 * ftfy itself leaves most of those untouched.
 */

/** Python's `str.isspace` set (used by `re` `\s`, `strip()`). */
export const PY_WHITESPACE = '\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WS_RUN = new RegExp(`[${PY_WHITESPACE}]+`, 'gu');
const WS_EDGES = new RegExp(`^[${PY_WHITESPACE}]+|[${PY_WHITESPACE}]+$`, 'gu');

/** Windows-1252 bytes 0x80–0x9F (undefined ones map to the C1 control of the same number, "sloppy" decoding). */
const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];
const CP1252_ENCODE = new Map<number, number>(CP1252_HIGH.map((cp, i) => [cp, 0x80 + i]));

/** The byte a character would have come from if UTF-8 bytes were decoded as Latin-1 or sloppy Windows-1252. */
function mojibakeByte(cp: number): number | undefined {
  if (cp <= 0xff) return cp;
  return CP1252_ENCODE.get(cp);
}

function charClass(bytes: (b: number) => boolean): string {
  const chars: string[] = [];
  for (let cp = 0; cp <= 0xffff; cp++) {
    const b = mojibakeByte(cp);
    if (b !== undefined && bytes(b)) chars.push(cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`);
  }
  return `[${chars.join('')}]`;
}

const CONT = charClass((b) => b >= 0x80 && b <= 0xbf);
const LEAD2 = charClass((b) => b >= 0xc2 && b <= 0xdf);
const LEAD3 = charClass((b) => b >= 0xe0 && b <= 0xef);
const LEAD4 = charClass((b) => b >= 0xf0 && b <= 0xf4);
/** A character sequence that reads as one UTF-8-encoded character misdecoded one byte per character. */
const UTF8_MOJIBAKE = new RegExp(`${LEAD2}${CONT}|${LEAD3}${CONT}{2}|${LEAD4}${CONT}{3}`, 'g');

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Re-encodes each character as its single byte and decodes as UTF-8; undefined when that is not valid UTF-8. */
function redecodeUtf8(text: string): string | undefined {
  const bytes = new Uint8Array(text.length);
  let n = 0;
  for (const ch of text) {
    const b = mojibakeByte(ch.codePointAt(0) ?? 0);
    if (b === undefined) return undefined;
    bytes[n++] = b;
  }
  try {
    return utf8Strict.decode(bytes.subarray(0, n));
  } catch {
    return undefined;
  }
}

/** ftfy `fix_encoding`, one step: whole-text repair when the text as bytes is UTF-8, else embedded sequences. */
function fixEncodingStep(text: string): string {
   
  if (/^[\x00-\x7f]*$/.test(text)) return text;
  UTF8_MOJIBAKE.lastIndex = 0;
  const bad = UTF8_MOJIBAKE.test(text);
  if (bad) {
    const whole = redecodeUtf8(text);
    if (whole !== undefined) return whole;
    const fixed = text.replace(UTF8_MOJIBAKE, (m) => redecodeUtf8(m) ?? m);
    if (fixed !== text) return fixed;
  }
  // Latin-1 text holding C1 controls was meant as Windows-1252.
  return fixC1Controls(text);
}

function fixEncoding(text: string): string {
  for (let i = 0; i < 16; i++) {
    const next = fixEncodingStep(text);
    if (next === text) return text;
    text = next;
  }
  return text;
}

function fixC1Controls(text: string): string {
   
  return text.replace(/[\x80-\x9f]/g, (c) => String.fromCodePoint(CP1252_HIGH[c.charCodeAt(0) - 0x80]));
}

/** ftfy `fix_latin_ligatures`: the Latin ligatures and digraphs, by NFKC. */
const LIGATURES = /[\u0132\u0133\u0149\u01c4-\u01cc\u01f1-\u01f3\ufb00-\ufb06]/gu;

/** ftfy `fix_character_width`: U+3000 → space, and every FF01–FFEF form that NFKC changes. */
const WIDTH = /[\u3000\uff01-\uffef]/gu;
function fixCharacterWidth(text: string): string {
  return text.replace(WIDTH, (c) => (c === '\u3000' ? ' ' : c.normalize('NFKC')));
}

/** ftfy `uncurl_quotes`. */
function uncurlQuotes(text: string): string {
  return text.replace(/[\u02bc\u2018-\u201b]/g, "'").replace(/[\u201c-\u201f]/g, '"');
}

/** ftfy `fix_line_breaks`. */
function fixLineBreaks(text: string): string {
  return text.replace(/\r\n|[\r\u2028\u2029\x85]/g, '\n');
}

/** ftfy `fix_surrogates`: JS already pairs surrogates; lone ones become U+FFFD. */
function fixSurrogates(text: string): string {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** ftfy `remove_terminal_escapes`. */
function removeTerminalEscapes(text: string): string {
   
  return text.replace(/\x1b\[((?:\d|;)*)([a-zA-Z])/g, '');
}

/** ftfy `remove_control_chars`: C0 controls but tab/LF/FF/CR, DEL, deprecated format chars, BOM, FFF9–FFFC. */
function removeControlChars(text: string): string {
   
  return text.replace(/[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g, '');
}

/** ftfy `unescape_html`: `&name;` / `&#…;` only (semicolon required), plus upper-cased names like `&EACUTE;`. */
function ftfyUnescapeHtml(text: string): string {
  return text.replace(/&#?[0-9A-Za-z]{1,24};/g, (m) => {
    if (m.startsWith('&#')) {
      const u = htmlUnescape(m);
      return u.includes(';') ? m : u;
    }
    const name = m.slice(1, -1);
    const direct = HTML_ENTITIES.get(name);
    if (direct !== undefined) return direct;
    const lower = name.toLowerCase();
    if (name === name.toUpperCase() && !HTML_ENTITIES.has(name)) {
      const v = HTML_ENTITIES.get(lower);
      if (v !== undefined) return v.toUpperCase();
    }
    return m;
  });
}

function fixSegment(segment: string, unescape: boolean): string {
  let text = segment;
  for (let guard = 0; guard < 16; guard++) {
    const orig = text;
    if (unescape) text = ftfyUnescapeHtml(text);
    text = fixEncoding(text);
    text = fixC1Controls(text);
    text = text.replace(LIGATURES, (c) => c.normalize('NFKC'));
    text = fixCharacterWidth(text);
    text = uncurlQuotes(text);
    text = fixLineBreaks(text);
    text = fixSurrogates(text);
    text = removeTerminalEscapes(text);
    text = removeControlChars(text);
    text = text.normalize('NFC');
    if (text === orig) break;
  }
  return text;
}

/** ftfy.fix_text (default configuration), line by line; once a line holds `<`, HTML is no longer unescaped. */
export function fixText(text: string): string {
  let unescape = true;
  const out: string[] = [];
  let pos = 0;
  while (pos < text.length) {
    let end = text.indexOf('\n', pos) + 1;
    if (end === 0) end = text.length;
    const segment = text.slice(pos, end);
    if (unescape && segment.includes('<')) unescape = false;
    out.push(fixSegment(segment, unescape));
    pos = end;
  }
  return out.join('');
}

/** Python's `_invalid_charrefs`: numeric references the HTML5 spec remaps. */
const INVALID_CHARREFS = new Map<number, string>([
  [0x00, '\ufffd'],
  [0x0d, '\r'],
  ...CP1252_HIGH.map((cp, i) => [0x80 + i, String.fromCodePoint(cp)] as [number, string]),
]);

function isInvalidCodepoint(n: number): boolean {
  return (
    (n >= 0x1 && n <= 0x8) || n === 0xb || (n >= 0xe && n <= 0x1f) || (n >= 0x7f && n <= 0x9f) ||
    (n >= 0xfdd0 && n <= 0xfdef) || (n & 0xfffe) === 0xfffe
  );
}

/** Python's `html.unescape` (numeric references, and the named ones of html-entities.ts). */
export function htmlUnescape(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/g, (whole, ref: string) => {
    if (ref[0] === '#') {
      const hex = ref[1] === 'x' || ref[1] === 'X';
      const digits = ref.slice(hex ? 2 : 1).replace(/;$/, '');
      const num = Number.parseInt(digits, hex ? 16 : 10);
      const remapped = INVALID_CHARREFS.get(num);
      if (remapped !== undefined) return remapped;
      if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff || !Number.isFinite(num)) return '\ufffd';
      if (isInvalidCodepoint(num)) return '';
      return String.fromCodePoint(num);
    }
    if (ref.endsWith(';')) {
      const v = HTML_ENTITIES.get(ref.slice(0, -1));
      if (v !== undefined) return v;
    }
    // The longest legacy name (no semicolon needed) that prefixes the reference.
    for (let x = ref.length - (ref.endsWith(';') ? 1 : 0); x > 1; x--) {
      const name = ref.slice(0, x);
      if (HTML_LEGACY_NAMES.has(name)) return (HTML_ENTITIES.get(name) ?? '') + ref.slice(x);
    }
    return whole;
  });
}

/** CLIP's clean-up: ftfy, HTML unescaped twice, stripped, whitespace collapsed, lower-cased. */
export function cleanPrompt(text: string): string {
  let t = fixText(text);
  t = htmlUnescape(htmlUnescape(t));
  t = t.replace(WS_EDGES, '');
  t = t.replace(WS_RUN, ' ');
  t = t.replace(WS_EDGES, '');
  return t.toLowerCase();
}
