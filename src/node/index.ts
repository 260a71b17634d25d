/**
 * `tfjs-glassbox/node`: helpers that need Node's file system, kept out of the browser entry.
 *
 * - {@link writePng}: an RGB tensor (e.g. from `heatmap`, `overlay`, `concatTiles`) to a PNG file.
 * - {@link nodeFileSystem}: a tfjs `IOHandler` to save and load models as `model.json` + weights.
 * @packageDocumentation
 */
export { writePng } from './write-png';
export { nodeFileSystem } from './file-system';
