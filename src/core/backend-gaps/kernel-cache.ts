import * as tf from '@tensorflow/tfjs-core';

/**
 * Tensors derived from a model's constant tensors (spatially flipped convolution filters, filters laid
 * out for a matrix product), computed once and reused by every gradient computation that passes this
 * cache to {@link withBackendGapFixesSync}. The caller owns it: keep one per attribution call (across its
 * chunks) and {@link KernelCache.dispose} it at the end, also on error.
 *
 * Entries are keyed by the source tensor's data, and only sources that the scope knows to be constant
 * (its `constants` option, or registered `tf.Variable`s) are cached, so a filter computed from the input
 * is never served stale. Reusing the same derived tensor also lets a backend reuse what it prepared for
 * it (tfjs-backend-wasm keeps its XNNPACK operators per filter buffer).
 */
export class KernelCache {
  private readonly entries = new Map<string, Map<object, tf.Tensor>>();
  private disposed = false;

  /** How many derived tensors the cache holds. */
  get size(): number {
    let count = 0;
    for (const byData of this.entries.values()) count += byData.size;
    return count;
  }

  /**
   * The tensor `derive(source)`, computed on the first request for this `kind` of derivation and this
   * source data and kept (outside every `tf.tidy`) until {@link KernelCache.dispose}.
   */
  derived(kind: string, source: tf.Tensor, derive: (source: tf.Tensor) => tf.Tensor): tf.Tensor {
    if (this.disposed) throw new Error('KernelCache: the cache was disposed; create a new one per attribution call');
    let byData = this.entries.get(kind);
    if (byData === undefined) this.entries.set(kind, (byData = new Map()));
    let tensor = byData.get(source.dataId);
    if (tensor === undefined || tensor.isDisposed) {
      tensor = tf.keep(tf.tidy(() => derive(source)));
      byData.set(source.dataId, tensor);
    }
    return tensor;
  }

  /** Frees every derived tensor; the cache cannot be used afterwards. */
  dispose(): void {
    for (const byData of this.entries.values()) for (const tensor of byData.values()) tensor.dispose();
    this.entries.clear();
    this.disposed = true;
  }
}
