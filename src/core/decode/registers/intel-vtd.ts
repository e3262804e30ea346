/**
 * Intel VT-d registers and code tables as data: fault reasons (legacy, scalable-mode and
 * interrupt-remapping tables of Linux `dmar.c`), FSTS, FRCD, FECTL, GSTS, VER, RTADDR, CAP,
 * ECAP, and the page-request descriptor that Linux prints raw.
 *
 * Short reason names (`reason.name` of records, value names of the FR table) follow one scheme:
 * the thing that was checked, in upper snake case, most specific structure first —
 *   legacy walk:        ROOT_*, CONTEXT_*, PTE_*, ...       e.g. 0x06 PTE_READ ("PTE Read access is not set")
 *   scalable mode:      SM_ prefix, then the structure:     ROOT, CONTEXT, PASID_DIR, PASID_ENTRY, FL (first level), SL (second level)
 *   interrupt remapping: IR_ or IRTE_ prefix                e.g. 0x25 IR_COMPAT_BLOCKED
 * and a suffix for what was wrong: NOT_PRESENT, RESERVED (non-zero reserved field), ACCESS_ERROR
 * (the IOMMU could not read the entry), INVALID, READ/WRITE (permission). A code that the kernel
 * prints as "Unknown" is named UNKNOWN.
 */
import type { FieldDescription, FieldValue, RegisterDescription } from '../register';

/** Where in the translation the check that failed sits (DESIGN.md stages). */
export type VtdFaultStage = 'device-entry' | 'pasid-entry' | 'table-root' | 'table-entry' | 'permission' | 'configuration' | 'interrupt-entry';

export type VtdReasonTable = 'legacy' | 'scalable-mode' | 'interrupt-remapping';

export interface VtdFaultReason {
  code: number;
  name: string;
  /** exactly as the Linux table prints it */
  text: string;
  /** Xen's string when it differs */
  xenText?: string;
  table: VtdReasonTable;
  stage: VtdFaultStage;
  /** what went wrong and where in the walk, in plain words */
  explain: string;
}

function r(code: number, name: string, table: VtdReasonTable, stage: VtdFaultStage, text: string, explain: string, xenText?: string): VtdFaultReason {
  const v: VtdFaultReason = { code, name, text, table, stage, explain };
  if (xenText !== undefined) v.xenText = xenText;
  return v;
}

const L = 'legacy' as const;
const SM = 'scalable-mode' as const;
const IR = 'interrupt-remapping' as const;

