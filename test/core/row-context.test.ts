/** withRowContext: sets the context for one synchronous evaluation, nests, restores on error. */
import { describe, expect, it } from 'vitest';
import { currentRowContext, withRowContext } from '../../src/advanced';

describe('withRowContext', () => {
  it('is visible inside the run only, nests and restores the outer context, also when the run throws', () => {
    const outer = { seed: 1, examples: new Int32Array([0, 0, 1]) };
    const inner = { seed: 2, examples: new Int32Array([4]) };
    expect(currentRowContext()).toBeNull();
    const seen = withRowContext(outer, () => {
      const nested = withRowContext(inner, () => currentRowContext());
      expect(() => withRowContext(inner, () => {
        throw new Error('boom');
      })).toThrow('boom');
      return [nested, currentRowContext()];
    });
    expect(seen).toEqual([inner, outer]);
    expect(currentRowContext()).toBeNull();
  });

  it('rejects a malformed context or run, naming the argument', () => {
    expect(() => withRowContext({ seed: 1.5, examples: new Int32Array(1) }, () => 0)).toThrow(/context: expected \{ seed: integer, examples: Int32Array \}/);
    expect(() => withRowContext({ seed: 1, examples: [0] as unknown as Int32Array }, () => 0)).toThrow(/context: expected/);
    expect(() => withRowContext({ seed: 1, examples: new Int32Array(1) }, 3 as never)).toThrow(/run: expected a function/);
  });
});
