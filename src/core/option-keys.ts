/**
 * Strict option objects: a key a function does not know is an error that names it, with the nearest
 * valid key, or with our name for it when it is Captum's or Zennit's (`nSteps` → `steps`). A typo such
 * as `{ stpes: 3 }` would otherwise run silently with the defaults.
 */
import { describeValue, GlassboxArgumentError } from './errors';

/**
 * Option names of Captum, Zennit and pytorch-grad-cam (camelCase and snake_case) that users bring, with
 * the name they have here. Names that mean the same in both libraries (`target`, `baseline`) are absent.
 */
const FOREIGN_NAMES: Readonly<Record<string, string>> = {
  nSteps: 'steps',
  n_steps: 'steps',
  internalBatchSize: 'batchSize',
  internal_batch_size: 'batchSize',
  perturbationsPerEval: 'batchSize',
  perturbations_per_eval: 'batchSize',
  batch_size: 'batchSize',
  baselines: 'baseline',
  nSamples: 'samples',
  n_samples: 'samples',
  ntSamples: 'samples',
  nt_samples: 'samples',
  nPerturbSamples: 'samples',
  n_perturb_samples: 'samples',
  ntType: 'kind',
  nt_type: 'kind',
  stdevs: 'stdev',
  slidingWindowShapes: 'window',
  sliding_window_shapes: 'window',
  feature_mask: 'featureMask',
  relu_attributions: 'relu',
  reluAttributions: 'relu',
  target_layer: 'layer',
  targetLayer: 'layer',
  target_layers: 'layers',
  targetLayers: 'layers',
  random_seed: 'seed',
  randomSeed: 'seed',
};

/** Why a foreign name has no plain equivalent here. */
const FOREIGN_NOTES: Readonly<Record<string, string>> = {
  returnConvergenceDelta: 'call integratedGradientsDelta(model, x, attribution, options) for the convergence delta',
  return_convergence_delta: 'call integratedGradientsDelta(model, x, attribution, options) for the convergence delta',
  additionalForwardArgs: 'pass a function model, (x) => model(x, ...extra), instead',
  additional_forward_args: 'pass a function model, (x) => model(x, ...extra), instead',
};

/**
 * Throws a {@link GlassboxArgumentError} for the first key of `options` that is not in `known`
 * (`undefined`-valued keys included: a misspelt key is a mistake whatever its value). `options` must be
 * an object (or undefined).
 */
export function assertKnownOptions(options: unknown, known: readonly string[], argument = 'options'): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new GlassboxArgumentError(argument, `expected an options object, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const ours = FOREIGN_NAMES[key];
    const hint =
      ours !== undefined && known.includes(ours)
        ? `Captum's/Zennit's '${key}' is called '${ours}' here`
        : FOREIGN_NOTES[key] ?? nearestHint(key, known);
    throw new GlassboxArgumentError(`${argument}.${key}`, `unknown option; ${hint}. Valid options: ${known.join(', ')}`);
  }
}

function nearestHint(key: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? `did you mean '${best}'?` : 'no option of that name';
}

/** Optimal-string-alignment distance (Levenshtein with adjacent transpositions: `stpes` → `steps` is 1). */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The option keys of an options interface `T`, checked by the compiler to be exactly its keys, so the
 * runtime list cannot drift from the type: `optionKeys<SaliencyOptions>()('abs', ...COMMON_OPTION_KEYS)`.
 */
export function optionKeys<T>() {
  return <K extends (keyof T & string)[]>(...keys: K & (Exclude<keyof T, K[number]> extends never ? unknown : { missing: Exclude<keyof T, K[number]> })): readonly string[] =>
    keys;
}