/** Every code Linux names (reference §3.3–3.5); gaps of the SM table print "Unknown" and are left out. */
export const VTD_FAULT_REASONS: readonly VtdFaultReason[] = [
  r(0x00, 'SOFTWARE', L, 'configuration', 'Software', 'Reason 0 is not a hardware fault reason; the record was written by software or is corrupt.'),
  r(0x01, 'ROOT_NOT_PRESENT', L, 'device-entry', 'Present bit in root entry is clear', 'The root-table entry for the requester\'s bus is not present: no context table exists for this bus, so the IOMMU driver never set up any device on it (or the requester ID is unexpected, e.g. a DMA alias).'),
  r(0x02, 'CONTEXT_NOT_PRESENT', L, 'device-entry', 'Present bit in context entry is clear', 'The context entry for this device/function is not present: the IOMMU driver has not attached this requester ID to a domain (device not bound, hot-replug, or DMA from an alias/phantom function).'),
  r(0x03, 'CONTEXT_INVALID', L, 'device-entry', 'Invalid context entry', 'The context entry is present but programmed with an invalid combination (translation type, address width) for this hardware.'),
  r(0x04, 'BEYOND_MGAW', L, 'table-root', 'Access beyond MGAW', 'The DMA address is above the domain\'s guest address width (AGAW/MGAW): the walk could not start for this address.'),
  r(0x05, 'PTE_WRITE', L, 'permission', 'PTE Write access is not set', 'A DMA write reached a leaf entry without write permission — or, commonly, an entry that is not present at all (legacy mode reports non-present leaves as a permission fault): unmapped or read-only buffer.'),
  r(0x06, 'PTE_READ', L, 'permission', 'PTE Read access is not set', 'A DMA read reached a page-table entry without read permission — usually a non-present entry: the device read from an address that is not mapped (never mapped, or already unmapped).'),
  r(0x07, 'NEXT_PT_INVALID', L, 'table-entry', 'Next page table ptr is invalid', 'An intermediate page-table entry points outside valid memory (bad next-level table address) during the second-level walk.'),
  r(0x08, 'ROOT_ADDR_INVALID', L, 'device-entry', 'Root table address invalid', 'The root-table address register (RTADDR) points to memory the IOMMU cannot access.'),
  r(0x09, 'CONTEXT_PTR_INVALID', L, 'device-entry', 'Context table ptr is invalid', 'The root entry\'s context-table pointer refers to memory the IOMMU cannot access.'),
  r(0x0a, 'RTP_RESERVED', L, 'device-entry', 'non-zero reserved fields in RTP', 'The root entry has non-zero reserved bits.'),
  r(0x0b, 'CTP_RESERVED', L, 'device-entry', 'non-zero reserved fields in CTP', 'The context entry has non-zero reserved bits.'),
  r(0x0c, 'PTE_RESERVED', L, 'table-entry', 'non-zero reserved fields in PTE', 'A page-table entry of the second-level walk has non-zero reserved bits (corrupt or mis-built table, or a superpage where the hardware does not support one).'),
  r(0x0d, 'TRANSLATION_BLOCKED', L, 'configuration', 'PCE for translation request specifies blocking', 'A translation request (ATS) was blocked by the context entry\'s translation type.', 'Blocked a DMA translation request'),

  r(0x20, 'IR_RESERVED_REQUEST', IR, 'interrupt-entry', 'Detected reserved fields in the decoded interrupt-remapped request', 'The interrupt request (MSI address/data) has reserved fields set.'),
  r(0x21, 'IR_INDEX_OVERFLOW', IR, 'interrupt-entry', 'Interrupt index exceeded the interrupt-remapping table size', 'The interrupt index is beyond the size of the interrupt-remapping table.'),
  r(0x22, 'IRTE_NOT_PRESENT', IR, 'interrupt-entry', 'Present field in the IRTE entry is clear', 'The interrupt-remapping table entry used by this interrupt is not present: the interrupt was freed or not yet set up while the device still signals it.'),
  r(0x23, 'IRTA_ACCESS_ERROR', IR, 'interrupt-entry', 'Error accessing interrupt-remapping table pointed by IRTA_REG', 'The IOMMU could not read the interrupt-remapping table at the IRTA register\'s address.'),
  r(0x24, 'IRTE_RESERVED', IR, 'interrupt-entry', 'Detected reserved fields in the IRTE entry', 'The interrupt-remapping table entry has reserved bits set.'),
  r(0x25, 'IR_COMPAT_BLOCKED', IR, 'interrupt-entry', 'Blocked a compatibility format interrupt request', 'A compatibility-format (not remappable) interrupt was blocked because compatibility format is disabled: the device or firmware programmed an MSI/IOAPIC entry without remapping.'),
  r(0x26, 'IR_SID_VERIFY', IR, 'interrupt-entry', 'Blocked an interrupt request due to source-id verification failure', 'The interrupt came from a requester ID other than the one the IRTE allows (source-id verification).'),

  r(0x30, 'SM_ROOT_TABLE_ADDR_INVALID', SM, 'device-entry', 'SM: Invalid Root Table Address', 'Scalable mode: the root-table address is invalid.'),
  r(0x31, 'SM_TTM0_PASID', SM, 'configuration', 'SM: TTM 0 for request with PASID', 'A request with PASID arrived while the root table is in legacy mode (TTM 0).'),
  r(0x32, 'SM_TTM0_PAGE_GROUP', SM, 'configuration', 'SM: TTM 0 for page group request', 'A page group request arrived while the root table is in legacy mode (TTM 0).'),
  r(0x38, 'SM_ROOT_ACCESS_ERROR', SM, 'device-entry', 'SM: Error attempting to access Root Entry', 'Scalable mode: the IOMMU could not read the root entry.'),
  r(0x39, 'SM_ROOT_NOT_PRESENT', SM, 'device-entry', 'SM: Present bit in Root Entry is clear', 'Scalable mode: the root entry (lower/upper half for this devfn) is not present: no context table for this bus.'),
  r(0x3a, 'SM_ROOT_RESERVED', SM, 'device-entry', 'SM: Non-zero reserved field set in Root Entry', 'Scalable mode: the root entry has non-zero reserved bits.'),
  r(0x40, 'SM_CONTEXT_ACCESS_ERROR', SM, 'device-entry', 'SM: Error attempting to access Context Entry', 'Scalable mode: the IOMMU could not read the context entry.'),
  r(0x41, 'SM_CONTEXT_NOT_PRESENT', SM, 'device-entry', 'SM: Present bit in Context Entry is clear', 'Scalable mode: the context entry for this device is not present: the driver has not attached the device.'),
  r(0x42, 'SM_CONTEXT_RESERVED', SM, 'device-entry', 'SM: Non-zero reserved field set in the Context Entry', 'Scalable mode: the context entry has non-zero reserved bits.'),
  r(0x43, 'SM_CONTEXT_INVALID', SM, 'device-entry', 'SM: Invalid Context Entry', 'Scalable mode: the context entry is programmed inconsistently.'),
  r(0x44, 'SM_CONTEXT_DTE_CLEAR', SM, 'configuration', 'SM: DTE field in Context Entry is clear', 'A translation request (ATS) arrived but Device-TLB is not enabled in the context entry.'),
  r(0x45, 'SM_CONTEXT_PASIDE_CLEAR', SM, 'configuration', 'SM: PASID Enable field in Context Entry is clear', 'A request with PASID arrived but PASID is not enabled in the context entry.'),
  r(0x46, 'SM_PASID_BEYOND_MAX', SM, 'pasid-entry', 'SM: PASID is larger than the max in Context Entry', 'The PASID is larger than the PASID directory size in the context entry.'),
  r(0x47, 'SM_CONTEXT_PRE_CLEAR', SM, 'configuration', 'SM: PRE field in Context-Entry is clear', 'A page request arrived but page requests are not enabled in the context entry.'),
  r(0x48, 'SM_RID_PASID_ERROR', SM, 'device-entry', 'SM: RID_PASID field error in Context-Entry', 'The RID_PASID field of the context entry is invalid.'),
  r(0x50, 'SM_PASID_DIR_ACCESS_ERROR', SM, 'pasid-entry', 'SM: Error attempting to access the PASID Directory Entry', 'The IOMMU could not read the PASID directory entry.'),
  r(0x51, 'SM_PASID_DIR_NOT_PRESENT', SM, 'pasid-entry', 'SM: Present bit in Directory Entry is clear', 'The PASID directory entry for this PASID is not present: no PASID table covers this PASID.'),
  r(0x52, 'SM_PASID_DIR_RESERVED', SM, 'pasid-entry', 'SM: Non-zero reserved field set in PASID Directory Entry', 'The PASID directory entry has non-zero reserved bits.'),
  r(0x58, 'SM_PASID_ENTRY_ACCESS_ERROR', SM, 'pasid-entry', 'SM: Error attempting to access PASID Table Entry', 'The IOMMU could not read the PASID table entry.'),
  r(0x59, 'SM_PASID_ENTRY_NOT_PRESENT', SM, 'pasid-entry', 'SM: Present bit in PASID Table Entry is clear', 'The PASID table entry is not present: this PASID (or RID_PASID for requests without PASID) is not set up.'),
  r(0x5a, 'SM_PASID_ENTRY_RESERVED', SM, 'pasid-entry', 'SM: Non-zero reserved field set in PASID Table Entry', 'The PASID table entry has non-zero reserved bits.'),
  r(0x5b, 'SM_PASID_ENTRY_INVALID', SM, 'pasid-entry', 'SM: Invalid Scalable-Mode PASID Table Entry', 'The PASID table entry is programmed inconsistently (e.g. translation type).'),
  r(0x5c, 'SM_PASID_ENTRY_ERE_CLEAR', SM, 'permission', 'SM: ERE field is clear in PASID Table Entry', 'An execute request arrived but execute requests are not enabled in the PASID entry.'),
  r(0x5d, 'SM_PASID_ENTRY_SRE_CLEAR', SM, 'permission', 'SM: SRE field is clear in PASID Table Entry', 'A supervisor request arrived but supervisor requests are not enabled in the PASID entry.'),
  r(0x70, 'SM_FL_ACCESS_ERROR', SM, 'table-entry', 'SM: Error attempting to access first-level paging entry', 'The IOMMU could not read a first-level paging entry.'),
  r(0x71, 'SM_FL_NOT_PRESENT', SM, 'table-entry', 'SM: Present bit in first-level paging entry is clear', 'The first-level walk reached an entry that is not present: the address is not mapped in the first-level table.'),
  r(0x72, 'SM_FL_RESERVED', SM, 'table-entry', 'SM: Non-zero reserved field set in first-level paging entry', 'A first-level paging entry has non-zero reserved bits.'),
  r(0x73, 'SM_FL_PML4_ACCESS_ERROR', SM, 'table-root', 'SM: Error attempting to access FL-PML4 entry', 'The IOMMU could not read the first-level root (PML4) entry.'),
  r(0x74, 'SM_FL_BEYOND_MGAW_NESTED', SM, 'table-entry', 'SM: First-level entry address beyond MGAW in Nested translation', 'Nested translation: a first-level entry points beyond the second-level address width.'),
  r(0x75, 'SM_FL_PML4_READ_NESTED', SM, 'table-root', 'SM: Read permission error in FL-PML4 entry in Nested translation', 'Nested translation: the second level denies reading the first-level root table.'),
  r(0x76, 'SM_FL_READ_NESTED', SM, 'table-entry', 'SM: Read permission error in first-level paging entry in Nested translation', 'Nested translation: the second level denies reading a first-level table.'),
  r(0x77, 'SM_FL_WRITE_NESTED', SM, 'table-entry', 'SM: Write permission error in first-level paging entry in Nested translation', 'Nested translation: the second level denies the A/D-bit write to a first-level entry.'),
  r(0x78, 'SM_SL_ACCESS_ERROR', SM, 'table-entry', 'SM: Error attempting to access second-level paging entry', 'The IOMMU could not read a second-level paging entry.'),
  r(0x79, 'SM_SL_PERMISSION', SM, 'permission', 'SM: Read/Write permission error in second-level paging entry', 'A second-level entry does not allow the access (not present, or read/write not granted).'),
  r(0x7a, 'SM_SL_RESERVED', SM, 'table-entry', 'SM: Non-zero reserved field set in second-level paging entry', 'A second-level paging entry has non-zero reserved bits.'),
  r(0x7b, 'SM_SL_PTR_INVALID', SM, 'table-root', 'SM: Invalid second-level page table pointer', 'The second-level page-table pointer of the PASID entry is invalid.'),
  r(0x7c, 'SM_SL_AD_NO_SNOOP', SM, 'table-entry', 'SM: A/D bit update needed in second-level entry when set up in no snoop', 'A second-level A/D update was needed for a no-snoop request.'),
  r(0x80, 'SM_FL_NON_CANONICAL', SM, 'table-root', 'SM: Address in first-level translation is not canonical', 'The input address is not canonical for the first-level (CPU-style) page table.'),
  r(0x81, 'SM_FL_USER_PRIV', SM, 'permission', 'SM: U/S set 0 for first-level translation with user privilege', 'A user-privilege request hit a first-level entry that allows supervisor only.'),
  r(0x82, 'SM_NO_EXECUTE', SM, 'permission', 'SM: No execute permission for request with PASID and ER=1', 'An execute request hit an entry without execute permission.'),
  r(0x83, 'SM_BEYOND_HW_MAX', SM, 'table-root', 'SM: Address beyond the DMA hardware max', 'The address is beyond what the hardware can translate.'),
  r(0x84, 'SM_SL_BEYOND_MAX', SM, 'table-entry', 'SM: Second-level entry address beyond the max', 'A second-level entry points beyond the maximum address.'),
  r(0x85, 'SM_NO_WRITE', SM, 'permission', 'SM: No write permission for Write/AtomicOp request', 'A write/atomic request hit a mapping without write permission.'),
  r(0x86, 'SM_NO_READ', SM, 'permission', 'SM: No read permission for Read/AtomicOp request', 'A read/atomic request hit a mapping without read permission.'),
  r(0x87, 'SM_INVALID_INTR_ADDR', SM, 'configuration', 'SM: Invalid address-interrupt address', 'A DMA request targeted the interrupt address range (0xFEEx_xxxx) in a way that is not allowed.'),
  r(0x90, 'SM_FL_AD_NO_SNOOP', SM, 'table-entry', 'SM: A/D bit update needed in first-level entry when set up in no snoop', 'A first-level A/D update was needed for a no-snoop request (A/D bits not preset for such mappings).'),
];

