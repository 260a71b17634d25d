import * as tf from '@tensorflow/tfjs-core';
import type { KernelCache } from './kernel-cache';

/** What the kernels and gradients installed by a scope need to know about the open scopes. */
export interface OpenScope {
  /** Data of the tensors the caller declared constant (model weights). */
  readonly constants: ReadonlySet<object>;
  readonly cache: KernelCache | undefined;
}

const openScopes: OpenScope[] = [];
const closeListeners: (() => void)[] = [];
/** Data of the registered `tf.Variable`s, read once while scopes are open (undefined: not read yet). */
let variableData: Set<object> | undefined;

/** Calls `listener` whenever the last open scope closes (to drop per-scope records). */
export function onAllScopesClosed(listener: () => void): void {
  closeListeners.push(listener);
}

/** Marks `scope` open until the returned function is called (once). */
export function enterScope(scope: OpenScope): () => void {
  openScopes.push(scope);
  variableData = undefined;
  let left = false;
  return () => {
    if (left) return;
    left = true;
    openScopes.splice(openScopes.lastIndexOf(scope), 1);
    variableData = undefined;
    if (openScopes.length === 0) for (const listener of closeListeners) listener();
  };
}

/**
 * Whether the tensor data `dataId` is a constant of the computation: one of the tensors an open scope
 * was given as `constants`, or a registered `tf.Variable` (tfjs-layers keeps every weight in one).
 */
export function isConstantData(dataId: object): boolean {
  for (const scope of openScopes) if (scope.constants.has(dataId)) return true;
  variableData ??= new Set(Object.values(tf.engine().registeredVariables).map((variable) => variable.dataId));
  return variableData.has(dataId);
}

/**
 * `derive(...sources)`, taken from the innermost open scope's {@link KernelCache} when every source is
 * a constant (computed once per call), computed afresh otherwise. The result may be a cached tensor:
 * never dispose it.
 */
export function derivedFromConstants(
  kind: string,
  sources: readonly tf.Tensor[],
  derive: (...sources: tf.Tensor[]) => tf.Tensor,
): tf.Tensor {
  const cache = innermostCache();
  if (cache === undefined || !sources.every((source) => isConstantData(source.dataId))) return derive(...sources);
  return cache.derived(kind, sources, derive);
}

function innermostCache(): KernelCache | undefined {
  for (let i = openScopes.length - 1; i >= 0; i--) {
    const { cache } = openScopes[i];
    if (cache !== undefined) return cache;
  }
  return undefined;
}
