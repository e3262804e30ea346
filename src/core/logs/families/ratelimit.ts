/**
 * "FUNC: N callbacks suppressed": printed by the kernel's ratelimit when a fault handler's
 * prints were dropped. Kept as records (kind `storm-suppressed`) because a storm's true size is
 * printed + suppressed; the function name tells which IOMMU driver was silenced.
 */
import type { Recognition, Recognizer } from '../recognizer';
import type { LogLine } from '../line';
import { wrappedContinuation, type WrappedPrint } from './wrapped';

/** Function-name prefixes of the IOMMU fault handlers and the family each belongs to. */
const HANDLERS: readonly [RegExp, string][] = [
  [/^arm_smmu_(?:evtq|priq|gerror|cmdq|handle_evt|dump_event|page_response|combined)/, 'arm-smmu-v3'],
  [/^(?:arm_smmu_|qcom_smmu_|nvidia_smmu_|qcom_iommu_)/, 'arm-smmu'],
  [/^(?:dmar_|intel_|prq_|qi_|handle_bad_prq)/, 'intel-vtd'],
  [/^(?:amd_iommu_|iommu_print_event|iommu_poll_|amd_)/, 'amd-vi'],
  [/^rk_iommu/, 'rockchip'],
  [/^mtk_iommu/, 'mediatek'],
  [/^apple_dart/, 'apple-dart'],
  [/^exynos_sysmmu/, 'exynos'],
  [/^tegra_smmu|^gart_/, 'tegra'],
  [/^ipmmu_/, 'ipmmu'],
  [/^viommu_/, 'virtio-iommu'],
  [/^(?:msm_fault|adreno_|a[3-7]xx_|panfrost_mmu|lima_mmu|amdgpu_|gmc_v\d|nouveau_)/, 'gpu-mmu'],
  [/^(?:report_iommu_fault|iommu_report_device_fault|iommu_)/, 'iommu'],
];

const RE = /(?:^|\s)([A-Za-z_][A-Za-z0-9_.]{0,80}): (\d{1,12}) callbacks suppressed\s*$/;

/**
 * A notice wrapped by a mail client or a terminal anywhere after its count ("dmar_fault: 1234" +
 * "callbacks suppressed", "dmar_fault: 1234 callbacks" + " suppressed"), or cut there by a
 * quoted-printable soft break ("callba=" + "cks suppressed"). What follows the count must be a
 * start of " callbacks suppressed".
 */
const RE_HEAD = /(?:^|\s)([A-Za-z_][A-Za-z0-9_.]{0,80}): (\d{1,12})( {0,2}[a-z]{0,10}(?: [a-z]{0,10})?)(=?)\s*$/;
const TAIL = 'callbackssuppressed';

/** The text after the count without blanks (a terminal may drop the blank at its column, a mail wrap add one), or undefined when it is no start of the notice's rest. */
function restOf(joined: string): string | undefined {
  const n = /^\d{1,12}/.exec(joined);
  if (!n) return undefined;
  const rest = joined.slice(n[0].length).replace(/ /g, '').trimEnd();
  return TAIL.startsWith(rest) ? rest : undefined;
}

/**
 * The rest of a wrapped notice: "callbacks suppressed" completes it, over at most two more lines.
 * The whole count is known then (a soft break may have cut it: "dmar_fault: 89=" + "3 callbacks ...").
 */
function wrappedRest(decoded: Record<string, unknown>): WrappedPrint {
  return {
    max: 2,
    softBreaks: true,
    anyColumn: true,
    complete: (joined) => {
      if (restOf(joined) !== TAIL) return false;
      decoded.suppressed = Number(/^\d{1,12}/.exec(joined)![0]);
      return true;
    },
    partial: (joined) => restOf(joined) !== undefined,
  };
}

function notice(line: LogLine, fn: string, n: string): Recognition | undefined {
  const hit = HANDLERS.find(([re]) => re.test(fn));
  if (!hit) return undefined; // another subsystem's ratelimit (net_ratelimit, ...)
  return {
    record: {
      line: line.line,
      family: hit[1],
      kind: 'storm-suppressed',
      decoded: { function: fn, suppressed: Number(n) },
    },
  };
}

/** The notice's first half: its record, and the continuation that takes the rest of "callbacks suppressed". */
function wrappedNotice(line: LogLine, m: RegExpExecArray): Recognition | undefined {
  // only the notice's own text goes on: whatever columns precede "FUNC:" stay behind
  const head = `${m[2]!}${m[3]!}`;
  const r = restOf(head);
  if (r === undefined) return undefined;
  const got = notice(line, m[1]!, m[2]!);
  // "suppressed=": a soft break after the whole notice leaves nothing to wait for
  if (!got || r === TAIL) return got;
  // a soft break right after the digits may have cut the count: known only once the rest is joined
  if (!m[3] && m[4]) delete got.record.decoded!.suppressed;
  return { ...got, more: wrappedContinuation(head + m[4]!, wrappedRest(got.record.decoded!)) };
}

export const ratelimitRecognizer: Recognizer = {
  family: 'iommu',
  // "callbacks" alone: a wrap may leave the notice's first line without "suppressed"; the x86
  // fault handlers' names: a wrap may leave it without "callbacks"
  keys: ['callbacks', 'dmar_fault: ', 'amd_iommu_report_page_fault: '],
  recognize(line) {
    const msg = line.message;
    const m = RE.exec(msg);
    if (m) return notice(line, m[1]!, m[2]!);
    const h = RE_HEAD.exec(msg.length > 400 ? msg.slice(-400) : msg);
    return h ? wrappedNotice(line, h) : undefined;
  },
};
