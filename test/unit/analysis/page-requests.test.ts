import { describe, expect, it } from 'vitest';
import { analyzeText } from '../../../src/core/analysis/analyzer';
import { PageRequestTracker } from '../../../src/core/analysis/page-requests';
import { corpusAvailable, corpusEntries } from '../../helpers/corpus';

// ftrace lines built from the TP_printk formats: prq_report (intel/trace.h), dev_page_response and
// detach_device_from_domain (include/trace/events/iommu.h); task/CPU columns as ftrace prints them.
const tr = (t: number, ev: string, body: string) => `   irq/42-dmar0-301   [003] d..1.  ${t.toFixed(6)}: ${ev}: ${body}`;
const prq = (t: number, seq: number, pasid: number, index: number, last: boolean, page = 0x7f001) =>
  tr(t, 'prq_report', `dmar0/0000:00:02.0 seq# ${seq}: rid=0x10 addr=0x${page.toString(16)} rw--${last ? 'l' : '-'} pasid=0x${pasid.toString(16)} index=0x${index.toString(16)}`);
const resp = (t: number, pasid: number, group: number, code: number) => tr(t, 'dev_page_response', `IOMMU:0000:00:02.0 code=${code} pasid=${pasid} group=${group}`);
const detach = (t: number) => tr(t, 'detach_device_from_domain', 'IOMMU: device=0000:00:02.0');

describe('page-request lifecycle on synthetic timelines', () => {
  const log = [
    prq(100.0, 1, 1, 3, true),            // answered: success
    resp(100.1, 1, 3, 0),
    prq(100.2, 2, 2, 4, true),            // outstanding when the handler goes away
    detach(100.3),
    prq(100.4, 3, 2, 0, true),            // PASID 2 re-allocated to a new address space
    resp(100.5, 2, 4, 0),                 // response to the old group: stale
    resp(100.6, 2, 0, 1),                 // the new group: answered invalid
    resp(100.7, 9, 9, 0),                 // nothing of PASID 9 ever asked: spurious
    prq(100.8, 4, 3, 1, false),           // a group that never completes...
    prq(100.9, 7, 3, 1, false),           // ...and seq# 5-6 are missing from the trace
    '[  101.000000] IOMMU: dmar0: PRQ overflow detected',
    '[  101.000100] IOMMU: dmar0: PRQ overflow cleared',
    prq(101.1, 8, 5, 2, true),
    '[  101.200000] idxd 0000:00:02.0: iopf with pasid 5 aborted',
  ].join('\n');
  const pr = analyzeText(log).pageRequests;

  it('counts every state', () => {
    expect(pr.counts).toEqual({ pending: 1, answered: 2, 'auto-answered': 2, spurious: 1, stale: 1, lost: 1 });
  });

  it('answered groups carry the response code and what answered them', () => {
    const a = pr.samples.filter((g) => g.state === 'answered');
    expect(a.map((g) => [g.pasid, g.group, g.response, g.seq?.first])).toEqual([['0x1', '3', 'success', 1], ['0x2', '0', 'invalid', 3]]);
    expect(a[0]!.answeredBy).toMatch(/dev_page_response/);
  });

  it('a handler removed with a request outstanding auto-answers it; a later response to it is stale', () => {
    const auto = pr.samples.filter((g) => g.state === 'auto-answered');
    expect(auto.map((g) => [g.pasid, g.group])).toEqual([['0x2', '4'], ['0x5', '2']]);
    expect(auto[0]!.answeredBy).toMatch(/detach_device_from_domain/);
    expect(auto[1]).toMatchObject({ response: 'failure' });
    const stale = pr.samples.find((g) => g.state === 'stale')!;
    expect(stale).toMatchObject({ kind: 'response', pasid: '0x2', group: '4', response: 'success' });
    expect(stale.note).toMatch(/re-allocated/);
  });

  it('a response nobody asked for is spurious', () => {
    expect(pr.samples.find((g) => g.state === 'spurious')).toMatchObject({ pasid: '0x9', group: '9', device: '0000:00:02.0' });
  });

  it('the incomplete group stays pending, with its sequence numbers and the overflow that may have eaten its end', () => {
    expect(pr.pending).toHaveLength(1);
    expect(pr.pending[0]).toMatchObject({ state: 'pending', pasid: '0x3', group: '1', requests: 2, complete: false, seq: { first: 4, last: 7 } });
    expect(pr.pending[0]!.note).toMatch(/overflow at line 11/);
    expect(pr.losses).toEqual([{ family: 'intel-vtd', iommu: 'dmar0', line: 11, time: 101, what: 'PRQ overflow detected' }]);
    expect(pr.seqGaps).toEqual([{ iommu: 'dmar0', after: 4, next: 7, missing: 2, line: 10 }]);
  });

  it('a sequence that restarts means the IOMMU was reset: what was outstanding is lost', () => {
    const r = analyzeText([prq(1, 50, 1, 1, false), prq(2, 0, 1, 2, true)].join('\n')).pageRequests;
    expect(r.counts.lost).toBe(1);
    expect(r.samples[0]).toMatchObject({ state: 'lost', group: '1' });
    expect(r.samples[0]!.note).toMatch(/restarted/);
    expect(r.pending.map((g) => g.group)).toEqual(['2']);
  });
});

