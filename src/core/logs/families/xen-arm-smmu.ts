/**
 * Xen's port of the SMMUv1/v2 driver (xen/drivers/passthrough/arm/smmu.c, reference §1.10):
 * the same messages as Linux of its time, printed as "smmu: %s: " with the device-tree path of
 * the SMMU (or "smmu: %pp: " with a PCI SBDF for PCI devices, since 2025). Context faults:
 * ≤ 4.11 "Unhandled context fault: iova=0x%08lx, fsynr=0x%x, cb=%d"; ≥ 4.12 with fsr= first.
 * Global faults: "Unexpected global fault, this could be serious" + "\tGFSR 0x%08x, ...".
 * Must be listed before the Linux recogniser: both react to the same words.
 */
import type { Recognizer } from '../recognizer';
import { normalizeBdf } from '../normalize';
import { recognizeArmSmmu, type PrefixScheme } from './arm-smmu';

const RE_XEN_SMMU = /^smmu: (\S{1,160}?): /;

export const XEN_PREFIX: PrefixScheme = {
  host: 'xen',
  split(message) {
    const m = RE_XEN_SMMU.exec(message);
    // Lines without the prefix are never Xen SMMU lines, except mail-wrapped remainders,
    // which the global-fault assembler asks for by a missing name.
    if (!m) return { rest: message };
    return { name: m[1]!, rest: message.slice(m[0].length) };
  },
  place(name, rec) {
    if (name === undefined) return;
    const bdf = normalizeBdf(name);
    if (bdf && /^[0-9a-fA-F]{4}:/.test(name)) rec.device = bdf;
    else rec.iommu = name;
  },
};

export const xenArmSmmuRecognizer: Recognizer = {
  family: 'arm-smmu',
  keys: ['ontext fault', 'global fault', 'GFSR 0x'],
  recognize(line) {
    if (!RE_XEN_SMMU.test(line.message)) return undefined;
    return recognizeArmSmmu(line, XEN_PREFIX);
  },
};
