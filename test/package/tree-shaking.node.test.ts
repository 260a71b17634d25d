/**
 * Tree-shaking: a browser bundle that imports only `saliency` carries no LRP, SLIC or layer code (and
 * no layer registration), while bundles that import those do, so the absence is not an artefact of
 * renaming. The library is built as `npm run build` builds it and bundled with esbuild
 * (scripts/library-bundle.ts).
 */
import { describe, expect, it } from 'vitest';
import { bundleLibrary } from '../../scripts/library-bundle';

/** Code that only LRP, SLIC or the layers bring, by the names esbuild keeps in an unminified bundle. */
const MARKERS = {
  lrp: ['function lrp(', 'epsilon-plus-flat'],
  slic: ['function slic('],
  layers: ['EdgeFilterStem = class', 'SpatialShuffle = class', 'SemanticBottleneck = class', 'InvertibleConceptFlow = class', 'registerClass(', 'FILTER_KERNELS'],
};

function present(code: string): string[] {
  return Object.values(MARKERS)
    .flat()
    .filter((marker) => code.includes(marker));
}

describe('tree-shaking', () => {
  it('leaves LRP, SLIC and the layers out of a bundle that imports only saliency', async () => {
    const code = await bundleLibrary('import { saliency } from "tfjs-glassbox"; console.log(saliency);');
    expect(code).toContain('function saliency(');
    expect(present(code)).toEqual([]);
  });

  it('keeps each of them when it is imported', async () => {
    const code = await bundleLibrary('import { lrp, slic, layers } from "tfjs-glassbox"; console.log(lrp, slic, layers);');
    expect(present(code)).toEqual(Object.values(MARKERS).flat());
  });
});
