/**
 * One print broken over several lines by a mail client, a bug tracker or an author's editor:
 *
 *   > [  837.255952] mtk-iommu 10205000.iommu: fault type=0x5
 *   > iova=0xfcff0001 pa=0x0 larb=0 port=0 layer=1 read
 *
 * The SoC families recognise the first half, then join the following lines (without their quote
 * marks) until the whole print is there. A following line is taken only while the joined text is
 * still a beginning of the print, so an unrelated next line is never swallowed.
 */
import type { Continuation, Feed } from '../recognizer';
import type { LogLine } from '../line';

// Quote marks, bar quoting and indentation in front of a wrapped half.
const RE_QUOTE_LEAD = /^[\s>|]{0,24}/;

/** A wrapped half without the marks the quoting put in front of it. */
export function unquote(message: string): string {
  return message.replace(RE_QUOTE_LEAD, '').trimStart();
}

/** Join a wrapped half; a break right after "key=" keeps the value with its key. */
export function joinWrapped(head: string, next: string): string {
  const h = head.trimEnd();
  return h.endsWith('=') ? h + next.trimEnd() : `${h} ${next.trimEnd()}`;
}

export interface WrappedPrint {
  /** the joined text is the whole print: fill the record from it */
  complete(joined: string): boolean;
  /** the joined text can still grow into the whole print */
  partial(joined: string): boolean;
  /** at most this many following lines */
  max: number;
  /**
   * The print has no "=" where it may be cut: an "=" ending the text so far is a quoted-printable
   * soft line break, whose halves join without the "=" and without a blank ("suppre=" + "ssed").
   */
  softBreaks?: boolean;
  /** A terminal may have cut the print at any column: a join without the blank is tried too. */
  anyColumn?: boolean;
}

/** The text without its quoted-printable soft line break (an "=" ending it), or undefined without one. */
export function withoutSoftBreak(text: string): string | undefined {
  const t = text.trimEnd();
  return t.length > 1 && t.charCodeAt(t.length - 1) === 61 ? t.slice(0, -1) : undefined; // '='
}

/** The texts a wrapped half may make with what came before it, most likely first. */
function joinsOf(head: string, message: string, w: WrappedPrint): string[] {
  const soft = w.softBreaks ? withoutSoftBreak(head) : undefined;
  // a soft break's next line is the rest of the same line: its blanks and marks are text
  if (soft !== undefined) return [soft + message.trimEnd()];
  const part = unquote(message);
  if (!part) return [];
  const spaced = joinWrapped(head, part);
  return w.anyColumn ? [spaced, head.trimEnd() + part.trimEnd()] : [spaced];
}

/**
 * The usual WrappedPrint: the joined text is complete when `whole` matches it (then `fill` takes
 * the match) and can still grow while `head` matches it.
 */
export function byPatterns(whole: RegExp, head: RegExp, fill: (m: RegExpExecArray) => void, max: number): WrappedPrint {
  return {
    max,
    complete: (joined) => {
      const m = whole.exec(joined);
      if (m) fill(m);
      return m !== null;
    },
    partial: (joined) => head.test(joined),
  };
}

/** A continuation that has handed its record to `next`: feeds it, and keeps its window. */
function feedOn(self: Continuation, next: Continuation, l: LogLine): Feed {
  const v = next.feed(l);
  self.window = next.window;
  return v;
}

/**
 * Continuation that joins the wrapped halves of one print. A line that carries a timestamp of
 * its own is a new printk record, never a wrapped half.
 */
export function wrappedContinuation(head: string, w: WrappedPrint, after?: () => Continuation | undefined): Continuation {
  let joined = head;
  let taken = 0;
  let next: Continuation | undefined;
  const c: Continuation = {
    window: 1,
    feed(l: LogLine) {
      if (next) return feedOn(c, next, l);
      if (l.time !== undefined || taken >= w.max) return 'end';
      const candidates = joinsOf(joined, l.message, w);
      for (const candidate of candidates) {
        if (!w.complete(candidate)) continue;
        joined = candidate;
        next = after?.();
        if (!next) return 'done';
        c.window = next.window;
        return 'more';
      }
      const grown = candidates.find((t) => w.partial(t));
      if (grown === undefined) return 'end';
      joined = grown;
      taken++;
      return 'more';
    },
    finish() {
      next?.finish?.();
    },
  };
  return c;
}

/**
 * A record that waits one line (window 1) for what decides how it goes on: `first` reads that
 * line and answers 'done' or 'end', or the continuation that takes the lines after it.
 */
export function handOver(first: (l: LogLine) => Continuation | 'done' | 'end'): Continuation {
  let then: Continuation | undefined;
  const cont: Continuation = {
    window: 1,
    feed(l: LogLine) {
      if (then) return feedOn(cont, then, l);
      const next = first(l);
      if (typeof next === 'string') return next;
      then = next;
      cont.window = next.window;
      return 'more';
    },
  };
  return cont;
}
