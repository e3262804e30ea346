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
 * A notice wrapped by a mail client or a terminal after "callbacks" or inside "suppressed"
 * ("dmar_fault: 1234 callbacks" + " suppressed"), or cut by a quoted-printable soft break
 * ("callbacks suppre=" + "ssed"). The cut text must be a start of " suppressed".
 */
const RE_HEAD = /(?:^|\s)([A-Za-z_][A-Za-z0-9_.]{0,80}): (\d{1,12}) callbacks( {0,2}[a-z]{0,10})(=?)\s*$/;
const TAIL = ' suppressed';

/** "callbacks" and a start of " suppressed" (a terminal may have dropped the blank at its column). */
function restOf(joined: string): string | undefined {
  if (!joined.startsWith('callbacks')) return undefined;
  const rest = joined.slice(9).trimEnd();
  return TAIL.startsWith(rest) || TAIL.startsWith(' ' + rest) ? rest : undefined;
}

/** The rest of a wrapped notice: "suppressed" completes it, over at most two more lines. */
const WRAPPED: WrappedPrint = {
  max: 2,
  softBreaks: true,
  anyColumn: true,
  complete: (joined) => {
    const r = restOf(joined);
    return r === TAIL || r === TAIL.slice(1);
  },
  partial: (joined) => restOf(joined) !== undefined,
};

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

/** The notice's first half: its record, and the continuation that takes the rest of "suppressed". */
function wrappedNotice(line: LogLine, m: RegExpExecArray): Recognition | undefined {
  const cut = m[3]!;
  // only the notice's own text goes on: whatever columns precede "FUNC:" stay behind
  const head = `callbacks${cut}`;
  const r = restOf(head);
  if (r === undefined) return undefined;
  const got = notice(line, m[1]!, m[2]!);
  // "suppressed=": a soft break after the whole notice leaves nothing to wait for
  if (!got || r === TAIL) return got;
  return { ...got, more: wrappedContinuation(head + m[4]!, WRAPPED) };
}

export const ratelimitRecognizer: Recognizer = {
  family: 'iommu',
  // "callbacks" alone: a wrap may leave the notice's first line without "suppressed"
  keys: ['callbacks'],
  recognize(line) {
    const msg = line.message;
    const m = RE.exec(msg);
    if (m) return notice(line, m[1]!, m[2]!);
    const h = RE_HEAD.exec(msg.length > 400 ? msg.slice(-400) : msg);
    return h ? wrappedNotice(line, h) : undefined;
  },
};
