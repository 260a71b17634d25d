import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BackwardPassError,
  type GradientOverride,
  guardedGradients,
  withBackendGapFixesSync,
} from '../../src/core/backend-gaps';
import { watchTape } from '../../src/core/backend-gaps/backward-failure';
import { inputGradient } from '../../src/core/input-gradient';
import { expectClose, seededTensor } from '../helpers';

/** A kernel that tfjs knows no gradient for, even with the scope's fixes: an identity. */
const NO_GRADIENT = 'GlassboxTestNoGradient';
const withoutGradient = (x: tf.Tensor): tf.Tensor => tf.engine().runKernel(NO_GRADIENT, { x }) as tf.Tensor;

beforeAll(() => {
  tf.registerKernel({
    kernelName: NO_GRADIENT,
    backendName: tf.getBackend(),
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs.x as tf.TensorInfo;
      (backend as tf.KernelBackend).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
});
afterAll(() => tf.unregisterKernel(NO_GRADIENT, tf.getBackend()));

/** A function whose tape saves tensors (exp, mul, tanh keep inputs or outputs) before `middle`. */
const withSavedTensors = (middle: (t: tf.Tensor) => tf.Tensor) => (x: tf.Tensor) =>
  tf.sum(tf.tanh(tf.mul(middle(tf.exp(tf.mul(x, x))), x))) as tf.Scalar;

const tape = () => (tf.engine().state as unknown as { activeTape: unknown[] | null }).activeTape;

/** Expects `run` to fail, leave the tensor count and the tape as they were, and returns the error. */
function failureOf(run: () => unknown): unknown {
  const before = tf.memory().numTensors;
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeDefined();
  expect(tf.memory().numTensors).toBe(before);
  expect(tape()).toBeNull();
  return caught;
}

/** A following gradient computation still works (tfjs's engine is not left in a broken state). */
async function expectGradientsStillWork(): Promise<void> {
  const x = tf.tensor1d([0.5, -1]);
  const dx = inputGradient((v) => tf.sum(tf.square(v)) as tf.Scalar, x);
  await expectClose(dx, [1, -2], 1e-6);
  tf.dispose([x, dx]);
}

describe('backward-pass failures leak nothing', () => {
  it('tfjs alone leaves the saved tensors and its tape behind (the gap)', () => {
    const x = seededTensor([2, 3], 151);
    const f = withSavedTensors(withoutGradient);
    const before = tf.memory().numTensors;
    const release = watchTape();
    let error: unknown;
    try {
      tf.grad(f)(x);
    } catch (e) {
      error = e;
    }
    expect(String(error)).toMatch(/gradient function not found for GlassboxTestNoGradient/);
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    expect(tape()).not.toBeNull();
    release(error);
    expect(tf.memory().numTensors).toBe(before);
    expect(tape()).toBeNull();
    x.dispose();
  });

  it('a kernel without a gradient: BackwardPassError naming it, keeping tfjs message, what to do', async () => {
    const x = seededTensor([2, 3], 152);
    const error = failureOf(() => inputGradient(withSavedTensors(withoutGradient), x));
    expect(error).toBeInstanceOf(BackwardPassError);
    const failure = error as BackwardPassError;
    expect(failure.kernelName).toBe(NO_GRADIENT);
    expect(failure.message).toMatch(/gradient of 'GlassboxTestNoGradient': Cannot compute gradient: gradient function not found/);
    expect(failure.message).toMatch(/register a gradient for it \(tf\.registerGradient, or a GradientOverride/);
    expect(failure.message).toMatch(/please report it/);
    await expectGradientsStillWork();
    x.dispose();
  });

  for (const where of ['gradient function', 'input-gradient thunk'] as const) {
    it(`a ${where} that throws: BackwardPassError with the cause`, async () => {
      const boom = new Error(`Exp rule exploded in the ${where}`);
      const exploding: GradientOverride = {
        kernelName: 'Exp',
        gradient: () => ({
          outputsToSave: [true],
          gradFunc: () => {
            if (where === 'gradient function') throw boom;
            return {
              x: () => {
                throw boom;
              },
            };
          },
        }),
      };
      const x = seededTensor([2, 3], 153);
      const error = failureOf(() =>
        withBackendGapFixesSync(() => guardedGradients(withSavedTensors((t) => t), [x]), { gradients: [exploding] }),
      );
      expect(error).toBeInstanceOf(BackwardPassError);
      expect((error as BackwardPassError).kernelName).toBe('Exp');
      expect((error as BackwardPassError).cause).toBe(boom);
      expect((error as Error).message).toContain(boom.message);
      await expectGradientsStillWork();
      x.dispose();
    });
  }

  it('a tf.customGrad closure that asserts: BackwardPassError with tfjs message', async () => {
    const forward = (v: tf.Tensor, save: tf.GradSaveFunc) => {
      save([v]);
      return {
        value: tf.exp(v),
        gradFunc: (): tf.Tensor => {
          throw new Error('Error in gradient of refusing: not supported');
        },
      };
    };
    const refusing = tf.customGrad(forward as unknown as Parameters<typeof tf.customGrad>[0]) as (v: tf.Tensor) => tf.Tensor;
    const x = seededTensor([3], 154);
    const error = failureOf(() => inputGradient(withSavedTensors(refusing), x));
    expect(error).toBeInstanceOf(BackwardPassError);
    expect((error as Error).message).toMatch(/Error in gradient of refusing: not supported/);
    await expectGradientsStillWork();
    x.dispose();
  });

  it('a dilated tfjs-layers conv2d with a linear activation (fused): names the fused op', async () => {
    const layer = tfl.layers.conv2d({ filters: 2, kernelSize: 3, dilationRate: 2, padding: 'same' });
    const x = seededTensor([1, 6, 6, 2], 155);
    layer.apply(x);
    const error = failureOf(() => inputGradient((v) => tf.sum(layer.apply(v) as tf.Tensor) as tf.Scalar, x));
    expect(error).toBeInstanceOf(BackwardPassError);
    expect((error as BackwardPassError).kernelName).toMatch(/fusedConv2d/i);
    expect((error as Error).message).toMatch(/fused conv2D: dilation rates greater than 1/);
    await expectGradientsStillWork();
    x.dispose();
    layer.dispose();
  });

  it('the synchronous scope frees an abandoned tape of a plain tf.grad inside it', async () => {
    const x = seededTensor([2, 3], 156);
    const error = failureOf(() => withBackendGapFixesSync(() => tf.grad(withSavedTensors(withoutGradient))(x)));
    expect(String(error)).toMatch(/gradient function not found for GlassboxTestNoGradient/);
    await expectGradientsStillWork();
    x.dispose();
  });

  it('leaves an enclosing gradient computation alone (higher-order gradients)', async () => {
    // d/dx of Σ (d/dx Σ x³) = Σ 6x: the inner guarded computation runs on the outer tape.
    const x = tf.tensor1d([1, -2]);
    const outer = tf.grad((v: tf.Tensor) => {
      const [inner] = guardedGradients((w) => tf.sum(tf.pow(w, 3)), [v]);
      return tf.sum(inner) as tf.Scalar;
    })(x);
    await expectClose(outer, [6, -12], 1e-5);
    tf.dispose([x, outer]);
  });
});