const BY_CODE = new Map<number, VtdFaultReason>(VTD_FAULT_REASONS.map((x) => [x.code, x]));

export function vtdFaultReason(code: number): VtdFaultReason | undefined {
  return BY_CODE.get(code);
}

/** The kernel's lookup (`dmar_get_fault_reason`): which table, or undefined for "Unknown". */
export function vtdReasonTableOf(code: number): VtdReasonTable | undefined {
  return BY_CODE.get(code)?.table;
}

function frValues(): Record<number, FieldValue> {
  const out: Record<number, FieldValue> = {};
  for (const x of VTD_FAULT_REASONS) out[x.code] = { name: x.name, text: `${x.text} — ${x.explain}` };
  return out;
}

const FR_VALUES = frValues();

export const VTD_REASON: RegisterDescription = {
  id: 'intel-vtd.reason',
  family: 'intel-vtd',
  name: 'FR',
  key: 'reason',
  width: 32,
  title: 'VT-d fault reason',
  doc: 'The 8-bit Fault Reason of a fault record, as Linux and Xen print it in "[fault reason N]" / "reason NN".',
  fields: [
    { name: 'FR', bits: [7, 0], title: 'Fault reason', values: FR_VALUES, doc: 'Code not in the kernel tables: printed as "Unknown"' },
  ],
  source: 'Linux dmar.c dma_remap_fault_reasons / dma_remap_sm_fault_reasons / irq_remap_fault_reasons (6.12); Xen vtd/iommu.c',
};

