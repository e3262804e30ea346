/**
 * What a fault group means under Xen: who printed it (the hypervisor owns the IOMMU; a guest's
 * console lines carry "(dN)"), which domain the device belongs to, the Arm dom0 direct map
 * (IOVA == guest physical == machine address), and faults on grant-mapped pages, which point at
 * the hypervisor's IOMMU mapping of grants rather than at the guest driver.
 */

export interface XenFacts {
  /** who printed the group's records */
  printedBy: ('xen' | 'linux')[];
  /** domain IDs printed in the records (AMD-Vi "d0", domain= fields under Xen) */
  domains: string[];
  /** guest consoles ("(d1)") that printed records */
  guestConsoles: number[];
  family: string;
  /** a dom0 / guest driver symptom followed a hypervisor-printed fault */
  dom0Symptom?: boolean;
  /** netback/blkback/gnttab lines near the group's faults */
  pvBackendNear?: boolean;
  /** an address of the group, for the direct-map note */
  iova?: string;
}

export interface XenContext {
  printedBy: ('xen' | 'linux')[];
  domains: { id: number; label: string }[];
  guestConsoles: number[];
  directMapped?: boolean;
  grantSuspect?: boolean;
  notes: string[];
}

const ARM = new Set(['arm-smmu', 'arm-smmu-v3', 'ipmmu']);

function domainLabel(id: number): string {
  if (id === 0) return 'dom0 (hardware domain)';
  if (id === 0x7ff0) return 'DOMID_SELF';
  if (id === 0x7ff1) return 'dom_io (quarantine: a de-assigned device still doing DMA)';
  if (id === 0x7ff2) return 'dom_xen (the hypervisor itself)';
  return `d${id}`;
}

/** Xen context of a group, or undefined when nothing in it involves Xen. */
export function xenContext(f: XenFacts): XenContext | undefined {
  const byXen = f.printedBy.includes('xen');
  if (!byXen && !f.guestConsoles.length) return undefined;
  const domains = f.domains
    .map((d) => Number.parseInt(d, 16))
    .filter((n) => Number.isFinite(n))
    .map((id) => ({ id, label: domainLabel(id) }));
  const ctx: XenContext = { printedBy: f.printedBy, domains, guestConsoles: f.guestConsoles, notes: [] };
  if (byXen) {
    ctx.notes.push('Printed by the Xen hypervisor: Xen owns this IOMMU and the tables it walked (the IOMMU/p2m mappings of the domain the device is assigned to). dom0 and the guests do not program them directly.');
  }
  if (f.guestConsoles.length) {
    ctx.notes.push(`Printed on guest console${f.guestConsoles.length > 1 ? 's' : ''} ${f.guestConsoles.map((d) => `d${d}`).join(', ')}: the IOMMU in question is that guest's (virtual or passed-through) view, not Xen's.`);
  }
  const dom0 = domains.length === 0 || domains.some((d) => d.id === 0);
  if (byXen && ARM.has(f.family)) {
    ctx.directMapped = dom0;
    ctx.notes.push(dom0
      ? `On Arm, dom0 is direct-mapped (1:1) by default: for a device assigned to dom0 the IOVA${f.iova ? ` ${f.iova}` : ''} is also dom0's guest physical address and the machine address, so it can be looked up directly in the host memory map. For a domU (or a dom0less domain without direct map) the IOVA is that domain's guest physical address.`
      : 'The device belongs to a domU: the IOVA is that domain\'s guest physical address (its p2m), not a machine address.');
  }
  if (byXen && (f.dom0Symptom || f.pvBackendNear)) {
    ctx.grantSuspect = true;
    ctx.notes.push(
      'A driver in a domain failed right after this hypervisor-printed fault' + (f.pvBackendNear ? ', next to PV backend (netback/blkback/grant) activity' : '') + '. ' +
      'If the faulting address is a page another domain granted (PV network or block backends DMA straight into guest buffers through grant mappings), ' +
      'the missing translation is the hypervisor\'s IOMMU mapping of that grant (on Arm: gnttab_need_iommu_mapping() for a direct-mapped dom0; on x86: the PV dom0 IOMMU mapping of grants), not a bug of the guest driver.',
    );
  }
  return ctx;
}
