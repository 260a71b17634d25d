/**
 * Composites: which rule each layer gets (Zennit's composites, Anders et al. 2021; the recommendations
 * of Montavon et al. 2019 and Kohlbrenner et al. 2020). A rule is chosen, in this order, by the
 * layer's name (`byName`), its class name (`byClass`), the class's own rule (see `registerLrpLayer`;
 * `EdgeFilterStem` has WSquare), the first-layer map (for the linear layers that see the input: no
 * Dense or convolution before them) and the layer's kind. Every composite maps
 * activations → Pass, BatchNorm → Pass, Add → Norm, (global) average pooling → Norm, and max pooling,
 * concatenation and reshapes → the plain gradient.
 * @module
 */
import { describeValue, GlassboxArgumentError } from '../../core/errors';
import { LAYER_KINDS, type LayerKind } from './layer-catalogue';
import { isRule, rules, type Bound, type Rule } from './rules';

/** A rule per layer name and per layer class name (`layer.getClassName()`). */
export interface LayerRules {
  /** Rules by layer name (`layer.name`); they take precedence over everything else. */
  byName?: Readonly<Record<string, Rule>>;
  /** Rules by layer class name (`layer.getClassName()`, e.g. `'Conv2D'`). */
  byClass?: Readonly<Record<string, Rule>>;
}

/** Which rule each layer gets. Build one with the constructors in {@link composites}. */
export interface Composite extends LayerRules {
  /** The composite's name, e.g. `'epsilon-plus-flat'` (shown in error messages). */
  readonly name: string;
  /** The rule for every layer kind (see {@link LayerKind}). */
  readonly kinds: Readonly<Record<LayerKind, Rule | null>>;
  /** Rules for the first linear layers (those with no Dense or convolution before them), by kind. */
  readonly firstLayer: Readonly<Partial<Record<'dense' | 'conv', Rule>>>;
}

/** Options every named composite accepts. */
export interface CompositeOptions extends LayerRules {
  /** ε of the Epsilon rule (default 1e−6). */
  epsilon?: number;
}

/** Options of {@link composites}.epsilonGammaBox. */
export interface EpsilonGammaBoxOptions extends CompositeOptions {
  /** γ of the Gamma rule on convolutions (default 0.25). */
  gamma?: number;
  /** Lowest input value, for the ZBox rule on the first convolution. */
  low: Bound;
  /** Highest input value. */
  high: Bound;
}

/** The rules every composite shares; `custom` layers have no default. */
function baseKinds(): Record<LayerKind, Rule | null> {
  return {
    dense: null,
    conv: null,
    activation: rules.pass(),
    batchnorm: rules.pass(),
    add: rules.norm(),
    avgpool: rules.norm(),
    maxpool: rules.gradient(),
    concatenate: rules.gradient(),
    structural: rules.gradient(),
    custom: null,
  };
}

/** Options of {@link composites}.custom. */
export interface CustomCompositeOptions extends LayerRules {
  /** The composite's name (default `'custom'`). */
  name?: string;
  /** Rules per kind, on top of the shared defaults (activations → Pass, Add → Norm, ...). */
  kinds?: Partial<Record<LayerKind, Rule>>;
  /** Rules for the first Dense or convolution (no linear layer before it), e.g. Flat or ZBox. */
  firstLayer?: Partial<Record<'dense' | 'conv', Rule>>;
}

/** A composite from rules per kind, first-layer rules, and rules by layer name or class. */
function custom(options: CustomCompositeOptions = {}): Composite {
  assertObject(options, 'options');
  const kinds = baseKinds();
  for (const [kind, rule] of Object.entries(options.kinds ?? {})) {
    if (!LAYER_KINDS.includes(kind as LayerKind)) {
      throw new GlassboxArgumentError(
        'options.kinds',
        `unknown layer kind '${kind}'; expected one of ${LAYER_KINDS.map((k) => `'${k}'`).join(', ')}`,
      );
    }
    kinds[kind as LayerKind] = checkedRule(rule, `options.kinds.${kind}`);
  }
  const firstLayer: Partial<Record<'dense' | 'conv', Rule>> = {};
  for (const [kind, rule] of Object.entries(options.firstLayer ?? {})) {
    if (kind !== 'dense' && kind !== 'conv') {
      throw new GlassboxArgumentError('options.firstLayer', `expected the keys 'dense' and/or 'conv', got '${kind}'`);
    }
    firstLayer[kind] = checkedRule(rule, `options.firstLayer.${kind}`);
  }
  return {
    name: options.name ?? 'custom',
    kinds,
    firstLayer,
    byName: checkedRuleMap(options.byName, 'options.byName'),
    byClass: checkedRuleMap(options.byClass, 'options.byClass'),
  };
}

function named(
  name: string,
  options: CompositeOptions,
  dense: Rule,
  conv: Rule,
  firstLayer: Partial<Record<'dense' | 'conv', Rule>> = {},
): Composite {
  return custom({ name, kinds: { dense, conv }, firstLayer, byName: options.byName, byClass: options.byClass });
}

