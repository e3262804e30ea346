import { describe, expect, it } from 'vitest';
import { scanText } from '../../../src/core/logs/scanner';

// Lines built from the TP_printk formats of include/trace/events/iommu.h (io_page_fault, mainline)
// and the SVA series' dev_fault / dev_page_response, in ftrace and trace-cmd column layouts.
describe('trace-events family', () => {
  it('io_page_fault in ftrace output: driver, device, iova, access and time', () => {
    const [r] = scanText('     kworker/2:1-87      [002] d.h1.  4321.123456: io_page_fault: IOMMU:nvme 0000:01:00.0 iova=0x00000000fffe1000 flags=0x0001');
    expect(r).toMatchObject({ family: 'iommu', kind: 'dma-fault', device: '0000:01:00.0', iova: '0xfffe1000', access: 'write', time: 4321.123456, registers: { flags: '0x1' } });
    expect(r!.decoded).toEqual({ event: 'io_page_fault', driver: 'nvme' });
  });

  it('io_page_fault with no driver bound and a platform device name', () => {
    const [r] = scanText('  <idle>-0 [000] ..s1. 12.000001: io_page_fault: IOMMU: fd500000.gpu iova=0x0000000000001000 flags=0x0000');
    expect(r).toMatchObject({ device: 'fd500000.gpu', iova: '0x1000', access: 'read' });
  });

  it('dev_fault page request (type 2) in trace-cmd layout with padded event column', () => {
    const [r] = scanText('   irq/55-dmar0-301   [001]   100.500000: dev_fault:            IOMMU:0000:00:02.0 type=2 reason=0 addr=0x00007f0012345000 fetch=0x0000000000000000 pasid=5 group=3 flags=3 prot=3');
    expect(r).toMatchObject({ kind: 'page-request', device: '0000:00:02.0', pasid: '0x5', iova: '0x7f0012345000', access: 'read+write', time: 100.5 });
    expect(r!.decoded).toMatchObject({ grpid: 3, last: true, type: 2 });
  });

  it('dev_fault unrecoverable (type 1) with the older last= layout and a reason', () => {
    const [r] = scanText('x-1 [000] .... 5.000000: dev_fault: IOMMU:0000:03:00.0 type=1 reason=6 addr=0x0000000000200000 pasid=0 group=0 last=0 prot=2');
    expect(r).toMatchObject({ kind: 'dma-fault', access: 'write', reason: { code: 6, name: 'PERMISSION' } });
  });

  it('dev_page_response with and without addr', () => {
    const [a, b] = scanText([
      'x-1 [000] .... 6.000000: dev_page_response: IOMMU:0000:00:02.0 code=0 pasid=5 group=3',
      'x-1 [000] .... 6.100000: dev_page_response: IOMMU:0000:00:02.0 code=1 addr=0x0000000000001000 pasid=16 group=7',
    ].join('\n'));
    expect(a).toMatchObject({ kind: 'page-response', pasid: '0x5', decoded: { code: 0, response: 'success', grpid: 3 } });
    expect(b).toMatchObject({ kind: 'page-response', pasid: '0x10', iova: '0x1000', decoded: { response: 'invalid', grpid: 7 } });
  });

  it('io-pgfault notices: the core answered the group itself', () => {
    const [a, b] = scanText([
      '[  77.000001] idxd 0000:6a:01.0: iopf with pasid 2 aborted',
      '[  78.000001] idxd 0000:6a:01.0: iopf (pasid 3) without domain attached or handler installed',
    ].join('\n'));
    expect(a).toMatchObject({ kind: 'page-response', device: '0000:6a:01.0', pasid: '0x2', reason: { name: 'IOPF_ABORTED' }, decoded: { auto: true } });
    expect(b).toMatchObject({ pasid: '0x3', reason: { name: 'IOPF_NO_HANDLER' }, time: 78.000001 });
  });

  it('ignores other trace events and garbage', () => {
    expect(scanText('x-1 [000] .... 6.0: map: IOMMU: iova=0x0000000000001000 paddr=0x0000000000002000 size=4096')).toEqual([]);
    expect(scanText('io_page_fault: IOMMU:' + 'x'.repeat(100000))).toEqual([]);
    expect(scanText('dev_page_response: IOMMU:dev code=1')).toEqual([]);
  });
});

describe('smmu_resume trace', () => {
  it('is a page response of the arm-smmu-v3 family with the CMD_RESUME code', () => {
    const [r] = scanText('x-1 [000] .... 9.500000: smmu_resume: sid=0x18 stag=0x7 resp=0x2');
    expect(r).toMatchObject({ family: 'arm-smmu-v3', kind: 'page-response', streamId: '0x18', time: 9.5, decoded: { stag: '0x7', resp: 'ABORT', response: 'failure' } });
  });
});
