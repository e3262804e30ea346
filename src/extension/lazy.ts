/**
 * Modules loaded on first use instead of at activation: the log recognisers and the register
 * tables (most of the bundle's start-up work), and everything built on them. esbuild turns each
 * require() into a module evaluated when it is first called, so activation only evaluates the
 * light wiring (store, tree shell, commands, settings). Only modules that never run under vitest
 * may call these: vitest cannot require() TypeScript.
 */
import type * as ScannerModule from '../core/logs/scanner';
import type * as ExplainModule from '../core/decode/explain';
import type * as RegistersModule from '../core/decode/registers';
import type * as ScanAsyncModule from './scan-async';
import type * as RecordAtLineModule from './record-at-line';
import type * as RecordMarkdownModule from './record-markdown';
import type * as HoverModule from './hover';

function once<T>(load: () => T): () => T {
  let m: T | undefined;
  return () => (m ??= load());
}

export const scannerModule = once(() => require('../core/logs/scanner') as typeof ScannerModule);
export const explainModule = once(() => require('../core/decode/explain') as typeof ExplainModule);
export const registersModule = once(() => require('../core/decode/registers') as typeof RegistersModule);
export const scanAsyncModule = once(() => require('./scan-async') as typeof ScanAsyncModule);
export const recordAtLineModule = once(() => require('./record-at-line') as typeof RecordAtLineModule);
export const recordMarkdownModule = once(() => require('./record-markdown') as typeof RecordMarkdownModule);
export const hoverModule = once(() => require('./hover') as typeof HoverModule);
