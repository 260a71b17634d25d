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
  private readonly entries = new Map<string, tf.Tensor>();
  /** A number for each source data seen, to build entry keys. */
  private readonly dataNumbers = new Map<object, number>();
  private disposed = false;

  /** How many derived tensors the cache holds. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The tensor `derive(...sources)`, computed on the first request for this `kind` of derivation and
   * the data of these sources, and kept (outside every `tf.tidy`) until {@link KernelCache.dispose}.
   */
  derived(kind: string, sources: readonly tf.Tensor[], derive: (...sources: tf.Tensor[]) => tf.Tensor): tf.Tensor {
    if (this.disposed) throw new Error('KernelCache: the cache was disposed; create a new one per attribution call');
    const key = [kind, ...sources.map((source) => this.numberOf(source.dataId))].join('|');
    let tensor = this.entries.get(key);
    if (tensor === undefined || tensor.isDisposed) {
      tensor = tf.keep(tf.tidy(() => derive(...sources)));
      this.entries.set(key, tensor);
    }
    return tensor;
  }

  /** Frees every derived tensor; the cache cannot be used afterwards. */
  dispose(): void {
    for (const tensor of this.entries.values()) tensor.dispose();
    this.entries.clear();
    this.dataNumbers.clear();
    this.disposed = true;
  }

  private numberOf(dataId: object): number {
    let number = this.dataNumbers.get(dataId);
    if (number === undefined) this.dataNumbers.set(dataId, (number = this.dataNumbers.size));
    return number;
  }
}
