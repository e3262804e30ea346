/**
 * Registers of the small SoC IOMMUs whose values their Linux drivers print: Apple DART error
 * status, Rockchip status/DTE/PTE, MediaTek fault status and master id, Renesas IPMMU IMSTR,
 * Samsung Exynos SysMMU page-table entries, TI OMAP IOMMU interrupt status and table entries.
 *
 * Facts: reference/fault-encodings.md §5 (Linux 6.12.117) and the driver sources
 * (drivers/iommu/{apple-dart,rockchip-iommu,mtk_iommu,ipmmu-vmsa,exynos-iommu}.c).
 */
import type { RegisterDescription } from '../register';

export const DART_T8020_ERROR: RegisterDescription = {
  id: 'apple-dart.error',
  family: 'apple-dart',
  name: 'DART_T8020_ERROR',
  key: 'error',
  width: 32,
  title: 'Apple DART (T8020/T6000) error status, printed as status:',
  source: 'Linux drivers/iommu/apple-dart.c DART_T8020_ERROR_* (6.12)',
  fields: [
    { name: 'NO_TTBR', bits: [0, 0], title: 'No TTBR for IOVA', doc: 'the stream has no valid translation table base: stream not attached to a domain' },
    { name: 'NO_PMD', bits: [1, 1], title: 'No PMD for IOVA', doc: 'first-level table entry invalid: nothing mapped in this region' },
    { name: 'NO_PTE', bits: [2, 2], title: 'No PTE for IOVA', doc: 'leaf entry invalid: the page is not mapped' },
    { name: 'WRITE_FAULT', bits: [3, 3], title: 'Write fault', doc: 'write to a page mapped without write permission' },
    { name: 'READ_FAULT', bits: [4, 4], title: 'Read fault', doc: 'read from a page mapped without read permission' },
    { name: 'CODE_OTHER', bits: [11, 5], title: 'Other error code bits', format: 'hex' },
    { name: 'STREAM', bits: [27, 24], title: 'Stream index', format: 'dec' },
    { name: 'FLAG', bits: [31, 31], title: 'Error valid' },
  ],
};

export const DART_T8110_ERROR: RegisterDescription = {
  id: 'apple-dart.error_t8110',
  family: 'apple-dart',
  name: 'DART_T8110_ERROR',
  key: 'error_t8110',
  width: 32,
  title: 'Apple DART (T8110) error status, printed as status:',
  source: 'Linux drivers/iommu/apple-dart.c DART_T8110_ERROR_* (6.12; absent in 6.1)',
  fields: [
    { name: 'NO_TTBR', bits: [0, 0], title: 'No TTBR for IOVA', doc: 'the stream has no valid translation table base: stream not attached to a domain' },
    { name: 'NO_PGD', bits: [1, 1], title: 'No PGD for IOVA', doc: 'top-level table entry invalid' },
    { name: 'NO_PMD', bits: [2, 2], title: 'No PMD for IOVA', doc: 'middle-level table entry invalid: nothing mapped in this region' },
    { name: 'NO_PTE', bits: [3, 3], title: 'No PTE for IOVA', doc: 'leaf entry invalid: the page is not mapped' },
    { name: 'WRITE_FAULT', bits: [4, 4], title: 'Write fault', doc: 'write to a page mapped without write permission' },
    { name: 'READ_FAULT', bits: [5, 5], title: 'Read fault', doc: 'read from a page mapped without read permission' },
    { name: 'CODE_OTHER', bits: [14, 6], title: 'Other error code bits', format: 'hex' },
    { name: 'STREAM', bits: [27, 20], title: 'Stream index', format: 'dec' },
    { name: 'FLAG', bits: [31, 31], title: 'Error valid' },
  ],
};

export const RK_STATUS: RegisterDescription = {
  id: 'rockchip.status',
  family: 'rockchip',
  name: 'RK_MMU_STATUS',
  key: 'status',
  width: 32,
  title: 'Rockchip IOMMU status (0x04)',
  source: 'Linux drivers/iommu/rockchip-iommu.c RK_MMU_STATUS_* (6.12)',
  fields: [
    { name: 'PAGING_ENABLED', bits: [0, 0], title: 'Paging enabled' },
    { name: 'PAGE_FAULT_ACTIVE', bits: [1, 1], title: 'Page fault active' },
    { name: 'STALL_ACTIVE', bits: [2, 2], title: 'Stall active' },
    { name: 'IDLE', bits: [3, 3], title: 'Idle' },
    { name: 'REPLAY_BUFFER_EMPTY', bits: [4, 4], title: 'Replay buffer empty' },
    { name: 'PAGE_FAULT_IS_WRITE', bits: [5, 5], title: 'Faulting access is a write', whenClear: 'faulting access is a read' },
    { name: 'STALL_NOT_ACTIVE', bits: [31, 31], title: 'Stall not active' },
  ],
};

