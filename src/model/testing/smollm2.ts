/**
 * Where tests find the real model, SmolLM2-135M-Instruct (Q4_1 GGUF, fetched by
 * scripts/fetch-smollm2.sh): $SPELL_SMOLLM2_GGUF, else $SPELL_CACHE/smollm2/, else
 * ~/.cache/spell/smollm2/. Absent → tests skip, unless SPELL_REQUIRE_PEERS names `smollm2` (CI
 * does; see required-peers.ts), where a missing model is an error so nothing silently stops being
 * tested.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { missingPeerMessage, peerRequired } from './required-peers.ts';

const FILE = 'SmolLM2-135M-Instruct.Q4_1.gguf';

/** The GGUF's path, or null when it is not on this machine. */
export function smollm2Gguf(): string | null {
  const env = process.env.SPELL_SMOLLM2_GGUF;
  const candidates = [
    env,
    process.env.SPELL_CACHE ? join(process.env.SPELL_CACHE, 'smollm2', FILE) : undefined,
    join(homedir(), '.cache', 'spell', 'smollm2', FILE),
  ];
  const found = candidates.find((p): p is string => p !== undefined && existsSync(p));
  if (!found && peerRequired('smollm2')) {
    throw new Error(
      missingPeerMessage(
        'smollm2',
        env ?? FILE,
        'bash scripts/fetch-smollm2.sh (or set SPELL_SMOLLM2_GGUF)',
      ),
    );
  }
  return found ?? null;
}
