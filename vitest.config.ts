import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: running more forks than that only adds contention.
    maxWorkers: 2,
    // `spell serve` started by tests writes its default checkpoints here, not into the user's data dir.
    env: { SPELL_DATA_DIR: join(tmpdir(), 'spell-test-data') },
  },
});
