import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { conceptLoss, conceptMasksFromLabels, maskedGroupCrossEntropy } from '../../src/index';
import { expectClose, expectNoLeak, seededValues } from '../helpers/index';

const sizes = [2, 3];

/** Per-pixel group indices (−1: no label) for 2×2×3 pixels, and random group-softmax outputs. */
function fixture() {
  const indices = [
    [0, 2], [1, -1], [-1, 0], [1, 1], [0, -1], [-1, -1],
    [1, 2], [0, 0], [-1, 1], [1, 2], [0, 1], [1, -1],
  ];
  const raw = seededValues(12 * 5, 5);
  const probs = indices.map((_, p) => {
    const row: number[] = [];
    let start = 0;
    for (const size of sizes) {
      const e = Array.from({ length: size }, (_, j) => Math.exp(2 * raw[p * 5 + start + j]));
      const sum = e.reduce((a, b) => a + b, 0);
      row.push(...e.map((v) => v / sum));
      start += size;
    }
    return row;
  });
  return { indices, probs };
}

/** Plain-JS masked group cross-entropy: per group, mean −log p over labelled pixels; summed. */
function reference(indices: number[][], probs: number[][]): number {
  let total = 0;
  let start = 0;
  sizes.forEach((size, g) => {
    let sum = 0;
    let count = 0;
    indices.forEach((row, p) => {
      if (row[g] < 0) return;
      sum -= Math.log(probs[p][start + row[g]]);
      count++;
    });
    total += count > 0 ? sum / count : 0;
    start += size;
  });
  return total;
}

describe('concept loss', () => {
  it('is the per-group cross-entropy averaged over labelled pixels only, summed over groups', async () => {
    const { indices, probs } = fixture();
    const labels = conceptMasksFromLabels(tf.tensor(indices.flat(), [2, 2, 3, 2]), sizes);
    const p = tf.tensor(probs.flat(), [2, 2, 3, 5]);
    const loss = await expectNoLeak(() => maskedGroupCrossEntropy(labels, p, sizes));
    await expectClose(loss, [reference(indices, probs)], 1e-5);
    const fromGroups = maskedGroupCrossEntropy(labels, p, [{ name: 'colour', size: 2 }, { name: 'part', size: 3 }]);
    const asLoss = conceptLoss({ groups: [{ name: 'colour', size: 2 }, { name: 'part', size: 3 }] })(labels, p);
    await expectClose(fromGroups, loss, 1e-7);
    await expectClose(asLoss, loss, 1e-7);
    tf.dispose([labels, p, loss, fromGroups, asLoss]);
  });

  it('ignores the predictions at pixels without a label', async () => {
    const { indices, probs } = fixture();
    const unlabelled = indices.map((row) => row.map(() => -1));
    unlabelled[3] = indices[3];
    const changed = probs.map((row, p) => (p === 3 ? row : [0.5, 0.5, 0.2, 0.3, 0.5]));
    const labels = conceptMasksFromLabels(tf.tensor(unlabelled.flat(), [12, 2]), sizes);
    const [a, b] = [probs, changed].map((ps) => maskedGroupCrossEntropy(labels, tf.tensor(ps), sizes));
    await expectClose(a, b, 1e-7);
    await expectClose(a, [-Math.log(probs[3][1]) - Math.log(probs[3][3])], 1e-5);
    tf.dispose([labels, a, b]);
  });

  it('turns per-group index maps into one-hot masks; −1 and out-of-range values mean "no label"', async () => {
    const labels = tf.tensor([[0, 2], [1, -1], [-1, 3], [2, 0]], [4, 2], 'int32');
    const masks = await expectNoLeak(() => conceptMasksFromLabels(labels, sizes));
    expect(masks.dtype).toBe('float32');
    expect(await masks.array()).toEqual([
      [1, 0, 0, 0, 1],
      [0, 1, 0, 0, 0],
      [0, 0, 0, 0, 0],
      [0, 0, 1, 0, 0],
    ]);
    tf.dispose([labels, masks]);
  });

  it('handles a group of one concept (present: index 0; anything else: no label)', async () => {
    const labels = tf.tensor([[0, 1], [-1, 0], [0, -1]], [3, 2], 'int32');
    const masks = await expectNoLeak(() => conceptMasksFromLabels(labels, [1, 2]));
    expect(await masks.array()).toEqual([
      [1, 0, 1],
      [0, 1, 0],
      [1, 0, 0],
    ]);
    tf.dispose([labels, masks]);
  });

  it('rejects group sizes that do not add up and mismatched labels, leaking nothing', async () => {
    const p = tf.ones([4, 5]);
    const before = tf.memory().numTensors;
    expect(() => maskedGroupCrossEntropy(p, p, [2, 2])).toThrow(/groups: the group sizes \[2, 2\] add up to 4, but the probabilities have 5 channels/);
    expect(() => maskedGroupCrossEntropy(tf.ones([4, 4]), p, sizes)).toThrow(/labels: expected the probabilities' shape \[4, 5\]/);
    expect(() => conceptLoss([2, 0])).toThrow(/groups\[1\]: expected \{ name: non-empty string, size: positive integer \}/);
    expect(() => conceptMasksFromLabels(tf.zeros([4, 3]), sizes)).toThrow(/labels: expected a tf.Tensor of shape \[batch, ..., 2\]/);
    const fractional = tf.tensor2d([[0, 1.5]]);
    const tensorsBefore = tf.memory().numTensors;
    expect(() => conceptMasksFromLabels(fractional, sizes)).toThrow(/labels: expected integer concept indices \(or −1 for no label\), got fractional values/);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    fractional.dispose();
    expect(() => maskedGroupCrossEntropy(p, p, sizes, { epsilon: 0 })).toThrow(/options.epsilon/);
    expect(tf.memory().numTensors).toBe(before + 2); // the two tensors made for the calls
    p.dispose();
  });
});
