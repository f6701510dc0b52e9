/**
 * fast-check with a fixed seed, so `npm test` is deterministic: a property that fails once fails every
 * run. Explore other inputs with `QUARRY_FC_SEED=<n> npm test` (fast-check prints the failing seed).
 */
import fc from "fast-check";

const seedText = process.env.QUARRY_FC_SEED;
fc.configureGlobal({ seed: seedText === undefined || seedText === "" ? 20261127 : Number(seedText) });

export default fc;
