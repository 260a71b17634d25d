/**
 * Runs predict-saved-model.ts in a fresh Node process (only tfjs, a backend and the package imported)
 * on the model saved in `dir`. The child's stderr is captured (tfjs's Node banner stays out of the
 * test log; on failure it is part of the thrown error).
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/** What the fresh process read back: the loaded model's layer classes and its prediction. */
export interface FreshPrediction {
  layers: string[];
  output: number[];
}

export function predictInFreshProcess(dir: string): FreshPrediction {
  const script = resolve(__dirname, 'predict-saved-model.ts');
  const stdout = execFileSync(resolve('node_modules/.bin/tsx'), [script, dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(stdout) as FreshPrediction;
}
