import * as tfl from '@tensorflow/tfjs-layers';

/**
 * tfjs-layers' `Layer` class, the base of the package's layers. Read once through a call marked pure,
 * so that the layer classes (`class X extends LayerBase { static get className() … }`) are free of
 * module-level side effects and a tree-shaking bundler drops the ones a page does not use.
 * @internal
 */
export const LayerBase = /* @__PURE__ */ (() => tfl.layers.Layer)();