function gen(n: number, f: (v: number) => FieldValue): Record<number, FieldValue> {
  const out: Record<number, FieldValue> = {};
  for (let v = 0; v < n; v++) out[v] = f(v);
  return out;
}

export const VTD_FSTS: RegisterDescription = {
  id: 'intel-vtd.fsts',
  family: 'intel-vtd',
  name: 'FSTS',
  key: 'fsts',
  width: 32,
  title: 'Fault Status (DMAR_FSTS_REG 0x34)',
  doc: 'Printed by Linux as "DRHD: handling fault status reg %x".',
  fields: [
    { name: 'PFO', bits: [0, 0], title: 'Primary Fault Overflow', doc: 'More faults happened than fault-recording registers: some faults were not recorded' },
    { name: 'PPF', bits: [1, 1], title: 'Primary Pending Fault', doc: 'At least one fault-recording register holds a fault' },
    { name: 'AFO', bits: [2, 2], title: 'Advanced Fault Overflow', doc: 'Advanced fault log overflowed (Xen only decodes this)' },
    { name: 'APF', bits: [3, 3], title: 'Advanced Pending Fault', doc: 'Advanced fault log has a pending fault (Xen only decodes this)' },
    { name: 'IQE', bits: [4, 4], title: 'Invalidation Queue Error', doc: 'The invalidation queue hit an invalid descriptor or could not be read' },
    { name: 'ICE', bits: [5, 5], title: 'Invalidation Completion Error', doc: 'A device-TLB invalidation completion was invalid' },
    { name: 'ITE', bits: [6, 6], title: 'Invalidation Time-out Error', doc: 'A device-TLB (ATS) invalidation was not answered in time: the device is hung or gone' },
    { name: 'PRO', bits: [7, 7], title: 'Page Request Overflow', doc: 'The page request queue overflowed: page requests were dropped' },
    { name: 'FRI', bits: [15, 8], title: 'Fault Record Index', format: 'dec', doc: 'Index of the first fault-recording register holding a fault' },
    { name: 'RSVD', bits: [31, 16], title: 'Reserved', reserved: true },
  ],
  source: 'reference §3.1; Linux iommu.h DMA_FSTS_*, Xen vtd/iommu.h',
};

