/**
 * Which peers a test run requires. A peer is a Python venv group of peers/requirements/
 * (`tinker-json`, `tinker`, `skyrl`, `llamacpp`, `reference`) or `smollm2`, the real model's GGUF.
 * A test whose peer is missing skips, unless that peer is required, where it fails: CI names in
 * SPELL_REQUIRE_PEERS exactly the peers .ci/run installs, so none of them silently stops being
 * tested, while a test of a peer CI does not install still skips there.
 *
 * SPELL_REQUIRE_PEERS: a comma-separated list of peer names; `1` or `all` require every peer
 * (a developer machine with all venvs); unset or empty requires none.
 */

/** Whether this run requires `peer` (so a test of it must fail, not skip, when it is missing). */
export function peerRequired(peer: string): boolean {
  return requiredBy(process.env.SPELL_REQUIRE_PEERS, peer);
}

/** Whether a SPELL_REQUIRE_PEERS value (undefined: unset) requires `peer`. */
export function requiredBy(setting: string | undefined, peer: string): boolean {
  const names = (setting ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return names.includes(peer) || names.includes('1') || names.includes('all');
}

/** The one-line error of a required peer that is missing, with the command that installs it. */
export function missingPeerMessage(peer: string, where: string, install: string): string {
  return `SPELL_REQUIRE_PEERS requires '${peer}' but it is missing at ${where}; run: ${install}`;
}
