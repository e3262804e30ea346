/**
 * "FUNC: N callbacks suppressed": printed by the kernel's ratelimit when a fault handler's
 * prints were dropped. Kept as records (kind `storm-suppressed`) because a storm's true size is
 * printed + suppressed; the function name tells which IOMMU driver was silenced.
 */
import type { Recognizer } from '../recognizer';

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

export const ratelimitRecognizer: Recognizer = {
  family: 'iommu',
  keys: ['callbacks suppressed'],
  recognize(line) {
    const m = RE.exec(line.message);
    if (!m) return undefined;
    const fn = m[1]!;
    const hit = HANDLERS.find(([re]) => re.test(fn));
    if (!hit) return undefined; // another subsystem's ratelimit (net_ratelimit, ...)
    return {
      record: {
        line: line.line,
        family: hit[1],
        kind: 'storm-suppressed',
        decoded: { function: fn, suppressed: Number(m[2]) },
      },
    };
  },
};