/** FRCD fields in 128-bit positions; the 64-bit halves below are derived from this list. */
const FRCD_FIELDS: readonly FieldDescription[] = [
  { name: 'F', bits: [127, 127], title: 'Fault', doc: 'The record holds a fault (software writes 1 to clear)' },
  { name: 'T', bits: [126, 126], title: 'Type', values: { 0: { name: 'WRITE', text: 'DMA write request' }, 1: { name: 'READ', text: 'DMA read request (or AtomicOp)' } } },
  { name: 'AT', bits: [125, 124], title: 'Address Type', values: { 0: { name: 'UNTRANSLATED', text: 'untranslated request' }, 1: { name: 'TRANSLATION_REQUEST', text: 'ATS translation request' }, 2: { name: 'TRANSLATED', text: 'translated request (ATS)' }, 3: { name: 'RESERVED', text: 'reserved' } }, doc: 'position from an Intel datasheet and libcper; Linux does not decode it' },
  { name: 'PV', bits: [123, 104], title: 'PASID Value', doc: 'PASID of the request (valid when PP is set)' },
  { name: 'FR', bits: [103, 96], title: 'Fault Reason', values: FR_VALUES, doc: 'code not in the kernel tables ("Unknown")' },
  { name: 'PP', bits: [95, 95], title: 'PASID Present', doc: 'The request carried a PASID (Linux prints "PASID 0x..", else NO_PASID)' },
  { name: 'EXE', bits: [94, 94], title: 'Execute requested', doc: 'Execute permission was requested (position from libcper; Linux does not decode it)' },
  { name: 'PRIV', bits: [93, 93], title: 'Privileged mode requested', doc: 'Supervisor privilege was requested (position from libcper; Linux does not decode it)' },
  { name: 'RSVD1', bits: [92, 80], title: 'Reserved', reserved: true },
  { name: 'SID', bits: [79, 64], title: 'Source Identifier', doc: 'Requester ID: bus[15:8] device[7:3] function[2:0]' },
  { name: 'FI', bits: [63, 12], title: 'Fault Info', addressShift: 12, doc: 'Page address of the faulting request; for interrupt-remapping faults bits 63:48 hold the interrupt index' },
  { name: 'RSVD0', bits: [11, 0], title: 'Reserved', reserved: true },
];

function half(lo: number): FieldDescription[] {
  return FRCD_FIELDS.filter((f) => f.bits[1] >= lo && f.bits[0] < lo + 64).map((f) => ({ ...f, bits: [f.bits[0] - lo, f.bits[1] - lo] as const }));
}

export const VTD_FRCD: RegisterDescription = {
  id: 'intel-vtd.frcd',
  family: 'intel-vtd',
  name: 'FRCD',
  key: 'frcd',
  width: 128,
  title: 'Fault Recording register (128-bit)',
  fields: FRCD_FIELDS,
  source: 'reference §3.2; Linux iommu.h dma_frcd_*; Intel datasheet FRCDH/FRCDL; libcper',
};

export const VTD_FRCD_LO: RegisterDescription = {
  id: 'intel-vtd.frcd_lo',
  family: 'intel-vtd',
  name: 'FRCD[63:0]',
  key: 'frcd_lo',
  width: 64,
  title: 'Fault Recording register, low 64 bits (fault info)',
  fields: half(0),
  source: VTD_FRCD.source!,
};

export const VTD_FRCD_HI: RegisterDescription = {
  id: 'intel-vtd.frcd_hi',
  family: 'intel-vtd',
  name: 'FRCD[127:64]',
  key: 'frcd_hi',
  width: 64,
  title: 'Fault Recording register, high 64 bits (SID, reason, type)',
  fields: half(64),
  source: VTD_FRCD.source!,
};

export const VTD_FECTL: RegisterDescription = {
  id: 'intel-vtd.fectl',
  family: 'intel-vtd',
  name: 'FECTL',
  key: 'fectl',
  width: 32,
  title: 'Fault Event Control (DMAR_FECTL_REG 0x38)',
  fields: [
    { name: 'IM', bits: [31, 31], title: 'Interrupt Mask', doc: 'Fault event interrupts are masked: faults are recorded but not signalled' },
    { name: 'IP', bits: [30, 30], title: 'Interrupt Pending', doc: 'A fault event interrupt is pending (masked or not yet serviced)' },
    { name: 'RSVD', bits: [29, 0], title: 'Reserved', reserved: true },
  ],
  source: 'Linux iommu.h DMA_FECTL_IM; VT-d specification FECTL_REG',
};

