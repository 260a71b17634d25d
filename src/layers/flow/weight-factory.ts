/** How the flow parts get their weights: the owning layer creates them, so they are saved with it. */
import type * as tfl from '@tensorflow/tfjs-layers';

/** A tfjs-layers initializer (the type `tfl.initializers.*()` returns). */
export type Initializer = ReturnType<typeof tfl.initializers.zeros>;

/**
 * Creates one weight of the owning layer: `name` is relative to the layer (e.g. `unit0/actnorm/loc`),
 * `trainable: false` weights are still saved and loaded but never updated by an optimizer.
 */
export type AddWeight = (name: string, shape: number[], initializer: Initializer, trainable: boolean) => tfl.LayerVariable;