const epsilonRule = (options: CompositeOptions): Rule => rules.epsilon({ epsilon: options.epsilon });
const alpha2Beta1 = (): Rule => rules.alphaBeta({ alpha: 2, beta: 1 });

/** `'epsilon'`: Epsilon on every Dense and convolution. */
function epsilon(options: CompositeOptions = {}): Composite {
  return named('epsilon', options, epsilonRule(options), epsilonRule(options));
}

/** `'zplus'`: ZPlus on every Dense and convolution. */
function zPlus(options: LayerRules = {}): Composite {
  return named('zplus', options, rules.zPlus(), rules.zPlus());
}

/** `'alpha2-beta1'`: AlphaBeta(2, 1) on every Dense and convolution. */
function alpha2Beta1Composite(options: LayerRules = {}): Composite {
  return named('alpha2-beta1', options, alpha2Beta1(), alpha2Beta1());
}

/** `'epsilon-plus'`: ZPlus on convolutions, Epsilon on Dense layers. */
function epsilonPlus(options: CompositeOptions = {}): Composite {
  return named('epsilon-plus', options, epsilonRule(options), rules.zPlus());
}

/** `'epsilon-alpha2-beta1'`: AlphaBeta(2, 1) on convolutions, Epsilon on Dense layers. */
function epsilonAlpha2Beta1(options: CompositeOptions = {}): Composite {
  return named('epsilon-alpha2-beta1', options, epsilonRule(options), alpha2Beta1());
}

/** `'epsilon-plus-flat'`: as epsilon-plus, with Flat on the first Dense or convolution. */
function epsilonPlusFlat(options: CompositeOptions = {}): Composite {
  return named('epsilon-plus-flat', options, epsilonRule(options), rules.zPlus(), { dense: rules.flat(), conv: rules.flat() });
}

/** `'epsilon-alpha2-beta1-flat'`: as epsilon-alpha2-beta1, with Flat on the first Dense or convolution. */
function epsilonAlpha2Beta1Flat(options: CompositeOptions = {}): Composite {
  return named('epsilon-alpha2-beta1-flat', options, epsilonRule(options), alpha2Beta1(), {
    dense: rules.flat(),
    conv: rules.flat(),
  });
}

/** `'epsilon-gamma-box'`: Gamma on convolutions, Epsilon on Dense layers, ZBox(low, high) on the first convolution. */
function epsilonGammaBox(options: EpsilonGammaBoxOptions): Composite {
  assertObject(options, 'options');
  if (options.low === undefined || options.high === undefined) {
    throw new GlassboxArgumentError(
      options.low === undefined ? 'options.low' : 'options.high',
      "the 'epsilon-gamma-box' composite needs the input's bounds low and high (numbers, one per channel, or tensors)",
    );
  }
  return named('epsilon-gamma-box', options, epsilonRule(options), rules.gamma({ gamma: options.gamma }), {
    conv: rules.zBox({ low: options.low, high: options.high }),
  });
}

/** Composite constructors, also available by name (see {@link COMPOSITE_NAMES}). */
export const composites = {
  /** `'epsilon'`: Epsilon on every Dense and convolution. */
  epsilon,
  /** `'zplus'`: ZPlus on every Dense and convolution. */
  zPlus,
  /** `'alpha2-beta1'`: AlphaBeta(2, 1) on every Dense and convolution. */
  alpha2Beta1: alpha2Beta1Composite,
  /** `'epsilon-plus'`: ZPlus on convolutions, Epsilon on Dense layers. */
  epsilonPlus,
  /** `'epsilon-alpha2-beta1'`: AlphaBeta(2, 1) on convolutions, Epsilon on Dense layers. */
  epsilonAlpha2Beta1,
  /** `'epsilon-plus-flat'`: as epsilon-plus, with Flat on the first Dense or convolution. */
  epsilonPlusFlat,
  /** `'epsilon-alpha2-beta1-flat'`: as epsilon-alpha2-beta1, with Flat on the first Dense or convolution. */
  epsilonAlpha2Beta1Flat,
  /** `'epsilon-gamma-box'`: Gamma on convolutions, Epsilon on Dense layers, ZBox(low, high) on the first convolution. */
  epsilonGammaBox,
  /** A composite from rules per kind, first-layer rules, and rules by layer name or class. */
  custom,
};

/** The named composites `lrp` accepts as strings. */
export const COMPOSITE_NAMES = [
  'epsilon',
  'zplus',
  'alpha2-beta1',
  'epsilon-plus',
  'epsilon-alpha2-beta1',
  'epsilon-plus-flat',
  'epsilon-alpha2-beta1-flat',
  'epsilon-gamma-box',
] as const;

/** A named composite. */
export type CompositeName = (typeof COMPOSITE_NAMES)[number];

/** The settings a named composite reads from `lrp`'s options. */
export interface NamedCompositeSettings {
  epsilon?: number;
  gamma?: number;
  low?: Bound;
  high?: Bound;
}

