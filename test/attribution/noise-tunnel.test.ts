import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { gradientXInput, integratedGradients, saliency, smoothGrad } from '../../src/index';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededTensor } from '../helpers';
import { smoothMlp } from '../helpers/models';

describe('smoothGrad', () => {
  const model = smoothMlp(6, 3, 7);
  const x = seededTensor([2, 6], 31, 1.5);
  afterAll(() => x.dispose());

  it('with zero noise equals its base method, and vargrad is 0', async () => {
    const base = await saliency(model, x, { target: [1, 2] });
    const sg = await expectNoLeak(() => smoothGrad(model, x, { target: [1, 2], stdev: 0, samples: 5 }));
    await expectClose(sg, base, 1e-6);
    const sq = await smoothGrad(model, x, { target: [1, 2], stdev: 0, samples: 5, kind: 'smoothgrad_sq' });
    await expectClose(sq, tf.square(base), 1e-5);
    const vg = await smoothGrad(model, x, { target: [1, 2], stdev: 0, samples: 5, kind: 'vargrad' });
    expect(Math.max(...Array.from(await vg.data(), Math.abs))).toBeLessThan(1e-10);
    const ig = await integratedGradients(model, x, { target: 0, steps: 8 });
    const sgIg = await smoothGrad(model, x, { target: 0, stdev: 0, samples: 3, method: 'integratedGradients', baseOptions: { steps: 8 } });
    await expectClose(sgIg, ig, 1e-5);
    [base, sg, sq, vg, ig, sgIg].forEach((t) => t.dispose());
  });

  it('equals the mean / mean square / variance of base attributions at the seeded noisy samples', async () => {
    // Independent computation: the noisy samples are re-created from their seeds, attributed one by one.
    const { seededNormal } = await import('../../src/core/seeded-random');
    const samples = 4;
    const seed = 9;
    const sigma = 0.3;
    const attributions: tf.Tensor[] = [];
    for (let s = 0; s < samples; s++) {
      const noisy = tf.tidy(() => tf.add(x, tf.mul(seededNormal(x.shape, seed, s), sigma)));
      attributions.push(await gradientXInput(model, noisy, { target: 1 }));
      noisy.dispose();
    }
    const stacked = tf.stack(attributions);
    const mean = tf.mean(stacked, 0);
    const meanSq = tf.mean(tf.square(stacked), 0);
    for (const [kind, expected] of [['smoothgrad', mean], ['smoothgrad_sq', meanSq], ['vargrad', tf.sub(meanSq, tf.square(mean))]] as const) {
      const result = await smoothGrad(model, x, { target: 1, kind, samples, stdev: sigma, seed, method: 'gradientXInput', batchSize: 3 });
      await expectClose(result, expected, 1e-4);
      result.dispose();
    }
    [...attributions, stacked, mean, meanSq].forEach((t) => t.dispose());
  });

  it('is reproducible with a seed, independent of batchSize, and noise is relative with noiseLevel', async () => {
    const a = await smoothGrad(model, x, { target: 0, samples: 6, noiseLevel: 0.2, seed: 3, batchSize: 2 });
    const b = await smoothGrad(model, x, { target: 0, samples: 6, noiseLevel: 0.2, seed: 3, batchSize: 64 });
    await expectClose(a, b, 1e-6);
    // Relative noise: scaling the input and the model's input layer by 10 gives the same samples / 10.
    const scaled = tf.mul(x, 10);
    const shrink = (v: tf.Tensor) => model.predict(tf.div(v, 10)) as tf.Tensor;
    const c = await smoothGrad(shrink, scaled, { target: 0, samples: 6, noiseLevel: 0.2, seed: 3 });
    await expectClose(tf.mul(c, 10), a, 1e-4);
    const d = await smoothGrad(model, x, { target: 0, samples: 6, noiseLevel: 0.2, seed: 4 });
    expect(Array.from(await d.data())).not.toEqual(Array.from(await a.data()));
    [a, b, c, d, scaled].forEach((t) => t.dispose());
  });

  it('accepts a custom base method', async () => {
    const doubled = async (m: Parameters<typeof saliency>[0], v: tf.Tensor, o: object) => {
      const s = await saliency(m, v, o);
      const out = tf.mul(s, 2);
      s.dispose();
      return out;
    };
    const base = await saliency(model, x, { target: 2 });
    const result = await smoothGrad(model, x, { target: 2, stdev: 0, samples: 2, method: doubled });
    await expectClose(result, tf.mul(base, 2), 1e-6);
    base.dispose();
    result.dispose();
  });

  it('rejects bad options without leaking', async () => {
    await expectRejectsWithoutLeak(() => smoothGrad(model, x, { target: 0, kind: 'median' as never }), /options\.kind: expected one of 'smoothgrad'/);
    await expectRejectsWithoutLeak(() => smoothGrad(model, x, { target: 0, samples: 0 }), /options\.samples: expected an integer >= 1/);
    await expectRejectsWithoutLeak(() => smoothGrad(model, x, { target: 0, stdev: 1, noiseLevel: 0.1 }), /options\.stdev: give either/);
    await expectRejectsWithoutLeak(() => smoothGrad(model, x, { target: 0, stdev: -1 }), /options\.stdev: expected a number in \[0/);
    await expectRejectsWithoutLeak(() => smoothGrad(model, x, { target: 0, method: 'lime' as never }), /options\.method: expected one of 'saliency'/);
    await expectRejectsWithoutLeak(() => smoothGrad(model, x, { target: 5 }), /options\.target: index 5 is out of range/);
    const controller = new AbortController();
    await expectRejectsWithoutLeak(
      () => smoothGrad(model, x, { target: 0, samples: 10, batchSize: 2, signal: controller.signal, onProgress: () => controller.abort() }),
      /aborted/,
    );
  });
});
