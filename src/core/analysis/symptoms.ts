/**
 * Downstream driver symptoms that follow IOMMU faults: Ethernet DMA errors and TX hangs, NVMe and
 * ATA timeouts, GPU hangs and resets, xHCI controller death, PCIe AER. These are not fault records
 * (scan --json never prints them); the analysis scans the same lines with this small table.
 * Every pattern is bounded and anchored at the message or at a literal, so it stays linear.
 */
import { parseLine } from '../logs/line';
import { normalizeBdf } from '../logs/normalize';

export type SymptomCategory = 'dma-error' | 'timeout' | 'gpu-hang' | 'controller-dead' | 'aer';

export interface SymptomRule {
  id: string;
  category: SymptomCategory;
  /** case-sensitive substrings: a line containing none is not looked at */
  keys: readonly string[];
  /** tried on the message after its "driver device: " columns */
  re: RegExp;
  what: string;
}

export const SYMPTOM_RULES: readonly SymptomRule[] = [
  { id: 'eth-dma-bus-error', category: 'dma-error', keys: ['DMA bus error'], re: /DMA bus error/, what: 'Ethernet controller DMA bus error' },
  { id: 'eth-unit-hang', category: 'timeout', keys: ['Unit Hang'], re: /(?:Detected Hardware|Tx) Unit Hang/, what: 'Ethernet TX unit hang' },
  { id: 'netdev-watchdog', category: 'timeout', keys: ['NETDEV WATCHDOG'], re: /NETDEV WATCHDOG: (?:CPU: \d{1,5}: )?([\w.-]{1,32}) \(([\w.-]{1,32})\): transmit queue \d{1,5} timed out/, what: 'network transmit queue timed out' },
  { id: 'nvme-timeout', category: 'timeout', keys: ['QID '], re: /^I\/O (?:tag )?\d{1,10} .{0,100}?QID \d{1,5} timeout/, what: 'NVMe I/O timeout' },
  { id: 'nvme-down', category: 'controller-dead', keys: ['controller is down', 'Device not ready', 'Removing after probe failure'], re: /^(?:controller is down; will reset|Device not ready; aborting|Removing after probe failure)/, what: 'NVMe controller down or removed' },
  { id: 'ata-error', category: 'timeout', keys: ['exception Emask', 'failed command', 'hard resetting link', 'COMRESET failed'], re: /^(ata\d{1,3}(?:\.\d{1,2})?): (?:exception Emask|failed command|hard resetting link|COMRESET failed)/, what: 'ATA/AHCI command error or link reset' },
  { id: 'gpu-hang', category: 'gpu-hang', keys: ['GPU HANG', 'GPU hang', 'GPU reset', 'gpu reset', 'GPU recovery', 'hangcheck', 'timeout, signaled seq', 'GPU lockup', 'gpu lockup', 'Resetting chip'], re: /(?:GPU HANG|GPU hang|GPU reset|gpu reset|GPU recovery|hangcheck|ring \S{1,32} timeout, signaled seq|GPU lockup|gpu lockup|Resetting chip)/, what: 'GPU hang or reset' },
  { id: 'xhci-dead', category: 'controller-dead', keys: ['Host System Error', 'HC died', 'assume dead', 'Abort failed to stop command ring', 'host controller not responding'], re: /(?:Host System Error|HC died|not responding, assume dead|Abort failed to stop command ring|host controller not responding)/, what: 'USB host controller error (xHCI host system error / controller died)' },
  { id: 'pcie-aer', category: 'aer', keys: ['AER:', 'PCIe Bus Error'], re: /(?:AER: |PCIe Bus Error: )/, what: 'PCIe AER error' },
];

/** Lines that name a device two ways ("nvme nvme0: pci function 0000:01:00.0"): used to match symptoms to faults. */
const RE_ALIAS = /^nvme (nvme\d{1,4}): pci function ([0-9a-fA-F:.]{7,12})/;
export const ALIAS_KEYS: readonly string[] = ['pci function'];

export const SYMPTOM_KEYS: readonly string[] = [...new Set(SYMPTOM_RULES.flatMap((r) => r.keys))];

