import { describe, expect, it } from 'vitest';
import { shiftedUpsampleInto } from '../../src/attribution/perturbation/shifted-upsample';
import { relativeL1, seededValues } from '../helpers';
import { upsampleAndCrop } from './reference';

describe('shiftedUpsampleInto', () => {
  it.each([
    // source, upsampled, output
    [[4, 4], [45, 45], [40, 40]],
    [[3, 5], [12, 30], [7, 17]],
    [[9, 7], [27, 21], [9, 7]],
    [[6, 6], [18, 18], [1, 5]],
    [[1, 1], [5, 5], [3, 3]],
  ] as [number, number][][])('equals bilinear upsampling %j → %j then cropping %j at each offset', (size, upsampled, output) => {
    const count = 5;
    const values = seededValues(count * size[0] * size[1], 3).map((v) => (v + 1) / 2);
    const offsets = Array.from({ length: count }, (_, i): [number, number] => [
      Math.floor((((i * 7) % 11) / 11) * (upsampled[0] - output[0] + 1)),
      Math.floor((((i * 5) % 9) / 9) * (upsampled[1] - output[1] + 1)),
    ]);
    offsets[count - 1] = [upsampled[0] - output[0], upsampled[1] - output[1]];
    for (let i = 0; i < count; i++) {
      const source = values.subarray(i * size[0] * size[1], (i + 1) * size[0] * size[1]);
      const out = new Float32Array(output[0] * output[1]);
      shiftedUpsampleInto(out, source, size as [number, number], { upsampled, output, offset: offsets[i] } as never);
      const expected = upsampleAndCrop(source, size as never, upsampled as never, output as never, offsets[i]);
      expect(relativeL1(out, expected)).toBeLessThan(1e-6);
    }
  });

  it('keeps a binary mask in [0, 1] and its flat regions exact', () => {
    const source = Float32Array.from([1, 0, 0, 1]);
    const out = new Float32Array(12 * 12);
    shiftedUpsampleInto(out, source, [2, 2], { upsampled: [18, 18], output: [12, 12], offset: [0, 0] });
    expect(Math.min(...out)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...out)).toBeLessThanOrEqual(1);
    // Output (0, 0) reads source (−¼, −¼): clamped to the corner value 1.
    expect(out[0]).toBe(1);
  });
});