const SETTINGS_USED: Record<CompositeName, (keyof NamedCompositeSettings)[]> = {
  epsilon: ['epsilon'],
  zplus: [],
  'alpha2-beta1': [],
  'epsilon-plus': ['epsilon'],
  'epsilon-alpha2-beta1': ['epsilon'],
  'epsilon-plus-flat': ['epsilon'],
  'epsilon-alpha2-beta1-flat': ['epsilon'],
  'epsilon-gamma-box': ['epsilon', 'gamma', 'low', 'high'],
};

/**
 * Resolves `lrp`'s `composite` option (a name or a {@link Composite}) with its settings. Settings a
 * composite does not use are an error, so a typo'd option cannot silently do nothing.
 */
export function resolveComposite(composite: unknown, settings: NamedCompositeSettings): Composite {
  const given = (Object.keys(settings) as (keyof NamedCompositeSettings)[]).filter((k) => settings[k] !== undefined);
  if (typeof composite === 'string') {
    if (!(COMPOSITE_NAMES as readonly string[]).includes(composite)) {
      throw new GlassboxArgumentError(
        'options.composite',
        `expected one of ${COMPOSITE_NAMES.map((n) => `'${n}'`).join(', ')} or a Composite, got ${describeValue(composite)}`,
      );
    }
    const name = composite as CompositeName;
    const unused = given.find((k) => !SETTINGS_USED[name].includes(k));
    if (unused) {
      throw new GlassboxArgumentError(`options.${unused}`, `the '${name}' composite does not use it`);
    }
    const { epsilon: eps, gamma, low, high } = settings;
    switch (name) {
      case 'epsilon':
        return epsilon({ epsilon: eps });
      case 'zplus':
        return zPlus();
      case 'alpha2-beta1':
        return alpha2Beta1Composite();
      case 'epsilon-plus':
        return epsilonPlus({ epsilon: eps });
      case 'epsilon-alpha2-beta1':
        return epsilonAlpha2Beta1({ epsilon: eps });
      case 'epsilon-plus-flat':
        return epsilonPlusFlat({ epsilon: eps });
      case 'epsilon-alpha2-beta1-flat':
        return epsilonAlpha2Beta1Flat({ epsilon: eps });
      case 'epsilon-gamma-box':
        return epsilonGammaBox({ epsilon: eps, gamma, low: low!, high: high! });
    }
  }
  if (!isComposite(composite)) {
    throw new GlassboxArgumentError(
      'options.composite',
      `expected one of ${COMPOSITE_NAMES.map((n) => `'${n}'`).join(', ')} or a Composite (see composites.*), got ${describeValue(composite)}`,
    );
  }
  if (given.length > 0) {
    throw new GlassboxArgumentError(
      `options.${given[0]}`,
      'applies to named composites only; pass it to the composite constructor instead (e.g. composites.epsilonPlus({ epsilon }))',
    );
  }
  return composite;
}

/** `composite` with extra rules by layer name or class, which take precedence over its own. */
export function withLayerRules(composite: Composite, layerRules: LayerRules | undefined): Composite {
  if (layerRules === undefined) return composite;
  assertObject(layerRules, 'options.layerRules');
  return {
    ...composite,
    byName: { ...composite.byName, ...checkedRuleMap(layerRules.byName, 'options.layerRules.byName') },
    byClass: { ...composite.byClass, ...checkedRuleMap(layerRules.byClass, 'options.layerRules.byClass') },
  };
}

/** What the composite needs to know about a layer to pick its rule. */
export interface LayerSlot {
  name: string;
  className: string;
  kind: LayerKind | null;
  /** A linear layer with no Dense or convolution before it. */
  first: boolean;
  /** The layer's own rule (its class's, see `registerLrpLayer`), ahead of first-layer and per-kind rules. */
  own?: Rule;
}

/** The rule `composite` gives a layer, or `null` if it has none. */
export function ruleFor(composite: Composite, layer: LayerSlot): Rule | null {
  const byName = composite.byName?.[layer.name];
  if (byName) return byName;
  const byClass = composite.byClass?.[layer.className];
  if (byClass) return byClass;
  if (layer.own) return layer.own;
  if (layer.kind === null) return null;
  if (layer.first && (layer.kind === 'dense' || layer.kind === 'conv')) {
    const first = composite.firstLayer[layer.kind];
    if (first) return first;
  }
  return composite.kinds[layer.kind];
}

function isComposite(value: unknown): value is Composite {
  if (value === null || typeof value !== 'object') return false;
  const c = value as Partial<Composite>;
  return typeof c.name === 'string' && typeof c.kinds === 'object' && c.kinds !== null && typeof c.firstLayer === 'object';
}

function checkedRule(rule: unknown, argument: string): Rule {
  if (!isRule(rule)) throw new GlassboxArgumentError(argument, `expected a rule (see rules.*), got ${describeValue(rule)}`);
  return rule;
}

function checkedRuleMap(map: unknown, argument: string): Record<string, Rule> {
  if (map === undefined) return {};
  assertObject(map, argument);
  return Object.fromEntries(Object.entries(map).map(([key, rule]) => [key, checkedRule(rule, `${argument}.${key}`)]));
}

function assertObject(value: unknown, argument: string): asserts value is object {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new GlassboxArgumentError(argument, `expected an object, got ${describeValue(value)}`);
  }
}
