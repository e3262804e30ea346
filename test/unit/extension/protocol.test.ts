import { describe, expect, it } from 'vitest';
import { isFromWebview } from '../../../src/core/protocol';

describe('messages from the details page are checked before use', () => {
  it('accepts the protocol messages', () => {
    expect(isFromWebview({ type: 'ready', hasState: false })).toBe(true);
    expect(isFromWebview({ type: 'rendered', title: 't', steps: 2, registers: 1, theme: 'vscode-dark' })).toBe(true);
    expect(isFromWebview({ type: 'revealLine', uri: 'file:///x.log', line: 3 })).toBe(true);
    expect(isFromWebview({ type: 'walkAgain' })).toBe(true);
  });

  it('rejects anything else', () => {
    expect(isFromWebview(null)).toBe(false);
    expect(isFromWebview('ready')).toBe(false);
    expect(isFromWebview({ type: 'runCommand', command: 'workbench.action.quit' })).toBe(false);
    expect(isFromWebview({ type: 'revealLine', uri: 'file:///x.log', line: 0 })).toBe(false);
    expect(isFromWebview({ type: 'revealLine', uri: 'file:///x.log', line: 1.5 })).toBe(false);
    expect(isFromWebview({ type: 'revealLine', uri: 7, line: 1 })).toBe(false);
    expect(isFromWebview({ type: 'ready' })).toBe(false);
  });
});