export const RK_INT_STATUS: RegisterDescription = {
  id: 'rockchip.int_status',
  family: 'rockchip',
  name: 'RK_MMU_INT_STATUS',
  key: 'int_status',
  width: 32,
  title: 'Rockchip IOMMU interrupt status (0x20)',
  source: 'Linux drivers/iommu/rockchip-iommu.c RK_MMU_IRQ_* (6.12)',
  fields: [
    { name: 'PAGE_FAULT', bits: [0, 0], title: 'Page fault' },
    { name: 'BUS_ERROR', bits: [1, 1], title: 'Bus error', doc: 'the IOMMU got a bus error reading its tables (bad DTE address?)' },
    { name: 'UNEXPECTED', bits: [31, 2], title: 'Bits the driver does not expect', reserved: true },
  ],
};

export const RK_DTE: RegisterDescription = {
  id: 'rockchip.dte',
  family: 'rockchip',
  name: 'DTE',
  key: 'dte',
  width: 32,
  title: 'Rockchip directory table entry (v1 layout)',
  doc: 'v2 adds physical address bits 35:32 in 11:8 and 39:36 in 7:4.',
  source: 'Linux drivers/iommu/rockchip-iommu.c RK_DTE_* (6.12)',
  fields: [
    { name: 'VALID', bits: [0, 0], title: 'Valid', whenClear: 'no page table for this 4 MiB region' },
    { name: 'PT_ADDRESS', bits: [31, 12], title: 'Page table address', addressShift: 12 },
  ],
};

export const RK_PTE: RegisterDescription = {
  id: 'rockchip.pte',
  family: 'rockchip',
  name: 'PTE',
  key: 'pte',
  width: 32,
  title: 'Rockchip page table entry (v1 layout)',
  doc: 'v2: bits 11:8 and 7:4 are physical address bits 35:32 and 39:36, bit 3 security, 2 W, 1 R, 0 V.',
  source: 'Linux drivers/iommu/rockchip-iommu.c RK_PTE_* (6.12)',
  fields: [
    { name: 'VALID', bits: [0, 0], title: 'Valid', whenClear: 'page not mapped' },
    { name: 'READABLE', bits: [1, 1], title: 'Readable', whenClear: 'reads denied' },
    { name: 'WRITABLE', bits: [2, 2], title: 'Writable', whenClear: 'writes denied' },
    { name: 'OVERRIDE_CACHE', bits: [3, 3], title: 'Override cache attributes' },
    { name: 'WRITE_CACHE', bits: [4, 4], title: 'Write cache' },
    { name: 'WRITE_ALLOC', bits: [5, 5], title: 'Write allocate' },
    { name: 'WRITE_BUFFER', bits: [6, 6], title: 'Write buffer' },
    { name: 'READ_CACHE', bits: [7, 7], title: 'Read cache' },
    { name: 'READ_ALLOC', bits: [8, 8], title: 'Read allocate' },
    { name: 'PAGE_ADDRESS', bits: [31, 12], title: 'Page address', addressShift: 12 },
  ],
};

const MTK_FAULTS = ['TRANSLATION', 'MAIN_MULTI_HIT', 'INVALID_PA', 'ENTRY_REPLACEMENT', 'TLB_MISS', 'MISS_TRANSACTION_FIFO', 'PREFETCH_TRANSACTION_FIFO'] as const;
const MTK_DOCS: Record<(typeof MTK_FAULTS)[number], string> = {
  TRANSLATION: 'translation fault: no valid mapping for the IOVA',
  MAIN_MULTI_HIT: 'several main-TLB entries matched the IOVA',
  INVALID_PA: 'the translated physical address is invalid (pa=0 in the print)',
  ENTRY_REPLACEMENT: 'TLB entry replacement fault',
  TLB_MISS: 'TLB miss fault',
  MISS_TRANSACTION_FIFO: 'miss-transaction FIFO fault',
  PREFETCH_TRANSACTION_FIFO: 'prefetch-transaction FIFO fault',
};