export const VTD_GSTS: RegisterDescription = {
  id: 'intel-vtd.gsts',
  family: 'intel-vtd',
  name: 'GSTS',
  key: 'gsts',
  width: 32,
  title: 'Global Status (DMAR_GSTS_REG 0x1c)',
  fields: [
    { name: 'TES', bits: [31, 31], title: 'Translation Enable Status', doc: 'DMA remapping is enabled', whenClear: 'DMA remapping disabled: DMA is not translated' },
    { name: 'RTPS', bits: [30, 30], title: 'Root Table Pointer Status', doc: 'The root table pointer has been latched' },
    { name: 'FLS', bits: [29, 29], title: 'Fault Log Status', doc: 'Advanced fault log pointer set' },
    { name: 'AFLS', bits: [28, 28], title: 'Advanced Fault Logging Status', doc: 'Advanced fault logging enabled' },
    { name: 'WBFS', bits: [27, 27], title: 'Write Buffer Flush Status', doc: 'A write-buffer flush is in progress' },
    { name: 'QIES', bits: [26, 26], title: 'Queued Invalidation Enable Status', doc: 'Queued invalidation enabled' },
    { name: 'IRES', bits: [25, 25], title: 'Interrupt Remapping Enable Status', doc: 'Interrupt remapping enabled' },
    { name: 'IRTPS', bits: [24, 24], title: 'Interrupt Remapping Table Pointer Status', doc: 'IRTA latched' },
    { name: 'CFIS', bits: [23, 23], title: 'Compatibility Format Interrupt Status', doc: 'Compatibility-format interrupts pass through unremapped' },
    { name: 'RSVD', bits: [22, 0], title: 'Reserved', reserved: true },
  ],
  source: 'Linux iommu.h DMA_GSTS_*',
};

export const VTD_VER: RegisterDescription = {
  id: 'intel-vtd.ver',
  family: 'intel-vtd',
  name: 'VER',
  key: 'ver',
  width: 32,
  title: 'Version (DMAR_VER_REG 0x0)',
  fields: [
    { name: 'MAX', bits: [7, 4], title: 'Major version', format: 'dec' },
    { name: 'MIN', bits: [3, 0], title: 'Minor version', format: 'dec' },
    { name: 'RSVD', bits: [31, 8], title: 'Reserved', reserved: true },
  ],
  source: 'Linux iommu.h DMAR_VER_MAJOR/MINOR',
};

export const VTD_RTADDR: RegisterDescription = {
  id: 'intel-vtd.rtaddr',
  family: 'intel-vtd',
  name: 'RTADDR',
  key: 'rtaddr',
  width: 64,
  title: 'Root Table Address (DMAR_RTADDR_REG 0x20)',
  fields: [
    { name: 'RTA', bits: [63, 12], title: 'Root Table Address', addressShift: 12 },
    { name: 'TTM', bits: [11, 10], title: 'Translation Table Mode', values: { 0: { name: 'LEGACY', text: 'legacy mode: root/context entries' }, 1: { name: 'SCALABLE', text: 'scalable mode: scalable-mode root/context entries, PASID tables (Linux DMA_RTADDR_SMT)' }, 2: { name: 'RESERVED', text: 'reserved' }, 3: { name: 'ABORT_DMA', text: 'abort-DMA mode: all DMA is blocked' } } },
    { name: 'RSVD', bits: [9, 0], title: 'Reserved', reserved: true },
  ],
  source: 'Linux iommu.h DMA_RTADDR_SMT (bit 10); VT-d specification RTADDR_REG',
};

const SAGAW_BITS = ['30-bit/2-level', '39-bit/3-level', '48-bit/4-level', '57-bit/5-level', '64-bit/6-level (reserved)'];
const SLLPS_BITS = ['2MB', '1GB', '512GB', '1TB'];

function maskText(v: number, names: readonly string[]): string {
  const s = names.filter((_, i) => (v >> i) & 1);
  return s.length ? s.join(', ') : 'none';
}

const ND_TEXT = ['16', '64', '256', '1024', '4K', '16K', '64K'];

