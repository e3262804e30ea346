/**
 * Fault registers of GPUs whose MMU is part of the GPU, as their drivers print them raw:
 * Arm Mali (panfrost, panthor, kbase) AS_FAULTSTATUS and AMD's VM_L2_PROTECTION_FAULT_STATUS.
 */
import type { FieldValue, RegisterDescription } from '../register';

/** Mali MMU exception types (AS_FAULTSTATUS bits 7:0), as panfrost_exception_name() names them. */
export function maliExceptionName(code: number): FieldValue | undefined {
  const lvl = code & 7;
  const cls = code & 0xf8;
  switch (cls) {
    case 0xc0: return { name: `TRANSLATION_FAULT_${lvl}`, text: `translation fault at page table level ${lvl}: the GPU address is not mapped` };
    case 0xc8: return { name: `PERMISSION_FAULT_${lvl}`, text: `permission fault (level ${lvl}): the mapping does not allow this access` };
    case 0xd0: return { name: `TRANSTAB_BUS_FAULT_${lvl}`, text: `bus fault while reading the page table at level ${lvl}` };
    case 0xd8: return { name: `ACCESS_FLAG_${lvl}`, text: `access flag fault (level ${lvl})` };
    case 0xe0: return { name: `ADDR_SIZE_FAULT_IN${lvl & 3}`, text: 'address size fault: the input address is larger than the address space allows' };
    case 0xe8: return { name: `MEM_ATTR_FAULT_${lvl & 3}`, text: 'memory attributes fault' };
    default: return undefined;
  }
}

const maliExceptions: Record<number, FieldValue> = {};
for (let c = 0xc0; c <= 0xef; c++) {
  const v = maliExceptionName(c);
  if (v) maliExceptions[c] = v;
}

export const MALI_AS_FAULTSTATUS: RegisterDescription = {
  id: 'gpu-mmu.as_faultstatus',
  family: 'gpu-mmu',
  name: 'AS_FAULTSTATUS',
  key: 'as_faultstatus',
  width: 32,
  title: 'Mali GPU MMU address space fault status',
  doc: 'What went wrong in the GPU\'s own MMU for one address space (panfrost/panthor/kbase print it as "raw fault status").',
  source: 'Linux drivers/gpu/drm/panfrost/panfrost_mmu.c (exception_type = status & 0xFF, access_type = (status >> 8) & 3, source_id = status >> 16)',
  fields: [
    { name: 'SOURCE_ID', bits: [31, 16], title: 'Source ID', doc: 'which GPU unit issued the faulting access (implementation specific)' },
    { name: 'DECODER_FAULT', bits: [10, 10], title: 'Decoder fault', doc: 'DECODER FAULT: the address decoder rejected the access', whenClear: 'SLAVE FAULT: the fault came from the MMU (slave)' },
    {
      name: 'ACCESS_TYPE', bits: [9, 8], title: 'Access type', format: 'dec',
      values: {
        0: { name: 'ATOMIC', text: 'an atomic access (RESERVED on older Mali MMUs)' },
        1: { name: 'EXECUTE', text: 'an instruction fetch' },
        2: { name: 'READ', text: 'a read' },
        3: { name: 'WRITE', text: 'a write' },
      },
    },
    { name: 'EXCEPTION_TYPE', bits: [7, 0], title: 'Exception type', values: maliExceptions, doc: 'the kind of MMU fault' },
  ],
};

export const AMD_VM_L2_PROTECTION_FAULT_STATUS: RegisterDescription = {
  id: 'gpu-mmu.vm_l2_protection_fault_status',
  family: 'gpu-mmu',
  name: 'VM_L2_PROTECTION_FAULT_STATUS',
  key: 'vm_l2_protection_fault_status',
  width: 32,
  title: 'AMD GPU VM L2 protection fault status (GCVM_/MMVM_ variants)',
  doc: 'Status the AMD GPU latches for the first fault of a burst. The client ID and RW bit positions differ between generations (gfx9/MMHUB: CID 17:9, RW 18; gfx10+ GCVM: CID 15:9, RW 16), so the driver\'s own decoded lines are the reference for those.',
  source: 'Linux amdgpu *_sh_mask.h (MMVM/GCVM_L2_PROTECTION_FAULT_STATUS__*_MASK), gmc_v9_0.c',
  fields: [
    { name: 'VMID', bits: [23, 20], title: 'VMID', format: 'dec', doc: 'the GPU virtual memory ID (process address space) that faulted' },
    { name: 'MAPPING_ERROR', bits: [8, 8], title: 'Mapping error', doc: 'the address is not mapped (no valid page table entry)' },
    { name: 'PERMISSION_FAULTS', bits: [7, 4], title: 'Permission faults', doc: 'the page is mapped but its permission bits do not allow this access' },
    { name: 'WALKER_ERROR', bits: [3, 1], title: 'Walker error', doc: 'the page table walker hit an error (bad page directory entry, or a bus error reading the tables)' },
    { name: 'MORE_FAULTS', bits: [0, 0], title: 'More faults', doc: 'more faults happened after this one (only the first is latched)' },
  ],
};

export const GPU_MMU_REGISTERS: readonly RegisterDescription[] = [MALI_AS_FAULTSTATUS, AMD_VM_L2_PROTECTION_FAULT_STATUS];
