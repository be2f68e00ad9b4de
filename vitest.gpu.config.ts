import { defineConfig } from 'vitest/config';

// `npm run test:gpu`'s own specs (scripts/test-gpu.mjs): WebGPU checks of graph families, kept out of test:unit.
export default defineConfig({
  test: {
    include: ['test/gpu/**/*.test.ts'],
    environment: 'node',
    testTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