export const VTD_CAP: RegisterDescription = {
  id: 'intel-vtd.cap',
  family: 'intel-vtd',
  name: 'CAP',
  key: 'cap',
  width: 64,
  title: 'Capability (DMAR_CAP_REG 0x8)',
  doc: 'Printed at boot: "DMAR: dmar0: reg_base_addr ... cap %llx ecap %llx".',
  fields: [
    { name: 'ND', bits: [2, 0], title: 'Number of Domains supported', values: gen(8, (v) => v < 7 ? { name: ND_TEXT[v]!, text: `${ND_TEXT[v]} domain IDs (2^(4+2*ND))` } : { name: 'RSVD', text: 'reserved' }) },
    { name: 'AFL', bits: [3, 3], title: 'Advanced Fault Logging' },
    { name: 'RWBF', bits: [4, 4], title: 'Required Write-Buffer Flushing', doc: 'Software must flush the write buffer after updating tables' },
    { name: 'PLMR', bits: [5, 5], title: 'Protected Low-Memory Region' },
    { name: 'PHMR', bits: [6, 6], title: 'Protected High-Memory Region' },
    { name: 'CM', bits: [7, 7], title: 'Caching Mode', doc: 'Not-present entries may be cached: software must invalidate on map too (typical of emulated IOMMUs: QEMU, VMware)' },
    { name: 'SAGAW', bits: [12, 8], title: 'Supported Adjusted Guest Address Widths', values: gen(32, (v) => ({ name: maskText(v, SAGAW_BITS.map((s) => s.split('/')[1]!)), text: `second-level tables supported: ${maskText(v, SAGAW_BITS)}` })) },
    { name: 'RSVD0', bits: [15, 13], title: 'Reserved', reserved: true },
    { name: 'MGAW', bits: [21, 16], title: 'Maximum Guest Address Width', values: gen(64, (v) => ({ name: `${v + 1}-bit`, text: `DMA addresses up to ${v + 1} bits` })) },
    { name: 'ZLR', bits: [22, 22], title: 'Zero Length Read' },
    { name: 'ISOCH', bits: [23, 23], title: 'Isochronous unit (Linux cap_isoch; deprecated in later specifications)' },
    { name: 'FRO', bits: [33, 24], title: 'Fault-recording Register Offset', values: gen(1024, (v) => ({ name: `0x${(v * 16).toString(16)}`, text: `fault-recording registers at MMIO offset 0x${(v * 16).toString(16)} (value × 16)` })) },
    { name: 'SLLPS', bits: [37, 34], title: 'Second Level Large Page Support', values: gen(16, (v) => ({ name: maskText(v, SLLPS_BITS), text: `second-level superpages: ${maskText(v, SLLPS_BITS)}` })) },
    { name: 'RSVD1', bits: [38, 38], title: 'Reserved', reserved: true },
    { name: 'PSI', bits: [39, 39], title: 'Page Selective Invalidation' },
    { name: 'NFR', bits: [47, 40], title: 'Number of Fault-recording Registers', values: gen(256, (v) => ({ name: `${v + 1}`, text: `${v + 1} fault-recording register${v ? 's' : ''} (value + 1)` })) },
    { name: 'MAMV', bits: [53, 48], title: 'Maximum Address Mask Value', format: 'dec', doc: 'Largest page-selective invalidation: 2^MAMV pages' },
    { name: 'DWD', bits: [54, 54], title: 'Write Draining' },
    { name: 'DRD', bits: [55, 55], title: 'Read Draining' },
    { name: 'FL1GP', bits: [56, 56], title: 'First Level 1-GByte Page Support' },
    { name: 'RSVD2', bits: [58, 57], title: 'Reserved', reserved: true },
    { name: 'PI', bits: [59, 59], title: 'Posted Interrupts Support' },
    { name: 'FL5LP', bits: [60, 60], title: 'First Level 5-level Paging Support' },
    { name: 'ECMDS', bits: [61, 61], title: 'Enhanced Command Support' },
    { name: 'ESIRTPS', bits: [62, 62], title: 'Enhanced Set Interrupt Root Table Pointer Support' },
    { name: 'ESRTPS', bits: [63, 63], title: 'Enhanced Set Root Table Pointer Support' },
  ],
  source: 'Linux iommu.h cap_* (6.12); VirtualBox iommu-intel.h VTD_BF_CAP_REG_*',
};

