/**
 * What a log file holds, from its first bytes, and a stream of its text. Logs reach people
 * rotated and compressed (kern.log.2.gz, messages-20241121.xz, journal exports in .zst), or saved
 * by a Windows shell as UTF-16; scanned as bytes they would silently give no records.
 * gzip is decompressed in-process (node:zlib); xz, zstd and bzip2 through the system's own
 * decompressor, whose absence is reported with what to install or run instead.
 */
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createGunzip } from 'node:zlib';

export type InputFormat = 'text' | 'gzip' | 'xz' | 'zstd' | 'bzip2' | 'utf16le' | 'utf16be' | 'journal';

const MAGIC: [InputFormat, number[]][] = [
  ['gzip', [0x1f, 0x8b]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['bzip2', [0x42, 0x5a, 0x68]], // "BZh", then the block size digit
  ['journal', [0x4c, 0x50, 0x4b, 0x53, 0x48, 0x48, 0x52, 0x48]], // "LPKSHHRH": a systemd journal file
  ['utf16le', [0xff, 0xfe]],
  ['utf16be', [0xfe, 0xff]],
];

/** An input the scanner cannot read, with what to do instead: shown to the user as is. */
export class InputError extends Error {}

/**
 * The format of a regular file from its first bytes; pipes and devices are read as text (their
 * bytes cannot be peeked at without being consumed).
 */
export function inputFormat(path: string): InputFormat {
  if (path === '/dev/stdin') return 'text'; // never opened by name: it may be a socket
  const fd = openSync(path, 'r');
  try {
    if (!fstatSync(fd).isFile()) return 'text';
    const head = Buffer.alloc(8);
    const n = readSync(fd, head, 0, 8, 0);
    for (const [format, magic] of MAGIC) {
      if (n < magic.length || !magic.every((b, i) => head[i] === b)) continue;
      // "BZh" must be followed by the block size digit, or it is just a line starting "BZh"
      if (format === 'bzip2' && !(head[3]! >= 0x31 && head[3]! <= 0x39)) continue;
      return format;
    }
    return 'text';
  } finally {
    closeSync(fd);
  }
}

const TOOLS: Partial<Record<InputFormat, { cmd: string; pkg: string }>> = {
  xz: { cmd: 'xz', pkg: 'xz-utils' },
  zstd: { cmd: 'zstd', pkg: 'zstd' },
  bzip2: { cmd: 'bzip2', pkg: 'bzip2' },
};

/** The file's text as UTF-8 chunks, decompressed or transcoded as `format` says. */
export async function* textChunks(path: string, format: InputFormat): AsyncGenerator<Uint8Array> {
  if (format === 'journal') {
    throw new InputError(`is a binary systemd journal file; export its kernel messages first: journalctl --file ${path} -k -o short-monotonic > kernel.log`);
  }
  if (format === 'gzip') { yield* gunzipped(path); return; }
  if (format === 'utf16le' || format === 'utf16be') { yield* transcoded(path, format); return; }
  if (format === 'text') { yield* createReadStream(path); return; }
  yield* throughTool(path, format, TOOLS[format]!);
}

async function* gunzipped(path: string): AsyncGenerator<Uint8Array> {
  const src = createReadStream(path);
  let read = 0;
  src.on('data', (c) => { read += c.length; });
  const z = src.pipe(createGunzip());
  src.on('error', (e) => z.destroy(e));
  try {
    for await (const chunk of z) yield chunk as Buffer;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'Z_BUF_ERROR' || /unexpected end/i.test(String((e as Error).message))) {
      throw new InputError(`gzip data ends early (truncated file?) after ${read} compressed bytes; the lines before that point were scanned`);
    }
    if ((e as NodeJS.ErrnoException).code?.startsWith('Z_')) {
      throw new InputError(`gzip data is corrupt within the first ${read} compressed bytes (${(e as Error).message}); the lines before that point were scanned`);
    }
    throw e;
  }
}

async function* transcoded(path: string, format: 'utf16le' | 'utf16be'): AsyncGenerator<Uint8Array> {
  const dec = new TextDecoder(format === 'utf16le' ? 'utf-16le' : 'utf-16be'); // drops the BOM
  for await (const chunk of createReadStream(path)) {
    const s = dec.decode(chunk as Buffer, { stream: true });
    if (s) yield Buffer.from(s, 'utf8');
  }
  const rest = dec.decode();
  if (rest) yield Buffer.from(rest, 'utf8');
}

async function* throughTool(path: string, format: InputFormat, tool: { cmd: string; pkg: string }): AsyncGenerator<Uint8Array> {
  const child = spawn(tool.cmd, ['-dc', '--', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => { if (stderr.length < 4096) stderr += s; });
  const exited = new Promise<{ code: number | null; error?: NodeJS.ErrnoException }>((resolve) => {
    child.on('error', (error: NodeJS.ErrnoException) => resolve({ code: null, error }));
    child.on('close', (code) => resolve({ code }));
  });
  let whole = false;
  try {
    for await (const chunk of child.stdout) yield chunk as Buffer;
    whole = true;
  } finally {
    if (!whole) child.kill(); // the reader stopped early
  }
  const { code, error } = await exited;
  if (error?.code === 'ENOENT') {
    throw new InputError(`is ${format}-compressed and '${tool.cmd}' is not installed: install ${tool.pkg}, or decompress it first (${tool.cmd} -dc ${path} > kernel.log)`);
  }
  if (error) throw error;
  if (code !== 0) {
    throw new InputError(`${tool.cmd} -dc failed (exit ${code}): ${stderr.trim().split('\n').pop() || 'no message'}; the lines before that point were scanned`);
  }
}

/**
 * The text of a compressed or UTF-16 log for reading in an editor, up to `cap` bytes of UTF-8 cut
 * at a line end (an editor will not hold a multi-GB storm), with a last line saying so.
 */
export async function textOf(path: string, cap = 48 << 20): Promise<string> {
  const format = inputFormat(path);
  const parts: Buffer[] = [];
  let size = 0;
  let cut = false;
  let broken: string | undefined;
  try {
    for await (const chunk of textChunks(path, format)) {
      const c = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      if (size + c.length <= cap) { parts.push(Buffer.from(c)); size += c.length; continue; }
      const room = c.subarray(0, cap - size);
      const nl = room.lastIndexOf(10);
      if (nl >= 0) parts.push(Buffer.from(room.subarray(0, nl + 1)));
      cut = true;
      break;
    }
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    broken = e.message; // show what was read, and why it stops there
  }
  let text = Buffer.concat(parts).toString('utf8');
  if (cut) text += `… (the first ${cap >> 20} MiB of the ${format === 'text' ? '' : `${format} `}log: decompress it to read the rest)\n`;
  if (broken) text += `${text.endsWith('\n') || !text ? '' : '\n'}… (${broken})\n`;
  return text;
}
