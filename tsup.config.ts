import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', node: 'src/node/index.ts', advanced: 'src/advanced.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  // One copy of shared code (errors, validation) for both entries, in ESM and CJS alike, so
  // `instanceof GlassboxArgumentError` holds across `tfjs-glassbox` and `tfjs-glassbox/node`.
  splitting: true,
  target: 'es2020',
  // Peer dependencies stay external so the user's single tfjs instance (and its backend) is used.
  external: [/^@tensorflow\//],
});
