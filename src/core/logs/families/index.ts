/**
 * Every log family's recogniser, in priority order: a line is given to the first recogniser
 * (in this order) whose keys it contains and that recognises it. Hypervisor-specific and
 * vendor-specific recognisers come before the generic ones they resemble.
 * Adding a family: write `families/<name>.ts` exporting a `Recognizer`, add it here.
 */
import type { Recognizer } from '../recognizer';
import { ratelimitRecognizer } from './ratelimit';

export const RECOGNIZERS: readonly Recognizer[] = [
  ratelimitRecognizer,
];
