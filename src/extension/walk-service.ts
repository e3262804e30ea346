/**
 * Walks addresses in the snapshot attached to a log. Loaded snapshots are cached by manifest
 * path and modification time, so a hover after the first one does not reload a 30 MB core.
 * Walk results are cached per (snapshot, request): hovers repeat the same record often.
 */
import * as vscode from 'vscode';
import { statSync } from 'node:fs';
import type { FaultRecord } from '../core/logs/record';
import type { Snapshot } from '../core/snapshot/types';
import type { WalkRequest, WalkResult } from '../core/walk/types';
import type { WalkView } from '../core/protocol';
import { requestFromRecord, requestView, snapshotFits } from './walk-request';
import type { SnapshotRegistry } from './snapshot-registry';

export interface WalkEngine {
  load(manifestPath: string): Promise<Snapshot> | Snapshot;
  walk(snapshot: Snapshot, req: WalkRequest): WalkResult;
}

const RESULT_CACHE = 500;

export class WalkService implements vscode.Disposable {
  private loaded: { path: string; mtime: number; snap: Promise<Snapshot> } | undefined;
  private readonly results = new Map<string, WalkView>();

  constructor(
    private readonly engine: WalkEngine,
    private readonly registry: SnapshotRegistry,
    private readonly log: vscode.LogOutputChannel,
  ) {
    registry.onDidChange(() => this.results.clear());
  }

  dispose(): void {
    this.loaded?.snap.then((old) => (old as { close?: () => void }).close?.(), () => undefined);
    this.loaded = undefined;
  }

  snapshotPath(log: vscode.Uri | undefined): string | undefined {
    return this.registry.snapshotFor(log)?.path;
  }

  private snapshot(path: string): Promise<Snapshot> {
    let mtime = 0;
    try { mtime = statSync(path).mtimeMs; } catch { /* load() reports the missing file */ }
    if (this.loaded && this.loaded.path === path && this.loaded.mtime === mtime) return this.loaded.snap;
    // A replaced snapshot holds open file handles on its memory sources.
    this.loaded?.snap.then((old) => (old as { close?: () => void }).close?.(), () => undefined);
    const t0 = Date.now();
    const snap = Promise.resolve().then(() => this.engine.load(path));
    snap.then((s) => this.log.info(`loaded snapshot ${path} (${s.model}${s.name ? ' ' + s.name : ''}) in ${Date.now() - t0} ms`),
      (e: unknown) => this.log.warn(`could not load snapshot ${path}: ${e instanceof Error ? e.message : String(e)}`));
    this.loaded = { path, mtime, snap };
    this.results.clear();
    return snap;
  }

  /** Walk a request on a given manifest. Never throws: failures come back in `error`. */
  async walk(manifest: string, req: WalkRequest): Promise<WalkView> {
    const request = requestView(req);
    const key = `${manifest}|${JSON.stringify(request)}`;
    const hit = this.results.get(key);
    if (hit) return hit;
    let view: WalkView;
    try {
      const snap = await this.snapshot(manifest);
      const t0 = Date.now();
      const result = this.engine.walk(snap, req);
      this.log.debug(`walk ${request.iova} on ${manifest}: ${result.result} after ${result.steps.length} steps, ${Date.now() - t0} ms`);
      view = { snapshot: manifest, request, result };
    } catch (e) {
      view = { snapshot: manifest, request, error: e instanceof Error ? e.message : String(e) };
    }
    if (this.results.size >= RESULT_CACHE) this.results.delete(this.results.keys().next().value!);
    this.results.set(key, view);
    return view;
  }

  /**
   * The walk for a record of a log, when a snapshot is attached and the record has an address.
   * A snapshot of another IOMMU model (a VT-d fault with an SMMUv3 snapshot attached) gives no
   * walk for hovers, and an explanation when `explain` is set (commands).
   */
  async walkRecord(r: FaultRecord, log: vscode.Uri | undefined, opts: { explain?: boolean } = {}): Promise<WalkView | undefined> {
    const manifest = this.snapshotPath(log);
    if (!manifest) return undefined;
    const req = requestFromRecord(r);
    if (!req) return undefined;
    let model: string | undefined;
    try { model = (await this.snapshot(manifest)).model; } catch { /* walk() reports the load error */ }
    if (model && !snapshotFits(r.family, model)) {
      if (!opts.explain) return undefined;
      return { snapshot: manifest, request: requestView(req), error: `the snapshot is of an ${model} IOMMU; this fault was printed by ${r.family}` };
    }
    return this.walk(manifest, req);
  }
}
