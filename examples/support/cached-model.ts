/**
 * A trained example model cached on disk with the package's `nodeFileSystem` IOHandler: loaded from
 * `cacheDir/model.json` when it is there, otherwise trained and saved.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { nodeFileSystem } from '../../src/node/index';

export async function loadOrTrain(
  cacheDir: string,
  name: string,
  train: () => Promise<{ model: tfl.LayersModel; what: string }>,
  log: (line: string) => void,
): Promise<tfl.LayersModel> {
  const file = join(cacheDir, 'model.json');
  if (existsSync(file)) {
    const model = await tfl.loadLayersModel(nodeFileSystem(file));
    log(`loaded the ${name} from ${file}`);
    return model;
  }
  const started = performance.now();
  const { model, what } = await train();
  log(`trained the ${name} on ${what} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await model.save(nodeFileSystem(file));
  return model;
}
