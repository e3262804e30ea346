/**
 * Every log family's recogniser, in priority order: a line is given to the first recogniser
 * (in this order) whose keys it contains and that recognises it. Hypervisor-specific and
 * vendor-specific recognisers come before the generic ones they resemble.
 * Adding a family: write `families/<name>.ts` exporting a `Recognizer`, add it here.
 */
import type { Recognizer } from '../recognizer';
import { ratelimitRecognizer } from './ratelimit';
import { xenArmSmmuV3Recognizer } from './xen-arm-smmu-v3';
import { armSmmuV3Recognizer } from './arm-smmu-v3';
import { virtioIommuRecognizer } from './virtio-iommu';
import { xenArmSmmuRecognizer } from './xen-arm-smmu';
import { armSmmuRecognizer } from './arm-smmu';
import { gpuMmuRecognizer } from './gpu-mmu';
import { xenIntelVtdRecognizer } from './xen-intel-vtd';
import { intelVtdRecognizer } from './intel-vtd';
import { xenAmdViRecognizer } from './xen-amd-vi';
import { amdViRecognizer } from './amd-vi';
import { SOC_IOMMU_RECOGNIZERS } from './soc-iommus';
import { traceEventsRecognizer } from './trace-events';

export const RECOGNIZERS: readonly Recognizer[] = [
  ratelimitRecognizer,
  xenArmSmmuV3Recognizer,
  armSmmuV3Recognizer,
  virtioIommuRecognizer,
  xenArmSmmuRecognizer,
  armSmmuRecognizer,
  xenIntelVtdRecognizer,
  intelVtdRecognizer,
  xenAmdViRecognizer,
  amdViRecognizer,
  ...SOC_IOMMU_RECOGNIZERS,
  gpuMmuRecognizer,
  traceEventsRecognizer,
];