export const MTK_FAULT_ST1: RegisterDescription = {
  id: 'mediatek.fault_st1',
  family: 'mediatek',
  name: 'REG_MMU_FAULT_ST1',
  key: 'fault_st1',
  width: 32,
  title: 'MediaTek IOMMU fault status (0x134), printed as type=',
  doc: 'Bits 6:0 report MMU0 faults, bits 13:7 the same faults of MMU1 (meanings of the REG_MMU_INT_MAIN_CONTROL bits).',
  source: 'Linux drivers/iommu/mtk_iommu.c F_REG_MMU0/1_FAULT_MASK, F_INT_* (6.12)',
  fields: [
    ...MTK_FAULTS.map((n, i) => ({ name: `MMU0_${n}`, bits: [i, i] as const, title: `MMU0 ${n.toLowerCase().replace(/_/g, ' ')} fault`, doc: MTK_DOCS[n] })),
    ...MTK_FAULTS.map((n, i) => ({ name: `MMU1_${n}`, bits: [i + 7, i + 7] as const, title: `MMU1 ${n.toLowerCase().replace(/_/g, ' ')} fault`, doc: MTK_DOCS[n] })),
  ],
};

export const MTK_INT_ID: RegisterDescription = {
  id: 'mediatek.int_id',
  family: 'mediatek',
  name: 'REG_MMU0_INT_ID',
  key: 'int_id',
  width: 32,
  title: 'MediaTek IOMMU faulting master id (0x150), printed as master=',
  doc: 'Default layout; SoCs with 6-bit ports use bits 7:2 for the port and 10:8 for the larb, and comm/sub-comm SoCs remap larbs through larbid_remap.',
  source: 'Linux drivers/iommu/mtk_iommu.c F_MMU_INT_ID_* (6.12)',
  fields: [
    { name: 'PORT', bits: [6, 2], title: 'Port within the larb', format: 'dec' },
    { name: 'LARB', bits: [9, 7], title: 'Local arbiter (larb)', format: 'dec' },
  ],
};

export const IPMMU_IMSTR: RegisterDescription = {
  id: 'ipmmu.imstr',
  family: 'ipmmu',
  name: 'IMSTR',
  key: 'imstr',
  width: 32,
  title: 'Renesas IPMMU context status (IMSTR, 0x20), printed as status',
  doc: 'Field names are the Linux macro names; the R-Car manual text was not checked here.',
  source: 'Linux drivers/iommu/ipmmu-vmsa.c IMSTR_* (4.x; the level/code macros were dropped later, the bits remain)',
  fields: [
    { name: 'TF', bits: [0, 0], title: 'Translation fault (IMSTR_TF)' },
    { name: 'PF', bits: [1, 1], title: 'Page fault (IMSTR_PF)' },
    { name: 'ABORT', bits: [2, 2], title: 'Page table walk abort', doc: 'bus error while walking the page tables' },
    { name: 'MHIT', bits: [4, 4], title: 'Multiple TLB hits' },
    { name: 'ERRCODE', bits: [10, 8], title: 'Error code', values: {
      1: { name: 'TLB_FORMAT', text: 'TLB / page table format error' },
      4: { name: 'ACCESS_PERM', text: 'access permission error' },
      5: { name: 'SECURE_ACCESS', text: 'secure access error' },
    } },
    { name: 'ERRLVL', bits: [13, 12], title: 'Page table level of the error', format: 'dec' },
  ],
};

export const EXYNOS_LV1: RegisterDescription = {
  id: 'exynos.lv1',
  family: 'exynos',
  name: 'Lv1 entry',
  key: 'lv1',
  width: 32,
  title: 'Exynos SysMMU first-level entry (SysMMU v1–v3 layout)',
  doc: 'SysMMU v5+ stores addresses shifted right by 4; the type bits are the same.',
  source: 'Linux drivers/iommu/exynos-iommu.c lv1ent_* macros',
  fields: [
    { name: 'TYPE', bits: [1, 0], title: 'Entry type', values: {
      0: { name: 'FAULT', text: 'no mapping for this 1 MiB region' },
      1: { name: 'PAGE_TABLE', text: 'points to a second-level table' },
      2: { name: 'SECTION', text: '1 MiB section mapping' },
      3: { name: 'FAULT', text: 'invalid (treated as fault)' },
    } },
    { name: 'LV2_BASE', bits: [31, 10], title: 'Second-level table base (when PAGE_TABLE)', addressShift: 10 },
  ],
};

