import * as tf from '@tensorflow/tfjs-core';

/** A kernel installed for the duration of a scope, with whatever it must free when uninstalled. */
export interface InstalledKernel {
  config: tf.KernelConfig;
  dispose?: () => void;
}

/**
 * One way to answer a kernel on a backend while a scope is open. `install` gets the kernel that was
 * registered before any scope (undefined if none) and returns what to register instead; returning
 * `undefined` keeps the original. When scopes that want different fixes for the same kernel overlap,
 * the fix with the highest `priority` is registered (a correct kernel outranks a cheaper shortcut).
 */
export interface KernelFix {
  readonly kernelName: string;
  readonly priority: number;
  install(original: tf.KernelConfig | undefined, backendName: string): InstalledKernel | undefined;
}

/**
 * The registry entry of one (kernel, backend) while at least one scope wants it fixed: remembers the
 * original entry, counts the open requests per fix, keeps the best-ranked fix registered, and puts the
 * original object back (or removes the entry, if there was none) when the last request is released.
 */
class KernelSlot {
  private readonly requests = new Map<KernelFix, number>();
  private active: { fix: KernelFix; installed: InstalledKernel | undefined } | undefined;

  constructor(
    readonly kernelName: string,
    readonly backendName: string,
    private readonly original: tf.KernelConfig | undefined,
  ) {}

  get idle(): boolean {
    return this.requests.size === 0;
  }

  acquire(fix: KernelFix): void {
    this.requests.set(fix, (this.requests.get(fix) ?? 0) + 1);
    try {
      this.update();
    } catch (error) {
      this.release(fix);
      throw error;
    }
  }

  release(fix: KernelFix): void {
    const count = (this.requests.get(fix) ?? 0) - 1;
    if (count > 0) this.requests.set(fix, count);
    else this.requests.delete(fix);
    this.update();
  }

  private update(): void {
    let best: KernelFix | undefined;
    for (const fix of this.requests.keys()) if (best === undefined || fix.priority > best.priority) best = fix;
    if (best === this.active?.fix) return;
    const installed = best?.install(this.original, this.backendName);
    const previous = this.active;
    this.register(previous?.installed?.config, installed?.config ?? this.original);
    this.active = best === undefined ? undefined : { fix: best, installed };
    previous?.installed?.dispose?.();
  }

  /**
   * Replaces the registry entry by `next` (undefined: no entry). Leaves the registry alone if someone
   * else replaced the entry we installed while the scope was open: theirs is newer than ours.
   */
  private register(ours: tf.KernelConfig | undefined, next: tf.KernelConfig | undefined): void {
    const current = tf.getKernel(this.kernelName, this.backendName);
    if (current === next || current !== (ours ?? this.original)) return;
    if (current !== undefined) tf.unregisterKernel(this.kernelName, this.backendName);
    if (next !== undefined) tf.registerKernel(next);
  }
}

const slots = new Map<string, KernelSlot>();

/** Registers `fix` for its kernel on `backendName` until the returned function is called (once). */
export function acquireKernelFix(fix: KernelFix, backendName: string): () => void {
  const key = `${backendName}_${fix.kernelName}`;
  let slot = slots.get(key);
  if (slot === undefined) {
    slot = new KernelSlot(fix.kernelName, backendName, tf.getKernel(fix.kernelName, backendName));
    slots.set(key, slot);
  }
  const held = slot;
  try {
    held.acquire(fix);
  } finally {
    if (held.idle) slots.delete(key);
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    try {
      held.release(fix);
    } finally {
      if (held.idle) slots.delete(key);
    }
  };
}
