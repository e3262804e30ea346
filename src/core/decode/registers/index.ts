/**
 * Every register and code-table description, by id. Each family's descriptions live in a file
 * of their own (`registers/<family>.ts`) and are listed here.
 */
import type { RegisterDescription } from '../register';
import { ARM_SMMU_V3_REGISTERS, VIRTIO_IOMMU_REGISTERS } from './arm-smmu-v3';
import { ARM_SMMU_REGISTERS } from './arm-smmu';
import { GPU_MMU_REGISTERS } from './gpu-mmu';
import { AMD_VI_REGISTERS } from './amd-vi';
import { SOC_IOMMU_REGISTERS } from './soc-iommus';
import { INTEL_VTD_REGISTERS } from './intel-vtd';

export const REGISTERS: readonly RegisterDescription[] = [
  ...ARM_SMMU_V3_REGISTERS,
  ...VIRTIO_IOMMU_REGISTERS,
  ...ARM_SMMU_REGISTERS,
  ...GPU_MMU_REGISTERS,
  ...AMD_VI_REGISTERS,
  ...SOC_IOMMU_REGISTERS,
  ...INTEL_VTD_REGISTERS,
];

const byId = new Map<string, RegisterDescription>();
for (const d of REGISTERS) byId.set(d.id, d);

export function registerById(id: string): RegisterDescription | undefined {
  return byId.get(id);
}

/** Descriptions of one family, keyed by the record's register key ("fsr", "fsynr0", ...). */
export function registersOfFamily(family: string): Map<string, RegisterDescription> {
  const m = new Map<string, RegisterDescription>();
  for (const d of REGISTERS) if (d.family === family) m.set(d.key, d);
  return m;
}
