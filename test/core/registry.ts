/** Snapshots of tfjs's kernel and gradient registries, to check that a scope restores them exactly. */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { GRADIENT_FIXES, kernelFixes } from '../../src/core/backend-gaps/fixes';

/** Every kernel a scope may replace, and every gradient it may replace (library fixes and guided rules). */
const KERNELS = [...new Set([...kernelFixes(true), ...kernelFixes(false)].map((fix) => fix.kernelName))];
const GRADIENTS = [...new Set([...GRADIENT_FIXES.map((fix) => fix.kernelName), 'Relu', 'Relu6', 'MaxPool', 'Sigmoid'])];

export interface RegistrySnapshot {
  kernels: (tf.KernelConfig | undefined)[];
  gradients: (tf.GradConfig | undefined)[];
}

export const snapshotRegistry = (): RegistrySnapshot => ({
  kernels: KERNELS.map((name) => tf.getKernel(name, tf.getBackend())),
  gradients: GRADIENTS.map((name) => tf.getGradient(name)),
});

/** Expects every entry to be the very object (or absence) of `snapshot`. */
export function expectRegistry(snapshot: RegistrySnapshot): void {
  const now = snapshotRegistry();
  now.kernels.forEach((config, i) => expect(config, `kernel ${KERNELS[i]}`).toBe(snapshot.kernels[i]));
  now.gradients.forEach((config, i) => expect(config, `gradient ${GRADIENTS[i]}`).toBe(snapshot.gradients[i]));
}