export const VTD_ECAP: RegisterDescription = {
  id: 'intel-vtd.ecap',
  family: 'intel-vtd',
  name: 'ECAP',
  key: 'ecap',
  width: 64,
  title: 'Extended Capability (DMAR_ECAP_REG 0x10)',
  fields: [
    { name: 'C', bits: [0, 0], title: 'Page-walk Coherency', whenClear: 'not coherent: software must flush CPU caches after writing tables' },
    { name: 'QI', bits: [1, 1], title: 'Queued Invalidation support' },
    { name: 'DT', bits: [2, 2], title: 'Device-TLB (ATS) support' },
    { name: 'IR', bits: [3, 3], title: 'Interrupt Remapping support' },
    { name: 'EIM', bits: [4, 4], title: 'Extended Interrupt Mode (x2APIC)' },
    { name: 'RSVD0', bits: [5, 5], title: 'Deprecated (must be zero)', reserved: true },
    { name: 'PT', bits: [6, 6], title: 'Pass Through support' },
    { name: 'SC', bits: [7, 7], title: 'Snoop Control' },
    { name: 'IRO', bits: [17, 8], title: 'IOTLB Register Offset', values: gen(1024, (v) => ({ name: `0x${(v * 16).toString(16)}`, text: `IOTLB registers at MMIO offset 0x${(v * 16).toString(16)} (value × 16)` })) },
    { name: 'RSVD1', bits: [19, 18], title: 'Reserved', reserved: true },
    { name: 'MHMV', bits: [23, 20], title: 'Maximum Handle Mask Value', format: 'dec' },
    { name: 'ECS', bits: [24, 24], title: 'Extended Context Support (VT-d 2.x; deprecated since 3.0)' },
    { name: 'MTS', bits: [25, 25], title: 'Memory Type Support' },
    { name: 'NEST', bits: [26, 26], title: 'Nested Translation support' },
    { name: 'DIS', bits: [27, 27], title: 'Deferred Invalidate Support (Linux ecap_dis; deprecated)' },
    { name: 'PASID_OLD', bits: [28, 28], title: 'PASID support of VT-d 2.x (Linux ecap_broken_pasid; deprecated)' },
    { name: 'PRS', bits: [29, 29], title: 'Page Request support (PRI)' },
    { name: 'ERS', bits: [30, 30], title: 'Execute Request support' },
    { name: 'SRS', bits: [31, 31], title: 'Supervisor Request support' },
    { name: 'RSVD2', bits: [32, 32], title: 'Reserved', reserved: true },
    { name: 'NWFS', bits: [33, 33], title: 'No Write Flag support' },
    { name: 'EAFS', bits: [34, 34], title: 'Extended Accessed Flag support' },
    // 0 is left unnamed: on units without PASID support it is just zero, not "1-bit PASIDs"
    { name: 'PSS', bits: [39, 35], title: 'PASID Size Supported', doc: 'PASID width - 1 (meaningful when PASID is supported)', values: Object.fromEntries(Object.entries(gen(32, (v) => ({ name: `${v + 1}-bit`, text: `PASIDs of ${v + 1} bits (value + 1)` }))).filter(([k]) => k !== '0')) },
    { name: 'PASID', bits: [40, 40], title: 'PASID support' },
    { name: 'DIT', bits: [41, 41], title: 'Device-TLB Invalidation Throttle' },
    { name: 'PDS', bits: [42, 42], title: 'Page-request Drain Support' },
    { name: 'SMTS', bits: [43, 43], title: 'Scalable Mode Translation Support' },
    { name: 'VCS', bits: [44, 44], title: 'Virtual Command Support' },
    { name: 'SLADS', bits: [45, 45], title: 'Second-Level Accessed/Dirty Support' },
    { name: 'SLTS', bits: [46, 46], title: 'Second-Level Translation Support' },
    { name: 'FLTS', bits: [47, 47], title: 'First-Level Translation Support' },
    { name: 'SMPWCS', bits: [48, 48], title: 'Scalable-Mode Page-Walk Coherency Support' },
    { name: 'RPS', bits: [49, 49], title: 'RID-PASID Support' },
    { name: 'RSVD3', bits: [50, 50], title: 'Reserved', reserved: true },
    { name: 'PMS', bits: [51, 51], title: 'Performance Monitoring Support (Linux ecap_pms)' },
    { name: 'ADMS', bits: [52, 52], title: 'Abort DMA Mode Support' },
    { name: 'RPRIVS', bits: [53, 53], title: 'RID_PRIV Support' },
    { name: 'HIGH', bits: [63, 54], title: 'Not decoded (reserved in VT-d 3.x; newer specifications may define these bits)' },
  ],
  source: 'Linux iommu.h ecap_* (6.12); VirtualBox iommu-intel.h VTD_BF_ECAP_REG_* (VT-d 3.x)',
};

/** Page request descriptor, printed raw by Linux ("%s: Invalid page request: %08llx %08llx"). */
export const VTD_PRQ_QW0: RegisterDescription = {
  id: 'intel-vtd.prq_qw0',
  family: 'intel-vtd',
  name: 'page_req_dsc qw0',
  key: 'prq_qw0',
  width: 64,
  title: 'Page request descriptor, quadword 0',
  fields: [
    { name: 'TYPE', bits: [7, 0], title: 'Descriptor type' },
    { name: 'PASID_PRESENT', bits: [8, 8], title: 'PASID present' },
    { name: 'PDP', bits: [9, 9], title: 'Private data present' },
    { name: 'RSVD0', bits: [15, 10], title: 'Reserved', reserved: true },
    { name: 'RID', bits: [31, 16], title: 'Requester ID', doc: 'bus[15:8] device[7:3] function[2:0]' },
    { name: 'PASID', bits: [51, 32], title: 'PASID' },
    { name: 'EXE', bits: [52, 52], title: 'Execute requested' },
    { name: 'PM', bits: [53, 53], title: 'Privileged mode requested' },
    { name: 'RSVD1', bits: [63, 54], title: 'Reserved', reserved: true },
  ],
  source: 'reference §3.7; Linux prq.c struct page_req_dsc',
};

export const VTD_PRQ_QW1: RegisterDescription = {
  id: 'intel-vtd.prq_qw1',
  family: 'intel-vtd',
  name: 'page_req_dsc qw1',
  key: 'prq_qw1',
  width: 64,
  title: 'Page request descriptor, quadword 1',
  fields: [
    { name: 'RD', bits: [0, 0], title: 'Read requested' },
    { name: 'WR', bits: [1, 1], title: 'Write requested' },
    { name: 'LPIG', bits: [2, 2], title: 'Last Page In Group', doc: 'The device waits for a page group response' },
    { name: 'PRG_INDEX', bits: [11, 3], title: 'Page Request Group index', format: 'hex' },
    { name: 'ADDR', bits: [63, 12], title: 'Page address', addressShift: 12 },
  ],
  source: 'reference §3.7; Linux prq.c struct page_req_dsc',
};

export const INTEL_VTD_REGISTERS: readonly RegisterDescription[] = [
  VTD_REASON, VTD_FSTS, VTD_FRCD, VTD_FRCD_LO, VTD_FRCD_HI, VTD_FECTL, VTD_GSTS, VTD_VER, VTD_RTADDR,
  VTD_CAP, VTD_ECAP, VTD_PRQ_QW0, VTD_PRQ_QW1,
];
