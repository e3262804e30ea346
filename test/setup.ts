// Property tests run with a fixed seed so that CI is reproducible; set FC_SEED=random (or a number)
// to explore other cases locally. A failure prints its seed and path for replay.
import fc from 'fast-check';

const s = process.env.FC_SEED;
if (s !== 'random') fc.configureGlobal({ seed: s ? Number(s) : 20261121 });
