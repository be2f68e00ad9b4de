/**
 * `text` cut in the middle to at most `max` characters: model names differ at their ends (…_v2, …_fp16,
 * …_t2v_lora), which a select's end-ellipsis hides. The whole name stays in the option's and select's title.
 */
export function middleEllipsis(text: string, max: number): string {
  if (text.length <= max) return text;
  const keep = max - 1;
  const head = Math.ceil(keep / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (keep - head))}`;
}
