/**
 * Activations of inner layers gathered over a whole data set in memory-bounded windows of units.
 *
 * The copula transform needs all N values of a unit at once (its ranks), so activations cannot be
 * reduced batch by batch. Instead the units of the requested layers are cut into windows, and windows
 * are grouped into passes holding at most `capacity` units (`capacity · N` values). Each pass runs the
 * model over the data once, in batches, and keeps only its windows' units: `[units, N]` per window.
 * A layer that fits is gathered in one pass; a big one costs several passes of the model instead of
 * memory.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { layerActivations } from '../attribution/layer-gradients';
import { forEachChunk } from '../core/chunks';
import type { Evaluator } from '../core/evaluate';
import type { BatchSize } from '../core/options';
import { exampleRange } from '../core/prepare';
import { columnBlock } from './columns';

type Layer = tfl.layers.Layer;

/** Units `[start, start + count)` of layer `layer` (an index into the tapped layers). */
export interface UnitWindow {
  layer: number;
  start: number;
  count: number;
}

/** Cuts the units of every layer into windows and groups them into passes of at most `capacity` units. */
export function planPasses(unitCounts: number[], capacity: number): UnitWindow[][] {
  const passes: UnitWindow[][] = [];
  let pass: UnitWindow[] = [];
  let room = capacity;
  unitCounts.forEach((units, layer) => {
    for (let start = 0; start < units; ) {
      const count = Math.min(room, units - start);
      pass.push({ layer, start, count });
      start += count;
      room -= count;
      if (room === 0) {
        passes.push(pass);
        pass = [];
        room = capacity;
      }
    }
  });
  if (pass.length > 0) passes.push(pass);
  return passes;
}

/** Per-example shapes of the tapped layers' outputs (one example through the model). */
export function layerShapes(evaluator: Evaluator, layers: readonly Layer[], x: tf.Tensor): number[][] {
  const outputs = tf.tidy(() => layerActivations(evaluator, layers, [tf.slice(x, 0, 1)], exampleRange(0, 1)));
  const shapes = outputs.map((t) => t.shape.slice(1));
  tf.dispose(outputs);
  return shapes;
}

/**
 * Runs the model over `x` in chunks of `batchSize` (`'auto'` included) and returns, for every window of the pass, the
 * window's units over all examples, `[count, N]` float32. `onBatch(done)` is called after every batch
 * (examples done in this pass); abort is checked between batches. Leak-free on error and abort.
 */
export async function gatherPass(
  evaluator: Evaluator,
  layers: readonly Layer[],
  x: tf.Tensor,
  windows: UnitWindow[],
  { batchSize, onBatch, signal }: { batchSize: BatchSize; onBatch: (done: number) => void; signal?: AbortSignal },
): Promise<tf.Tensor2D[]> {
  const n = x.shape[0];
  const parts: tf.Tensor2D[][] = windows.map(() => []);
  const gathered: tf.Tensor2D[] = [];
  try {
    await forEachChunk({ total: n, batchSize, signal, onProgress: (done) => onBatch(done) }, ({ start, count, memory }) => {
      const outputs = tf.tidy(() => layerActivations(evaluator, layers, [tf.slice(x, start, count)], exampleRange(start, count)));
      memory.sample();
      const pieces = tf.tidy(() =>
        windows.map(({ layer, start: first, count: units }) => {
          return columnBlock(tf.cast(tf.reshape(outputs[layer], [count, -1]), 'float32') as tf.Tensor2D, first, units);
        }),
      );
      tf.dispose(outputs);
      pieces.forEach((piece, w) => parts[w].push(piece));
    });
    for (const list of parts) {
      gathered.push(list.length === 1 ? list[0] : (tf.concat(list, 1) as tf.Tensor2D));
      if (list.length > 1) tf.dispose(list);
      list.length = 0;
    }
    return gathered;
  } catch (error) {
    tf.dispose(gathered);
    throw error;
  } finally {
    parts.forEach((list) => tf.dispose(list));
  }
}
