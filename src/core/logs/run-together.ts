/**
 * Published logs sometimes carry several printk lines pasted onto one, separated by runs of
 * blanks (a forum or issue tracker that lost the line breaks):
 *   "[ 16.35] msm_mdp ...: loaded ...            [ 16.36] *** gpu fault: iova=...            [ 16.37] qcom-iommu-ctx ..."
 * Each pasted line may be a fault of its own, so the scanner takes such a line apart again.
 */

const RE_TS_AT = /\[\s{0,12}\d{1,10}\.\d{1,9}\]/y;

/**
 * The pieces of a run-together line: cut before every kernel timestamp that follows three or
 * more blanks. Undefined when the line has fewer than two non-blank pieces (the common case).
 */
export function splitRunTogether(raw: string): string[] | undefined {
  const cuts: number[] = [];
  let from = 0;
  for (;;) {
    const i = raw.indexOf('   [', from);
    if (i < 0) break;
    const at = i + 3;
    RE_TS_AT.lastIndex = at;
    if (RE_TS_AT.test(raw)) cuts.push(at);
    from = at + 1;
  }
  if (!cuts.length) return undefined;
  const parts: string[] = [];
  let start = 0;
  for (const c of [...cuts, raw.length]) {
    const piece = raw.slice(start, c).trimEnd();
    if (piece.trim().length) parts.push(piece);
    start = c;
  }
  return parts.length > 1 ? parts : undefined;
}
