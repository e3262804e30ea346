/** Typed access to the `iommuLens.*` settings declared in package.json. */
import * as vscode from 'vscode';

export const SECTION = 'iommuLens';
export const KERNEL_LOG = 'kernel-log';

export interface Settings {
  hoverEnabled: boolean;
  hoverLanguages: string[];
  hoverWalk: boolean;
  followActiveEditor: boolean;
  /** documents larger than this are scanned from disk in the background */
  backgroundScanBytes: number;
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration(SECTION);
  const langs = c.get<unknown>('hover.languages');
  return {
    hoverEnabled: c.get<boolean>('hover.enabled', true),
    hoverLanguages: Array.isArray(langs) ? langs.filter((l): l is string => typeof l === 'string') : [KERNEL_LOG, 'log', 'plaintext'],
    hoverWalk: c.get<boolean>('hover.walk', true),
    followActiveEditor: c.get<boolean>('faults.followActiveEditor', true),
    backgroundScanBytes: Math.max(0, c.get<number>('scan.backgroundThresholdMB', 4)) * 1024 * 1024,
  };
}

/** Languages whose documents the extension scans (the hover's list plus its own language). */
export function scannedLanguages(s: Settings): Set<string> {
  return new Set([KERNEL_LOG, ...s.hoverLanguages]);
}
