/**
 * The name "Export again" uses, so it never replaces the previous export: `story` → `story-2`, `story-2` →
 * `story-3`. Works on a bare name or a full path; the folder and the extension stay.
 */
export function nextExportName(nameOrPath: string): string {
  const cut = Math.max(nameOrPath.lastIndexOf('/'), nameOrPath.lastIndexOf('\\')) + 1;
  const base = nameOrPath.slice(cut);
  const dot = base.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [base.slice(0, dot), base.slice(dot)] : [base, ''];
  const numbered = /^(.*)-(\d+)$/.exec(stem);
  return `${nameOrPath.slice(0, cut)}${numbered ? `${numbered[1]}-${Number(numbered[2]) + 1}` : `${stem}-2`}${ext}`;
}