export const EXYNOS_LV2: RegisterDescription = {
  id: 'exynos.lv2',
  family: 'exynos',
  name: 'Lv2 entry',
  key: 'lv2',
  width: 32,
  title: 'Exynos SysMMU second-level entry (SysMMU v1–v3 layout)',
  source: 'Linux drivers/iommu/exynos-iommu.c lv2ent_* macros',
  fields: [
    { name: 'TYPE', bits: [1, 0], title: 'Entry type', values: {
      0: { name: 'FAULT', text: 'page not mapped' },
      1: { name: 'LARGE', text: '64 KiB page' },
      2: { name: 'SMALL', text: '4 KiB page' },
      3: { name: 'SMALL', text: '4 KiB page' },
    } },
    { name: 'PAGE_BASE', bits: [31, 12], title: 'Small page base', addressShift: 12 },
  ],
};

export const OMAP_MMU_IRQSTATUS: RegisterDescription = {
  id: 'omap-iommu.irqstatus',
  family: 'omap-iommu',
  name: 'MMU_IRQSTATUS',
  key: 'irqstatus',
  width: 32,
  title: 'TI OMAP IOMMU interrupt status (MMU_IRQSTATUS, 0x18), printed as errs',
  source: 'Linux drivers/iommu/omap-iommu.h MMU_IRQ_* (unchanged 3.x–6.x)',
  fields: [
    { name: 'TLBMISS', bits: [0, 0], title: 'TLB miss', doc: 'no TLB entry and table walking disabled: software must load the TLB' },
    { name: 'TRANSLATIONFAULT', bits: [1, 1], title: 'Translation fault', doc: 'the table walk found no valid entry for the address' },
    { name: 'EMUMISS', bits: [2, 2], title: 'Emulator miss', doc: 'a debugger (emulator) access missed the TLB' },
    { name: 'TABLEWALKFAULT', bits: [3, 3], title: 'Table walk fault', doc: 'bus error while the MMU read a table entry' },
    { name: 'MULTIHITFAULT', bits: [4, 4], title: 'Multiple TLB hits', doc: 'several TLB entries matched the address' },
  ],
};

/** OMAP first-level descriptor (iopgd): ARM short-descriptor style, 1 MiB sections, 16 MiB supersections. */
export const OMAP_IOPGD: RegisterDescription = {
  id: 'omap-iommu.pgd',
  family: 'omap-iommu',
  name: 'first-level descriptor (iopgd)',
  key: 'pgd',
  width: 32,
  title: 'TI OMAP IOMMU first-level table entry, printed as *pgd',
  source: 'Linux drivers/iommu/omap-iopgtable.h IOPGD_* / IOSUPER_*',
  fields: [
    { name: 'TYPE', bits: [1, 0], title: 'Descriptor type', values: {
      0: { name: 'FAULT', text: 'invalid: nothing mapped in this 1 MiB region' },
      1: { name: 'TABLE', text: 'points to a second-level table' },
      2: { name: 'SECTION', text: '1 MiB section (16 MiB supersection when bit 18 is set)' },
      3: { name: 'RESERVED', text: 'reserved encoding' },
    } },
    { name: 'SUPER', bits: [18, 18], title: 'Supersection (16 MiB) when TYPE is SECTION' },
    { name: 'ADDRESS', bits: [31, 10], title: 'Table address (TABLE) or section base (SECTION), bits 31:10', format: 'hex' },
  ],
};

/** OMAP second-level descriptor (iopte): 4 KiB small pages, 64 KiB large pages. */
export const OMAP_IOPTE: RegisterDescription = {
  id: 'omap-iommu.pte',
  family: 'omap-iommu',
  name: 'second-level descriptor (iopte)',
  key: 'pte',
  width: 32,
  title: 'TI OMAP IOMMU second-level table entry, printed as *pte',
  source: 'Linux drivers/iommu/omap-iopgtable.h IOPTE_*',
  fields: [
    { name: 'TYPE', bits: [1, 0], title: 'Descriptor type', values: {
      0: { name: 'FAULT', text: 'invalid: the page is not mapped' },
      1: { name: 'LARGE', text: '64 KiB large page' },
      2: { name: 'SMALL', text: '4 KiB small page' },
      3: { name: 'RESERVED', text: 'an encoding the Linux driver never writes' },
    } },
    { name: 'ADDRESS', bits: [31, 12], title: 'Page base address bits 31:12', format: 'hex' },
  ],
};

export const SOC_IOMMU_REGISTERS: readonly RegisterDescription[] = [
  DART_T8020_ERROR, DART_T8110_ERROR, RK_STATUS, RK_INT_STATUS, RK_DTE, RK_PTE,
  MTK_FAULT_ST1, MTK_INT_ID, IPMMU_IMSTR, EXYNOS_LV1, EXYNOS_LV2,
  OMAP_MMU_IRQSTATUS, OMAP_IOPGD, OMAP_IOPTE,
];
