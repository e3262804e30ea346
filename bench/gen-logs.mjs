// Deterministic benchmark logs (never committed): a mixed log with ~10 % fault lines of several
// families among realistic noise, and a pure fault-storm log. Usage: node bench/gen-logs.mjs DIR [MB_MIXED] [MB_STORM]
import { createWriteStream, existsSync, statSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

let seed = 0x2545f491;
function rnd() { // xorshift32: same file on every machine
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed / 0x100000000;
}
const pick = (a) => a[Math.floor(rnd() * a.length)];
const hex = (n, w = 0) => Math.floor(n).toString(16).padStart(w, '0');
const bdf = () => `0000:${hex(rnd() * 8, 2)}:${hex(rnd() * 32, 2)}.${Math.floor(rnd() * 8)}`;

const NOISE = [
  () => `usb 1-${1 + Math.floor(rnd() * 4)}: new high-speed USB device number ${Math.floor(rnd() * 100)} using xhci_hcd`,
  () => `EXT4-fs (nvme0n1p2): re-mounted ${hex(rnd() * 0xffffffff, 8)}. Quota mode: none.`,
  () => `audit: type=1400 audit(${Math.floor(rnd() * 2e9)}.${Math.floor(rnd() * 1000)}:${Math.floor(rnd() * 9999)}): apparmor="DENIED" operation="open" profile="snap.firefox" name="/proc/${Math.floor(rnd() * 9999)}/maps" pid=${Math.floor(rnd() * 99999)} comm="firefox"`,
  () => `e1000e 0000:00:19.0 eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx`,
  () => `pci ${bdf()}: Adding to iommu group ${Math.floor(rnd() * 40)}`,
  () => `nvme nvme0: I/O ${Math.floor(rnd() * 1024)} QID ${Math.floor(rnd() * 8)} timeout, completion polled`,
  () => `systemd[1]: Started session-${Math.floor(rnd() * 999)}.scope - Session ${Math.floor(rnd() * 999)} of User builder.`,
  () => `[UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56 SRC=10.${Math.floor(rnd() * 255)}.${Math.floor(rnd() * 255)}.${Math.floor(rnd() * 255)} DST=10.0.0.2 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=${Math.floor(rnd() * 65535)} DF PROTO=TCP SPT=${Math.floor(rnd() * 65535)} DPT=22 WINDOW=64240`,
  () => `i915 0000:00:02.0: [drm] GuC firmware i915/tgl_guc_70.bin version 70.${Math.floor(rnd() * 40)}.0`,
  () => `kworker/u16:${Math.floor(rnd() * 9)}: page allocation failure: order:${Math.floor(rnd() * 4)}, mode:0x40cc0(GFP_KERNEL|__GFP_COMP), nodemask=(null),cpuset=/,mems_allowed=0`,
  () => `CPU${Math.floor(rnd() * 16)}: Package temperature above threshold, cpu clock throttled (total events = ${Math.floor(rnd() * 99999)})`,
  () => `arm-smmu fd800000.iommu: \tstage 1 translation`,
];

const FAULTS = [
  () => [`DMAR: DRHD: handling fault status reg 2`, `DMAR: [DMA Read NO_PASID] Request device [${bdf()}] fault addr 0x${hex(rnd() * 0xfffff)}000 [fault reason 0x06] PTE Read access is not set`],
  () => [`DMAR: [DMA Write] Request device [${bdf().slice(5)}] PASID ffffffff fault addr ${hex(rnd() * 0xfffff)}000 [fault reason 05] PTE Write access is not set`],
  () => [`AMD-Vi: Event logged [IO_PAGE_FAULT device=${bdf()} domain=0x${hex(rnd() * 64, 4)} address=0x${hex(rnd() * 0xffffffff)} flags=0x00${pick(['00', '10', '20', '50'])}]`],
  () => [`amdgpu ${bdf()}: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x000c address=0x${hex(rnd() * 0xffffffffff)} flags=0x0020]`],
  () => {
    const sid = hex(rnd() * 0x1000);
    return [`arm-smmu 15000000.iommu: Unhandled context fault: fsr=0x402, iova=0x${hex(rnd() * 0xffffffff)}, fsynr=0x${pick(['300003', 'b0001', '11'])}, cbfrsynra=0x${sid}, cb=${Math.floor(rnd() * 16)}`,
      `arm-smmu 15000000.iommu: FSR    = 00000402 [Format=2 TF], SID=0x${sid}`,
      `arm-smmu 15000000.iommu: FSYNR0 = 00300003 [S1CBNDX=48 PLVL=3]`];
  },
  () => {
    const ev = pick(['10', '0a', '04']);
    return [`arm-smmu-v3 arm-smmu-v3.0.auto: event 0x${ev} received:`,
      `arm-smmu-v3 arm-smmu-v3.0.auto: \t0x0000${hex(rnd() * 0xffff, 4)}000000${ev}`,
      `arm-smmu-v3 arm-smmu-v3.0.auto: \t0x0000020100000000`,
      `arm-smmu-v3 arm-smmu-v3.0.auto: \t0x00000000${hex(rnd() * 0xffffffff, 8)}`,
      `arm-smmu-v3 arm-smmu-v3.0.auto: \t0x00000000${hex(rnd() * 0xffffffff, 8)}`];
  },
  () => [`(XEN) [VT-D]DMAR:[DMA Write] Request device [0000:00:1f.2] fault addr ${hex(rnd() * 0xfffff)}000`, `(XEN) [VT-D]DMAR: reason 05 - PTE Write access is not set`],
  () => [`(XEN) smmu: /smmu@fd800000: Unhandled context fault: fsr=0x402, iova=0x${hex(rnd() * 0xfffffffff)}, fsynr=0xb0001, cb=0`],
  () => [`dmar_fault: ${Math.floor(rnd() * 5000)} callbacks suppressed`],
];

function write(path, mb, faultShare, faults) {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(path);
    const target = mb * 1024 * 1024;
    let size = 0;
    let t = 0;
    let chunk = [];
    const flush = () => out.write(chunk.join(''));
    const step = () => {
      while (size < target) {
        t += rnd() * 0.002;
        const ts = `[${t.toFixed(6).padStart(12)}] `;
        const lines = rnd() < faultShare ? pick(faults)() : [pick(NOISE)()];
        for (const l of lines) { const s = ts + l + '\n'; chunk.push(s); size += s.length; }
        if (chunk.length > 4096) { const ok = flush(); chunk = []; if (!ok) { out.once('drain', step); return; } }
      }
      flush();
      out.end(resolve);
    };
    out.on('error', reject);
    step();
  });
}

export async function ensureLogs(dir, mbMixed = 512, mbStorm = 256) {
  mkdirSync(dir, { recursive: true });
  const mixed = join(dir, `mixed-${mbMixed}m.log`);
  const storm = join(dir, `storm-${mbStorm}m.log`);
  // ~10 % of lines are fault lines: multi-line prints count line by line.
  if (!existsSync(mixed) || statSync(mixed).size < mbMixed * 1048576) { seed = 0x2545f491; await write(mixed, mbMixed, 0.045, FAULTS); }
  if (!existsSync(storm) || statSync(storm).size < mbStorm * 1048576) { seed = 0x1234567; await write(storm, mbStorm, 1, FAULTS.slice(0, 2)); }
  return { mixed, storm };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir = 'bench/data', a, b] = process.argv.slice(2);
  const r = await ensureLogs(dir, Number(a ?? 512), Number(b ?? 256));
  console.log(r);
}
