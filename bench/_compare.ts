import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { loadMobileNetV2 } from '../examples/models/pretrained';
import { COMPOSITE_NAMES, lrp } from '../src/index';
// @ts-ignore
import { lrp as oldLrp } from '/tmp/lrpspeed/old/src/index';
await tf.setBackend(process.argv[2] ?? 'wasm');
const m = await loadMobileNetV2();
const x = tf.randomUniform([1, 224, 224, 3], 0, 1, 'float32', 2);
for (const c of COMPOSITE_NAMES) {
  const o = { target: 2, composite: c, ...(c === 'epsilon-gamma-box' ? { low: 0, high: 1 } : {}) };
  const a = await lrp(m, x, o);
  const b = (await oldLrp(m, x, o)) as tf.Tensor;
  const [d, s, sa, sb] = tf.tidy(() => [tf.max(tf.abs(tf.sub(a, b))), tf.max(tf.abs(b)), tf.sum(a), tf.sum(b)]).map((t) => t.dataSync()[0]);
  console.log(`${c.padEnd(26)} max|new − old| ${d.toExponential(2)}  max|old| ${s.toExponential(2)}  ΣR new ${sa.toFixed(4)} old ${sb.toFixed(4)}`);
  a.dispose(); b.dispose();
}
