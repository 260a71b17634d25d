/**
 * Every attribution method the playground offers, one entry each: its controls (the page builds the
 * form from them) and how to call it. Adding a method to the playground is adding an entry here.
 * Runs in the worker; the page only sees {@link describeMethods}' plain data.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  adaptiveSmoothTaylor,
  COMPOSITE_NAMES,
  deepLift,
  gradCam,
  gradientShap,
  gradientXInput,
  guidedBackprop,
  guidedBackpropIntegratedGradients,
  guidedGradCam,
  integratedGradients,
  integratedGradientsDelta,
  lrp,
  mfpp,
  MFPP_SCORES,
  NOISE_TUNNEL_KINDS,
  occlusion,
  QUADRATURE_METHODS,
  rise,
  saliency,
  smoothGrad,
  smoothTaylor,
  zoomCam,
  type CommonOptions,
  type CompositeName,
  type MfppScore,
  type NoiseTunnelKind,
  type QuadratureMethod,
} from '../../../src/index';
import type { ModelInfo } from './models';
import type { ControlInfo, ControlValues, GapInfo, MethodInfo } from './protocol';

/** What a method gets to work with. */
export interface MethodContext {
  model: tfl.LayersModel;
  info: ModelInfo;
  /** The input `[1, H, W, C]`. */
  x: tf.Tensor4D;
  target: number;
  /** batchSize, onProgress and signal from the page. */
  common: CommonOptions;
  /** The target's logit (the pre-softmax score), which LRP explains. */
  logit: (x: tf.Tensor) => Promise<number>;
}

/** A control whose default may depend on the model. */
type Control = Omit<ControlInfo, 'default'> & { default: ControlInfo['default'] | ((model: ModelInfo) => ControlInfo['default']) };

/** One method of the playground. */
export interface Method {
  id: string;
  label: string;
  /** Paper and formula in a line. */
  about: string;
  controls: Control[];
  run(context: MethodContext, values: ControlValues): Promise<tf.Tensor>;
  /** The completeness / conservation check of methods that have one. */
  gap?(context: MethodContext, values: ControlValues, attribution: tf.Tensor): Promise<GapInfo>;
}

const seed: Control = { key: 'seed', label: 'seed', kind: 'number', default: 1, min: 0, step: 1 };
const steps: Control = { key: 'steps', label: 'steps', kind: 'number', default: 50, min: 1, max: 2000, step: 1 };
const quadrature: Control = { key: 'method', label: 'quadrature', kind: 'select', default: 'gausslegendre', options: [...QUADRATURE_METHODS] };
const baseline: Control = { key: 'baseline', label: 'baseline value', kind: 'number', default: 0, step: 0.1 };
/** The named composites with an Epsilon rule (the others have no ε to set). */
const EPSILON_COMPOSITES: string[] = COMPOSITE_NAMES.filter((name) => name.startsWith('epsilon'));
const num = (values: ControlValues, key: string) => Number(values[key]);
const str = <T extends string>(values: ControlValues, key: string) => String(values[key]) as T;