export interface SymptomHit {
  rule: string;
  category: SymptomCategory;
  what: string;
  line: number;
  /** last line of a run of the same symptom folded into this hit */
  lastLine: number;
  time?: number;
  /** lines folded into this hit (AER prints several per error) */
  count: number;
  /** the message, cut to 300 characters */
  text: string;
  driver?: string;
  /** PCI BDF normalised, or the device name printed */
  device?: string;
  netdev?: string;
  /** AER: the function that reported the error, when the port printed it */
  source?: string;
}

// "driver device: ", "driver device netdev: " (dev_printk / netdev_printk)
const RE_PREFIX = /^([\w.-]{1,48}) ([\w.:@/-]{0,95}[\w.@/-])(?: ([\w.-]{1,24}))?: /;
const RE_DRM = /^\[drm:[\w.]{1,64} \[(\w{1,32})\]\] /;
const RE_QUOTE = /^[\s|>]{1,16}/; // mail quotes and indentation
const RE_AER_SOURCE = /error received: (?:id=)?([0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7])/;

export interface Alias {
  name: string;
  device: string;
}

/** An alias line, or undefined. */
export function aliasOf(raw: string): Alias | undefined {
  if (!raw.includes('pci function')) return undefined;
  const m = RE_ALIAS.exec(parseLine(raw, 0).message.replace(RE_QUOTE, ''));
  const dev = m ? normalizeBdf(m[2]) : undefined;
  return m && dev ? { name: m[1]!, device: dev } : undefined;
}

/** Recognise a symptom line. `raw` is the line as read, `line` its number. */
export function recognizeSymptom(raw: string, line: number): SymptomHit | undefined {
  let rule: SymptomRule | undefined;
  for (const r of SYMPTOM_RULES) if (r.keys.some((k) => raw.includes(k))) { rule = r; break; }
  if (!rule) return undefined;
  const l = parseLine(raw.length > 2000 ? raw.slice(0, 2000) : raw, line);
  let msg = l.message.replace(RE_QUOTE, '');
  const hit: Omit<SymptomHit, 'rule' | 'category' | 'what'> = { line, lastLine: line, count: 1, text: '' };
  const p = RE_PREFIX.exec(msg);
  if (p) {
    hit.driver = p[1]!;
    hit.device = normalizeBdf(p[2]) ?? p[2]!;
    if (p[3] !== undefined) hit.netdev = p[3];
    msg = msg.slice(p[0].length);
  } else {
    const d = RE_DRM.exec(msg);
    if (d) { hit.driver = d[1]!; msg = msg.slice(d[0].length); }
  }
  // try the rule first found by key, then any other rule whose key the line holds
  for (const r of [rule, ...SYMPTOM_RULES.filter((x) => x !== rule)]) {
    if (r !== rule && !r.keys.some((k) => raw.includes(k))) continue;
    const m = r.re.exec(msg) ?? r.re.exec(l.message);
    if (!m) continue;
    const out: SymptomHit = { rule: r.id, category: r.category, what: r.what, ...hit, text: l.message.slice(0, 300) };
    if (l.time !== undefined) out.time = l.time;
    if (r.id === 'netdev-watchdog') { out.netdev = m[1]!; out.driver = m[2]!; }
    if (r.id === 'ata-error') out.device = m[1]!;
    if (r.id === 'pcie-aer') {
      const s = RE_AER_SOURCE.exec(msg);
      if (s) out.source = normalizeBdf(s[1])!;
    }
    return out;
  }
  return undefined;
}

/** Names a symptom can be matched by, most specific first. */
export function symptomIdentities(h: SymptomHit, aliases: ReadonlyMap<string, string>): { id: string; how: 'pci-address' | 'device-name' | 'alias' }[] {
  const out: { id: string; how: 'pci-address' | 'device-name' | 'alias' }[] = [];
  const add = (id: string | undefined, how: 'pci-address' | 'device-name' | 'alias') => { if (id && !out.some((o) => o.id === id)) out.push({ id, how }); };
  for (const v of [h.source, h.device]) if (v) add(v, normalizeBdf(v) === v ? 'pci-address' : 'device-name');
  for (const v of [h.device, h.netdev]) if (v) add(aliases.get(v), 'alias');
  return out;
}
