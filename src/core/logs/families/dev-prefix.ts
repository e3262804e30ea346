/**
 * The "driver device: " columns that dev_err() puts in front of a driver's text, shared by the
 * SoC IOMMU families ("rk_iommu ff940300.iommu: Page fault ...").
 */

export interface DevPrefix {
  driver: string;
  device: string;
}

// Bounded, non-overlapping columns, anchored at the end of the head: linear on hostile input.
// A print quoted inline in Markdown starts after a backtick.
const RE = /(?:^|[\s\]>|`])([\w.-]{1,64}) ([\w.:@/-]{1,96}): $/;

/** The "driver device: " columns that end exactly where the driver's text starts (index `at`). */
export function devPrefixAt(message: string, at: number): DevPrefix | undefined {
  if (at <= 0) return undefined;
  const m = RE.exec(message.slice(Math.max(0, at - 240), at));
  return m ? { driver: m[1]!, device: m[2]! } : undefined;
}