export const METHODS: Method[] = [
  {
    id: 'saliency',
    label: 'Saliency',
    about: 'Simonyan et al. 2014: |∂f_c/∂x| (or the signed gradient).',
    controls: [{ key: 'abs', label: 'absolute value', kind: 'checkbox', default: true }],
    run: ({ model, x, target, common }, v) => saliency(model, x, { ...common, target, abs: Boolean(v.abs) }),
  },
  {
    id: 'gradientXInput',
    label: 'Gradient × Input',
    about: 'Shrikumar et al. 2016: x ⊙ ∂f_c/∂x.',
    controls: [],
    run: ({ model, x, target, common }) => gradientXInput(model, x, { ...common, target }),
  },
  {
    id: 'integratedGradients',
    label: 'Integrated Gradients',
    about: 'Sundararajan et al. 2017: (x − b) ⊙ ∫ ∇f_c(b + α(x − b)) dα; Σ IG = f_c(x) − f_c(b).',
    controls: [steps, quadrature, baseline],
    run: ({ model, x, target, common }, v) =>
      integratedGradients(model, x, { ...common, target, steps: num(v, 'steps'), method: str<QuadratureMethod>(v, 'method'), baseline: num(v, 'baseline') }),
    gap: async ({ model, x, target, common }, v, attribution) => {
      const delta = await integratedGradientsDelta(model, x, attribution, { target, baseline: num(v, 'baseline'), signal: common.signal });
      const [value] = await delta.data();
      delta.dispose();
      return { label: 'completeness gap Σ IG − (f_c(x) − f_c(b))', value };
    },
  },
  {
    id: 'smoothGrad',
    label: 'SmoothGrad / VarGrad',
    about: 'Smilkov et al. 2017, Adebayo et al. 2018: a base method averaged (or its variance) over noisy copies.',
    controls: [
      { key: 'kind', label: 'kind', kind: 'select', default: 'smoothgrad', options: [...NOISE_TUNNEL_KINDS] },
      { key: 'base', label: 'base method', kind: 'select', default: 'saliency', options: ['saliency', 'gradientXInput', 'integratedGradients', 'guidedBackpropIntegratedGradients'] },
      { key: 'samples', label: 'samples', kind: 'number', default: 25, min: 1, max: 1000, step: 1 },
      { key: 'noiseLevel', label: 'noise (fraction of range)', kind: 'number', default: 0.15, min: 0, max: 1, step: 0.01 },
      seed,
    ],
    run: ({ model, x, target, common }, v) =>
      smoothGrad(model, x, {
        ...common,
        target,
        kind: str<NoiseTunnelKind>(v, 'kind'),
        method: str<'saliency' | 'gradientXInput' | 'integratedGradients' | 'guidedBackpropIntegratedGradients'>(v, 'base'),
        samples: num(v, 'samples'),
        noiseLevel: num(v, 'noiseLevel'),
        seed: num(v, 'seed'),
      }),
  },
  {
    id: 'smoothTaylor',
    label: 'SmoothTaylor',
    about: 'Goh et al. 2021: Taylor expansions around noisy roots, averaged.',
    controls: [
      { key: 'roots', label: 'roots', kind: 'number', default: 150, min: 1, max: 2000, step: 1 },
      { key: 'noiseScale', label: 'noise σ', kind: 'number', default: 0.3, min: 0, step: 0.05 },
      seed,
    ],
    run: ({ model, x, target, common }, v) =>
      smoothTaylor(model, x, { ...common, target, samples: num(v, 'roots'), stdev: num(v, 'noiseScale'), seed: num(v, 'seed') }),
  },
  {
    id: 'adaptiveSmoothTaylor',
    label: 'Adaptive SmoothTaylor',
    about: 'Goh et al. 2021: SmoothTaylor at the noise scale that minimises the total variation of the map.',
    controls: [
      { key: 'roots', label: 'roots', kind: 'number', default: 50, min: 1, max: 1000, step: 1 },
      { key: 'maxIterations', label: 'search iterations', kind: 'number', default: 6, min: 1, max: 50, step: 1 },
      seed,
    ],
    run: async ({ model, x, target, common }, v) => {
      const result = await adaptiveSmoothTaylor(model, x, { ...common, target, samples: num(v, 'roots'), maxIterations: num(v, 'maxIterations'), seed: num(v, 'seed') });
      return result.attribution;
    },
  },
  {
    id: 'guidedBackpropIntegratedGradients',
    label: 'Guided IG',
    about: 'IG through guided-backprop ReLUs (positive gradients only).',
    controls: [steps, quadrature],
    run: ({ model, x, target, common }, v) =>
      guidedBackpropIntegratedGradients(model, x, { ...common, target, steps: num(v, 'steps'), method: str<QuadratureMethod>(v, 'method') }),
  },
  {
    id: 'guidedBackprop',
    label: 'Guided Backprop',
    about: 'Springenberg et al. 2015: the input gradient with every ReLU passing back relu(g) where its input is positive.',
    controls: [],
    run: ({ model, x, target, common }) => guidedBackprop(model, x, { ...common, target }),
  },
  {
    id: 'guidedGradCam',
    label: 'Guided Grad-CAM',
    about: 'Selvaraju et al. 2017: guided backprop ⊙ the rectified Grad-CAM of a layer, upsampled (nearest).',
    controls: [{ key: 'layer', label: 'layer', kind: 'layer', default: (m) => m.camLayer }],
    run: ({ model, x, target, common }, v) => guidedGradCam(model, x, { ...common, target, layer: str(v, 'layer') }),
  },
  {
    id: 'deepLift',
    label: 'DeepLift',
    about: 'Shrikumar et al. 2017, Rescale rule: (x − b) ⊙ multipliers; Σ = logit(x) − logit(b) (a final softmax is left out).',
    controls: [baseline],
    run: ({ model, x, target, common }, v) => deepLift(model, x, { ...common, target, baseline: num(v, 'baseline') }),
    gap: async ({ x, logit }, v, attribution) => {
      const total = tf.sum(attribution);
      const [sum] = await total.data();
      total.dispose();
      const reference = tf.fill(x.shape, num(v, 'baseline'));
      const delta = (await logit(x)) - (await logit(reference));
      reference.dispose();
      return { label: 'summation gap Σ A − (logit(x) − logit(b))', value: sum - delta };
    },
  },
  {
    id: 'gradientShap',
    label: 'GradientSHAP',
    about: 'Lundberg & Lee 2017: E[(x̃ − b) ⊙ ∇f_c(b + α(x̃ − b))] over baselines b (here black and white), α ~ U(0, 1) and input noise.',
    controls: [
      { key: 'samples', label: 'samples', kind: 'number', default: 20, min: 1, max: 1000, step: 1 },
      { key: 'stdev', label: 'noise σ', kind: 'number', default: 0, min: 0, step: 0.05 },
      seed,
    ],
    run: async ({ model, x, target, common }, v) => {
      const baselines = tf.concat([tf.zerosLike(x), tf.onesLike(x)]);
      try {
        return await gradientShap(model, x, { ...common, target, baselines, samples: num(v, 'samples'), stdev: num(v, 'stdev'), seed: num(v, 'seed') });
      } finally {
        baselines.dispose();
      }
    },
  },
  {
    id: 'lrp',
    label: 'LRP',
    about: 'Bach et al. 2015, Zennit composites: relevance conserved layer by layer, Σ R ≈ the logit.',
    controls: [
      { key: 'composite', label: 'composite', kind: 'select', default: 'epsilon-plus-flat', options: [...COMPOSITE_NAMES] },
      { key: 'epsilon', label: 'ε', kind: 'number', default: 1e-6, min: 0, step: 0.01, when: { key: 'composite', values: EPSILON_COMPOSITES } },
      { key: 'gamma', label: 'γ', kind: 'number', default: 0.25, min: 0, step: 0.05, when: { key: 'composite', values: ['epsilon-gamma-box'] } },
      { key: 'canonize', label: 'merge BatchNorm', kind: 'checkbox', default: true },
    ],
    // A composite takes only the settings it uses; the input range [0, 1] is the box of
    // 'epsilon-gamma-box' (ZBox on the first layer).
    run: ({ model, x, target, common }, v) => {
      const composite = str<CompositeName>(v, 'composite');
      return lrp(model, x, {
        ...common,
        target,
        composite,
        canonize: Boolean(v.canonize),
        ...(EPSILON_COMPOSITES.includes(composite) ? { epsilon: num(v, 'epsilon') } : {}),
        ...(composite === 'epsilon-gamma-box' ? { gamma: num(v, 'gamma'), low: 0, high: 1 } : {}),
      });
    },
    gap: async ({ x, logit }, _v, attribution) => {
      const total = tf.sum(attribution);
      const [sum] = await total.data();
      total.dispose();
      const score = await logit(x);
      return { label: `conservation gap Σ R − logit (Σ R = ${sum.toPrecision(4)}, logit = ${score.toPrecision(4)})`, value: sum - score };
    },
  },
  {
    id: 'occlusion',
    label: 'Occlusion',
    about: 'Zeiler & Fergus 2014: the score drop when a window is set to the baseline, averaged per pixel.',
    controls: [
      { key: 'window', label: 'window (pixels)', kind: 'number', default: (m) => (m.size <= 32 ? 6 : 32), min: 1, step: 1 },
      { key: 'stride', label: 'stride', kind: 'number', default: (m) => (m.size <= 32 ? 2 : 16), min: 1, step: 1 },
      baseline,
    ],
    run: ({ model, x, target, common, info }, v) =>
      occlusion(model, x, {
        ...common,
        target,
        window: [num(v, 'window'), num(v, 'window'), info.channels],
        strides: [num(v, 'stride'), num(v, 'stride'), info.channels],
        baseline: num(v, 'baseline'),
      }),
  },
  {
    id: 'rise',
    label: 'RISE',
    about: 'Petsiuk et al. 2018: E[score | pixel kept] over random low-resolution masks.',
    controls: [
      { key: 'masks', label: 'masks', kind: 'number', default: (m) => (m.size <= 32 ? 2000 : 500), min: 1, max: 20000, step: 1 },
      { key: 'gridSize', label: 'grid cells per side', kind: 'number', default: 7, min: 2, max: 32, step: 1 },
      { key: 'keepProbability', label: 'keep probability', kind: 'number', default: 0.5, min: 0.05, max: 0.95, step: 0.05 },
      seed,
    ],
    run: ({ model, x, target, common }, v) =>
      rise(model, x, { ...common, target, samples: num(v, 'masks'), gridSize: num(v, 'gridSize'), keepProbability: num(v, 'keepProbability'), seed: num(v, 'seed') }),
  },
  {
    id: 'mfpp',
    label: 'MFPP',
    about: 'Yang et al. 2020: RISE with masks made of SLIC superpixels at several scales.',
    controls: [
      { key: 'masks', label: 'masks', kind: 'number', default: (m) => (m.size <= 32 ? 2000 : 500), min: 1, max: 20000, step: 1 },
      { key: 'levels', label: 'levels', kind: 'number', default: 5, min: 1, max: 8, step: 1 },
      { key: 'baseSegments', label: 'segments at level 0', kind: 'number', default: (m) => (m.size <= 32 ? 8 : 50), min: 2, step: 1 },
      { key: 'dropProbability', label: 'drop probability', kind: 'number', default: 0.5, min: 0.05, max: 0.95, step: 0.05 },
      { key: 'score', label: 'score', kind: 'select', default: (m) => (m.outputs === 'logits' ? 'softmax' : 'none'), options: [...MFPP_SCORES] },
      seed,
    ],
    run: ({ model, x, target, common }, v) =>
      mfpp(model, x, {
        ...common,
        target,
        samples: num(v, 'masks'),
        levels: num(v, 'levels'),
        baseSegments: num(v, 'baseSegments'),
        dropProbability: num(v, 'dropProbability'),
        score: str<MfppScore>(v, 'score'),
        seed: num(v, 'seed'),
      }),
  },
  {
    id: 'gradCam',
    label: 'Grad-CAM',
    about: 'Selvaraju et al. 2017: ReLU(Σ_k mean(∂f_c/∂A_k) A_k) at a convolution, upsampled.',
    controls: [
      { key: 'layer', label: 'layer', kind: 'layer', default: (m) => m.camLayer },
      { key: 'relu', label: 'ReLU', kind: 'checkbox', default: true },
    ],
    run: ({ model, x, target, common }, v) => gradCam(model, x, { ...common, target, layer: str(v, 'layer'), relu: Boolean(v.relu) }),
  },
  {
    id: 'zoomCam',
    label: 'Zoom-CAM',
    about: 'Shi et al. 2020: element-wise Grad-CAM fused over several layers.',
    controls: [{ key: 'layers', label: 'layers', kind: 'layers', default: (m) => [m.camLayer] }],
    run: ({ model, x, target, common }, v) => zoomCam(model, x, { ...common, target, layers: v.layers as string[] }),
  },
];

/** The method with `id`. */
export function method(id: string): Method {
  const found = METHODS.find((m) => m.id === id);
  if (!found) throw new Error(`unknown method '${id}'`);
  return found;
}

/** The registry as plain data for the page, with the defaults for `model`. */
export function describeMethods(model: ModelInfo): MethodInfo[] {
  return METHODS.map(({ id, label, about, controls, gap }) => ({
    id,
    label,
    about,
    hasGap: gap !== undefined,
    controls: controls.map((c) => ({ ...c, default: typeof c.default === 'function' ? c.default(model) : c.default })),
  }));
}
