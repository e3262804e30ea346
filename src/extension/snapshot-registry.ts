/**
 * Which snapshot goes with which log. A manifest attached by the user is remembered per
 * workspace (workspaceState); otherwise NAME.iommu.json beside NAME.log (or NAME.txt, ...) is
 * attached automatically, as capture scripts write them side by side.
 */
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';

const KEY = 'iommuLens.snapshots';
const DEFAULT = '';

export const MANIFEST_SUFFIX = '.iommu.json';

/** NAME.iommu.json for NAME.log, NAME.dmesg, NAME (no extension) */
export function besideCandidates(fsPath: string): string[] {
  const slash = fsPath.lastIndexOf('/');
  const dot = fsPath.lastIndexOf('.');
  const stem = dot > slash + 1 ? fsPath.slice(0, dot) : fsPath;
  const out = [stem + MANIFEST_SUFFIX];
  if (stem !== fsPath) out.push(fsPath + MANIFEST_SUFFIX);
  return out;
}

export class SnapshotRegistry {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly state: vscode.Memento) {}

  private map(): Record<string, string> {
    const m = this.state.get<Record<string, string>>(KEY);
    return m && typeof m === 'object' ? { ...m } : {};
  }

  /** The manifest for a log: remembered choice, else one beside the log, else the workspace default. */
  snapshotFor(log: vscode.Uri | undefined): { path: string; how: 'attached' | 'beside' | 'default' } | undefined {
    const m = this.map();
    if (log) {
      const explicit = m[log.toString()];
      if (explicit) return { path: explicit, how: 'attached' };
      if (log.scheme === 'file') {
        for (const c of besideCandidates(log.fsPath)) if (existsSync(c)) return { path: c, how: 'beside' };
      }
    }
    const d = m[DEFAULT];
    return d ? { path: d, how: 'default' } : undefined;
  }

  async attach(manifest: string, log: vscode.Uri | undefined): Promise<void> {
    const m = this.map();
    m[log ? log.toString() : DEFAULT] = manifest;
    // The latest attachment also serves logs that have none of their own.
    m[DEFAULT] = manifest;
    await this.state.update(KEY, m);
    this.changed.fire();
  }

  async detach(log: vscode.Uri | undefined): Promise<void> {
    const m = this.map();
    const key = log ? log.toString() : DEFAULT;
    // The workspace default came from the same attachment: it goes too.
    if (m[key] !== undefined && m[DEFAULT] === m[key]) delete m[DEFAULT];
    delete m[key];
    await this.state.update(KEY, m);
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }
}