describe('driver-answered requests and stalls', () => {
  it('SMMUv3 "unexpected PRI request": denied on the last request of the group, pending before', () => {
    const pr = analyzeText([
      'arm-smmu-v3 arm-smmu-v3.0.auto: unexpected PRI request received:',
      'arm-smmu-v3 arm-smmu-v3.0.auto: \tsid 0x00000010.0x00001: [3L] unprivileged RW access at iova 0x0000000012345000',
      'arm-smmu-v3 arm-smmu-v3.0.auto: unexpected PRI request received:',
      'arm-smmu-v3 arm-smmu-v3.0.auto: \tsid 0x00000010.0x00001: [4] unprivileged R access at iova 0x0000000012346000',
    ].join('\n')).pageRequests;
    expect(pr.counts).toMatchObject({ answered: 1, pending: 1 });
    expect(pr.samples[0]).toMatchObject({ group: '3', pasid: '0x1', streamId: '0x10', response: 'invalid' });
    expect(pr.samples[0]!.answeredBy).toMatch(/PRI_RESP_DENY/);
    expect(pr.pending[0]).toMatchObject({ group: '4', complete: false });
  });

  it('AMD-Vi PPR entries Linux logs are answered with failure (COMPLETE_PPR); the tag holds group index and last bit', () => {
    const t = new PageRequestTracker();
    t.record({ line: 1, family: 'amd-vi', kind: 'page-request', device: '0000:03:00.0', pasid: '0x1', iova: '0x7f000', registers: { tag: '0x205' }, reason: { name: 'PPR', text: 'page request not handled: Invalid request format' } });
    const s = t.summary();
    expect(s.counts.answered).toBe(1);
    expect(s.samples[0]).toMatchObject({ group: '5', complete: true, response: 'failure' });
  });

  it.skipIf(!corpusAvailable())('SMMUv2 stalled context faults (FSR.SS, real Adreno lines): each new stall of the bank means the last was resumed', () => {
    const e = corpusEntries('arm-smmu.txt').find((x) => x.lines.some((l) => l.includes('fsr=0x40000202')))!;
    const pr = analyzeText(e.lines.join('\n')).pageRequests;
    const stalls = [...pr.samples, ...pr.pending].filter((g) => g.kind === 'stall');
    expect(stalls.length).toBeGreaterThanOrEqual(2);
    expect(pr.pending).toHaveLength(1);
    expect(pr.pending[0]).toMatchObject({ kind: 'stall', group: 'cb0', iommu: '1c48000.iommu-ctx' });
    expect(pr.pending[0]!.note).toMatch(/RESUME/);
    expect(pr.samples.every((g) => g.state === 'answered' && g.response === 'unknown')).toBe(true);
  });

  it('SMMUv3 stall events: pending until a response; printed by Linux means the driver terminated it', () => {
    const pr = analyzeText([
      'arm-smmu-v3 arm-smmu-v3.0.auto: event: F_TRANSLATION client: 0000:00:03.0 sid: 0x18 ssid: 0x0 iova: 0x40000 ipa: 0x0',
      'arm-smmu-v3 arm-smmu-v3.0.auto: priv data read s1 "Input address caused fault" stall stag: 0x7',
    ].join('\n')).pageRequests;
    expect(pr.pending).toHaveLength(1);
    expect(pr.pending[0]).toMatchObject({ kind: 'stall', group: '0x7' });
    expect(pr.pending[0]!.note).toMatch(/terminates/);
  });
});

describe('SVA development-tree traces', () => {
  it('smmu_resume answers the stalled transaction of its StreamID and STAG', () => {
    const pr = analyzeText([
      'arm-smmu-v3 arm-smmu-v3.0.auto: event: F_TRANSLATION client: 0000:00:03.0 sid: 0x18 ssid: 0x0 iova: 0x40000 ipa: 0x0',
      'arm-smmu-v3 arm-smmu-v3.0.auto: priv data read s1 "Input address caused fault" stall stag: 0x7',
      tr(5, 'smmu_resume', 'sid=0x18 stag=0x7 resp=0x1'),
      tr(6, 'smmu_resume', 'sid=0x18 stag=0x9 resp=0x2'),
    ].join('\n')).pageRequests;
    expect(pr.pending).toEqual([]);
    expect(pr.counts).toMatchObject({ answered: 1, spurious: 1 });
    expect(pr.samples[0]).toMatchObject({ kind: 'stall', group: '0x7', response: 'success' });
    expect(pr.samples[0]!.answeredBy).toMatch(/CMD_RESUME RETRY/);
    expect(pr.samples[1]).toMatchObject({ state: 'spurious', group: '0x9', streamId: '0x18', response: 'failure' });
  });

  it('io_mm_free with a group outstanding: the group is auto-answered, a later response to it is stale', () => {
    const pr = analyzeText([
      tr(1, 'dev_fault', 'IOMMU:0000:00:02.0 type=2 reason=0 addr=0x0000000000401000 fetch=0x0000000000000000 pasid=7 group=2 flags=3 prot=1'),
      tr(2, 'io_mm_free', 'pasid=7'),
      tr(3, 'dev_page_response', 'IOMMU:0000:00:02.0 code=0 pasid=7 group=2'),
    ].join('\n')).pageRequests;
    expect(pr.counts).toMatchObject({ 'auto-answered': 1, stale: 1, pending: 0 });
    expect(pr.samples.find((g) => g.state === 'auto-answered')!.answeredBy).toMatch(/io_mm_free/);
  });
});
