import * as tf from '@tensorflow/tfjs-core';

/** A registry entry installed for the duration of a scope, with whatever it must free when removed. */
export interface Installed<C> {
  config: C;
  dispose?: () => void;
}

/**
 * One way to answer a registry entry (a kernel on a backend, or a kernel's gradient) while a scope is
 * open. `install` gets the entry that was registered before any scope (undefined if none) and returns
 * what to register instead; returning `undefined` keeps the original. When scopes that want different
 * fixes for the same entry overlap, the fix with the highest `priority` is registered, the most
 * recently acquired one among equals (a correct kernel outranks a cheaper shortcut; a caller's gradient
 * override outranks the library's own gradient fixes; an inner scope's override outranks an outer's).
 */
export interface RegistryFix<C> {
  readonly priority: number;
  install(original: C | undefined): Installed<C> | undefined;
}

/** Reads and writes one entry of one of tfjs's global registries. */
interface RegistryEntry<C> {
  readonly key: string;
  read(): C | undefined;
  /** Replaces the entry by `next` (undefined: removes it); `current` is what is registered now. */
  write(current: C | undefined, next: C | undefined): void;
}

/**
 * One registry entry while at least one scope wants it fixed: remembers the original entry, counts
 * the open requests per fix, keeps the best-ranked fix registered, and puts the original object back
 * (or removes the entry, if there was none) when the last request is released.
 */
class RegistrySlot<C> {
  private readonly requests = new Map<RegistryFix<C>, number>();
  private active: { fix: RegistryFix<C>; installed: Installed<C> | undefined } | undefined;

  constructor(
    private readonly entry: RegistryEntry<C>,
    private readonly original: C | undefined,
  ) {}

  get idle(): boolean {
    return this.requests.size === 0;
  }

  acquire(fix: RegistryFix<C>): void {
    const count = this.requests.get(fix) ?? 0;
    // Re-inserting moves the fix to the end: the most recent request wins among equal priorities.
    this.requests.delete(fix);
    this.requests.set(fix, count + 1);
    try {
      this.update();
    } catch (error) {
      this.release(fix);
      throw error;
    }
  }

  release(fix: RegistryFix<C>): void {
    const count = (this.requests.get(fix) ?? 0) - 1;
    if (count > 0) this.requests.set(fix, count);
    else this.requests.delete(fix);
    this.update();
  }

  private update(): void {
    let best: RegistryFix<C> | undefined;
    for (const fix of this.requests.keys()) if (best === undefined || fix.priority >= best.priority) best = fix;
    if (best === this.active?.fix) return;
    const installed = best?.install(this.original);
    const previous = this.active;
    this.register(previous?.installed?.config, installed?.config ?? this.original);
    this.active = best === undefined ? undefined : { fix: best, installed };
    previous?.installed?.dispose?.();
  }

  /**
   * Replaces the registry entry by `next`. Leaves the registry alone if someone else replaced the
   * entry we installed while the scope was open: theirs is newer than ours.
   */
  private register(ours: C | undefined, next: C | undefined): void {
    const current = this.entry.read();
    if (current === next || current !== (ours ?? this.original)) return;
    this.entry.write(current, next);
  }
}

const slots = new Map<string, RegistrySlot<unknown>>();

/** Registers `fix` for `entry` until the returned function is called (once). */
function acquire<C>(entry: RegistryEntry<C>, fix: RegistryFix<C>): () => void {
  let slot = slots.get(entry.key) as RegistrySlot<C> | undefined;
  if (slot === undefined) {
    slot = new RegistrySlot(entry, entry.read());
    slots.set(entry.key, slot as RegistrySlot<unknown>);
  }
  const held = slot;
  try {
    held.acquire(fix);
  } finally {
    if (held.idle) slots.delete(entry.key);
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    try {
      held.release(fix);
    } finally {
      if (held.idle) slots.delete(entry.key);
    }
  };
}

/** A fix for a kernel on every backend; `install` also gets the backend's name. */
export interface KernelFix {
  readonly kernelName: string;
  readonly priority: number;
  install(original: tf.KernelConfig | undefined, backendName: string): Installed<tf.KernelConfig> | undefined;
}

/** The per-backend registry fix of each kernel fix (stable objects, so requests are counted per fix). */
const perBackend = new WeakMap<KernelFix, Map<string, RegistryFix<tf.KernelConfig>>>();

function forBackend(fix: KernelFix, backendName: string): RegistryFix<tf.KernelConfig> {
  let byBackend = perBackend.get(fix);
  if (byBackend === undefined) perBackend.set(fix, (byBackend = new Map()));
  let bound = byBackend.get(backendName);
  if (bound === undefined) {
    bound = { priority: fix.priority, install: (original) => fix.install(original, backendName) };
    byBackend.set(backendName, bound);
  }
  return bound;
}

/** Registers `fix` for its kernel on `backendName` until the returned function is called (once). */
export function acquireKernelFix(fix: KernelFix, backendName: string): () => void {
  const { kernelName } = fix;
  const entry: RegistryEntry<tf.KernelConfig> = {
    key: `kernel:${backendName}_${kernelName}`,
    read: () => tf.getKernel(kernelName, backendName),
    write: (current, next) => {
      if (current !== undefined) tf.unregisterKernel(kernelName, backendName);
      if (next !== undefined) tf.registerKernel(next);
    },
  };
  return acquire(entry, forBackend(fix, backendName));
}

/** A fix for a kernel's gradient (tfjs's gradient registry is shared by all backends). */
export interface GradientFix extends RegistryFix<tf.GradConfig> {
  readonly kernelName: string;
}

/** Registers `fix` for its kernel's gradient until the returned function is called (once). */
export function acquireGradientFix(fix: GradientFix): () => void {
  const { kernelName } = fix;
  const entry: RegistryEntry<tf.GradConfig> = {
    key: `gradient:${kernelName}`,
    read: () => tf.getGradient(kernelName),
    write: (current, next) => {
      if (next !== undefined) tf.registerGradient(next);
      else if (current !== undefined) tf.unregisterGradient(kernelName);
    },
  };
  return acquire(entry, fix);
}
