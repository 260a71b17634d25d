/**
 * The Chromium the browser tests use: Debian's `/usr/bin/chromium` (`apt-get install chromium`), never a
 * downloaded one, headless, offline. Shared by the vitest browser projects, the playground's end-to-end
 * tests and the browser benchmark.
 */
export const CHROMIUM = '/usr/bin/chromium';

/** Flags for a quiet, offline headless Chromium; WebGL2 comes from SwiftShader. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Adds WebGPU: Chromium's SwiftShader (Vulkan on the CPU) gives headless pages an adapter. */
export const WEBGPU_FLAGS = ['--enable-unsafe-webgpu'];
