/**
 * Xen's SMMUv3 driver (`xen/drivers/passthrough/arm/smmu-v3.c`, imported from Linux in 2021)
 * prints the Linux ≤ 6.13 texts behind `printk(XENLOG_* "SMMUv3: %s: " fmt, dev_name(dev))`,
 * e.g. `(XEN) SMMUv3: /smmuv3@9050000: event 0x10 received:` and four dword lines. The messages
 * are parsed by the Linux SMMUv3 family; only the prefix differs, and the printer is always Xen
 * (also when a quote dropped the "(XEN)" marker).
 */
import type { Recognizer } from '../recognizer';
import { FAMILY, recognizeSmmuV3, type PrefixParser } from './arm-smmu-v3';

const RE_XEN_SMMUV3 = /^\s{0,16}SMMUv3: (\S{1,200}): /;

export const xenPrefix: PrefixParser = (message) => {
  const m = RE_XEN_SMMUV3.exec(message);
  if (!m) return undefined;
  return { key: m[1]!, iommu: m[1]!, rest: message.slice(m[0].length) };
};

export const xenArmSmmuV3Recognizer: Recognizer = {
  family: FAMILY,
  keys: ['SMMUv3: '],
  recognize(line) {
    const p = xenPrefix(line.message);
    return p ? recognizeSmmuV3(line, p, xenPrefix, 'xen') : undefined;
  },
};
