import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { loadInceptionV3, loadMobileNetV2 } from '../examples/models/pretrained';
import { composites, lrp, rules, type BasicRule } from '../src/index';
await tf.setBackend(process.argv[2] ?? 'wasm');
const which = process.argv[3] ?? 'mnv2';
const [load, size] = which === 'mnv2' ? [loadMobileNetV2, 224] as const : [loadInceptionV3, 299] as const;
const m = await load();
const x = tf.randomUniform([1, size, size, 3], 0, 1, 'float32', 2);
const strip = (r: BasicRule): BasicRule => ({ ...r, derivedOutputs: undefined, nonNegativeInput: r.nonNegativeInput && { ...r.nonNegativeInput, derivedOutputs: undefined } });
const ab = rules.alphaBeta({ alpha: 2, beta: 1 }) as BasicRule;
const ga = rules.gamma() as BasicRule;
const cases = [
  ['alpha2-beta1', composites.custom({ kinds: { dense: ab, conv: ab } }), composites.custom({ kinds: { dense: strip(ab), conv: strip(ab) } })],
  ['zplus', composites.custom({ kinds: { dense: rules.zPlus() as BasicRule, conv: rules.zPlus() as BasicRule } }), composites.custom({ kinds: { dense: strip(rules.zPlus() as BasicRule), conv: strip(rules.zPlus() as BasicRule) } })],
] as const;
for (const [name, fast, direct] of cases) {
  const t0 = process.cpuUsage();
  const a = await lrp(m, x, { target: 2, composite: fast });
  const t1 = process.cpuUsage(t0);
  const b = await lrp(m, x, { target: 2, composite: direct });
  const t2 = process.cpuUsage(t1); 
  const [d, s, sa, sb] = tf.tidy(() => [tf.max(tf.abs(tf.sub(a, b))), tf.max(tf.abs(b)), tf.sum(a), tf.sum(b)]).map((t) => t.dataSync()[0]);
  console.log(`${which} ${name.padEnd(14)} max|fast − direct| ${d.toExponential(2)}  max|direct| ${s.toExponential(2)}  ΣR fast ${sa.toFixed(5)} direct ${sb.toFixed(5)}`);
  a.dispose(); b.dispose();
}
