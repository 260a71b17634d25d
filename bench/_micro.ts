import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
await tf.setBackend(process.argv[2] ?? 'wasm');
const t = tf.randomNormal([1, 112, 112, 96]);
const t2 = tf.randomNormal([1, 112, 112, 96]);
const half = tf.scalar(0.5);
const ops: Record<string, () => tf.Tensor> = {
  'minimum(t,0)': () => tf.minimum(t, 0),
  'sub(t,relu t)': () => tf.sub(t, tf.relu(t)),
  'relu': () => tf.relu(t),
  'neg': () => tf.neg(t),
  'greaterEqual(t,0)': () => tf.greaterEqual(t, 0),
  'cast(ge)': () => tf.cast(tf.greaterEqual(t, 0), 'float32'),
  'sign': () => tf.sign(t),
  'add(t, 0.5)': () => tf.add(t, 0.5),
  'add(t, scalar)': () => tf.add(t, half),
  'mul(t, 2)': () => tf.mul(t, 2),
  'add(t,t2)': () => tf.add(t, t2),
  'mul(t,t2)': () => tf.mul(t, t2),
  'div(t,t2)': () => tf.div(t, t2),
  'step': () => tf.step(t),
  'greater(t,0)': () => tf.greater(t, 0),
  'zerosLike': () => tf.zerosLike(t),
  'onesLike': () => tf.onesLike(t),
};
for (const [name, f] of Object.entries(ops)) {
  for (let i = 0; i < 3; i++) f().dispose();
  const s = performance.now();
  for (let i = 0; i < 40; i++) { const r = f(); r.dataSync(); r.dispose(); }
  console.log(name.padEnd(20), ((performance.now() - s) / 40).toFixed(2), 'ms');
}
