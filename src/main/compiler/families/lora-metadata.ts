/**
 * What a LoRA library shows, from safetensors `__metadata__` (kohya `ss_*` fields and SAI ModelSpec
 * `modelspec.*`; all values are strings, some hold JSON). Malformed JSON is ignored field by field: metadata
 * is advisory and must never stop a file from loading.
 */
export interface LoraMetadata {
  title?: string;
  outputName?: string;
  baseModelVersion?: string;
  networkDim?: string;
  networkAlpha?: string;
  networkModule?: string;
  networkArgs?: Record<string, unknown>;
  description?: string;
  author?: string;
  /** Suggestions: modelspec trigger phrases first, then the most frequent training tags. */
  triggerWords: string[];
  /** data: URL of an embedded preview image. */
  thumbnail?: string;
  raw: Record<string, string>;
}

const MAX_TRIGGER_WORDS = 12;

function parseJson(text: string | undefined): unknown {
  if (text === undefined || text.length > 16 * 1024 * 1024) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** ss_tag_frequency = {dataset_dir: {tag: count}} → tags by total count, most frequent first. */
export function topTags(tagFrequency: string | undefined, limit = MAX_TRIGGER_WORDS): string[] {
  const j = parseJson(tagFrequency);
  if (typeof j !== 'object' || j === null) return [];
  const totals = new Map<string, number>();
  for (const dir of Object.values(j as Record<string, unknown>)) {
    if (typeof dir !== 'object' || dir === null) continue;
    for (const [tag, n] of Object.entries(dir as Record<string, unknown>)) {
      const t = tag.trim();
      if (t.length === 0 || typeof n !== 'number' || !Number.isFinite(n)) continue;
      totals.set(t, (totals.get(t) ?? 0) + n);
    }
  }
  return [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, limit).map(([t]) => t);
}

export function readLoraMetadata(table: { metadata: Record<string, string> }): LoraMetadata {
  const md = table.metadata;
  const nonEmpty = (k: string): string | undefined => {
    const v = md[k];
    return v !== undefined && v.trim() !== '' && v !== 'None' ? v : undefined;
  };
  const triggers: string[] = [];
  const phrase = nonEmpty('modelspec.trigger_phrase');
  if (phrase) for (const p of phrase.split(',')) if (p.trim()) triggers.push(p.trim());
  for (const t of topTags(md.ss_tag_frequency)) if (!triggers.includes(t)) triggers.push(t);
  const thumb = nonEmpty('modelspec.thumbnail');
  const args = parseJson(md.ss_network_args);
  const out: LoraMetadata = { triggerWords: triggers.slice(0, MAX_TRIGGER_WORDS), raw: { ...md } };
  const fields: Array<[keyof LoraMetadata, string | undefined]> = [
    ['title', nonEmpty('modelspec.title') ?? nonEmpty('ss_output_name')],
    ['outputName', nonEmpty('ss_output_name')],
    ['baseModelVersion', nonEmpty('ss_base_model_version') ?? nonEmpty('modelspec.architecture')],
    ['networkDim', nonEmpty('ss_network_dim')],
    ['networkAlpha', nonEmpty('ss_network_alpha')],
    ['networkModule', nonEmpty('ss_network_module')],
    ['description', nonEmpty('modelspec.description')],
    ['author', nonEmpty('modelspec.author')],
    ['thumbnail', thumb && /^data:image\/(png|jpeg|jpg|webp|gif);base64,/i.test(thumb) ? thumb : undefined],
  ];
  for (const [k, v] of fields) if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  if (typeof args === 'object' && args !== null && !Array.isArray(args)) out.networkArgs = args as Record<string, unknown>;
  return out;
}
