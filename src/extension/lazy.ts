/**
 * Modules loaded on first use instead of at activation. They live in a bundle of their own
 * (dist/extension-engine.js, built from engine.ts; see scripts/build.mjs) that is required the
 * first time one of them is needed, so activation neither parses nor evaluates them. Only modules
 * that never run under vitest may call these (there is no bundle there).
 */
import type * as ScannerModule from '../core/logs/scanner';
import type * as ExplainModule from '../core/decode/explain';
import type * as RegistersModule from '../core/decode/registers';
import type * as ScanAsyncModule from './scan-async';
import type * as InputFormatModule from '../node/input-format';
import type * as RecordAtLineModule from './record-at-line';
import type * as RecordMarkdownModule from './record-markdown';
import type * as HoverModule from './hover';
import type * as EngineModule from './engine';

function once<T>(load: () => T): () => T {
  let m: T | undefined;
  return () => (m ??= load());
}

/** The engine bundle; the path is kept literal (external) by the extension's build. */
export const engine = once(() => require('./extension-engine.js') as typeof EngineModule);

export const scannerModule = (): typeof ScannerModule => engine().scanner;
export const explainModule = (): typeof ExplainModule => engine().explain;
export const registersModule = (): typeof RegistersModule => engine().registers;
export const scanAsyncModule = (): typeof ScanAsyncModule => engine().scanAsync;
export const inputFormatModule = (): typeof InputFormatModule => engine().inputFormat;
export const recordAtLineModule = (): typeof RecordAtLineModule => engine().recordAtLine;
export const recordMarkdownModule = (): typeof RecordMarkdownModule => engine().recordMarkdown;
export const hoverModule = (): typeof HoverModule => engine().hover;
