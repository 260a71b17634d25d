/**
 * Names renamed for 1.0 keep working for one release: the same results, one warning per process naming
 * the replacement, and an error when both the old and the new name are given.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  deletionInsertion,
  guidedBackpropIntegratedGradients,
  guidedIntegratedGradients,
  lrp,
  rise,
  rules,
  slic,
  smoothTaylor,
} from '../../src/index';
import { expectClose, expectRejectsWithoutLeak, seededTensor } from '../helpers';
import { smallConvNet, smoothMlp } from '../helpers/models';

describe('deprecated names', () => {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  afterEach(() => warn.mockClear());
  afterAll(() => warn.mockRestore());

  it('smoothTaylor: roots → samples, noiseScale → stdev', async () => {
    const model = smoothMlp(4, 3, 3);
    const x = seededTensor([2, 4], 4);
    const renamed = await smoothTaylor(model, x, { target: 1, samples: 5, stdev: 0.3, seed: 2 });
    const former = await smoothTaylor(model, x, { target: 1, roots: 5, noiseScale: 0.3, seed: 2 });
    await expectClose(former, renamed, 0);
    expect(warn.mock.calls.flat().join('\n')).toMatch(/options\.roots is deprecated .*use options\.samples/);
    await expectRejectsWithoutLeak(() => smoothTaylor(model, x, { target: 1, samples: 5, roots: 5 }), /options\.roots: is the former name of options\.samples; give only samples/);
    [x, renamed, former].forEach((t) => t.dispose());
  });

  it('rise: masks → samples; deletionInsertion: steps → curveSteps; slic: sigma → smoothing', async () => {
    const model = smallConvNet();
    const x = seededTensor([1, 8, 8, 3], 5);
    const a = await rise(model, x, { target: 0, samples: 12, seed: 1 });
    const b = await rise(model, x, { target: 0, masks: 12, seed: 1 });
    await expectClose(b, a, 0);
    const curves = await deletionInsertion(model, x, a, { target: 0, steps: 4, mode: 'deletion' });
    expect(curves.deletionCurve.shape).toEqual([1, 5]);
    const image = tf.squeeze(x, [0]);
    const smooth = await slic(image, { segments: 6, smoothing: 1 });
    const former = await slic(image, { segments: 6, sigma: 1 });
    expect(Array.from(former.labels)).toEqual(Array.from(smooth.labels));
    expect(warn.mock.calls.length).toBeGreaterThan(0);
    [x, a, b, curves.deletion, curves.deletionCurve, image].forEach((t) => t.dispose());
  });

  it('lrp: relevanceAt → layer; rules: stabilizer → epsilon; guidedIntegratedGradients → guidedBackpropIntegratedGradients', async () => {
    const model = smallConvNet();
    const x = seededTensor([1, 8, 8, 3], 6);
    const name = model.layers[1].name;
    const atLayer = await lrp(model, x, { target: 0, layer: name });
    const former = await lrp(model, x, { target: 0, relevanceAt: name });
    await expectClose(former, atLayer, 0);
    expect(rules.epsilon({ stabilizer: 0.5 }).name).toBe('epsilon(0.5)');
    const guided = await guidedBackpropIntegratedGradients(model, x, { target: 0, steps: 4 });
    const formerGuided = await guidedIntegratedGradients(model, x, { target: 0, steps: 4 });
    await expectClose(formerGuided, guided, 0);
    expect(warn.mock.calls.flat().join('\n')).toMatch(/guidedIntegratedGradients is deprecated .*use guidedBackpropIntegratedGradients/);
    [x, atLayer, former, guided, formerGuided].forEach((t) => t.dispose());
  });
});
