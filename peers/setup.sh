#!/usr/bin/env bash
# Makes (or reuses) the Python virtual environment of one peer group and installs its pinned
# requirements: bash peers/setup.sh GROUP  (GROUP = a file name in peers/requirements/ without .txt).
# The environment lives in $SPELL_PEERS_HOME/GROUP (default peers/.venv/GROUP). It is reused when the
# requirements it was installed from equal the file now; the stamp is written only after a complete
# install, so an interrupted one is rebuilt from scratch. Prints the environment's python path last.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
group="${1:?usage: peers/setup.sh GROUP (one of: $(ls "$here/requirements" | sed 's/\.txt$//' | tr '\n' ' '))}"
req="$here/requirements/$group.txt"
[ -f "$req" ] || { echo "peers/setup.sh: no requirements file $req" >&2; exit 2; }
home="${SPELL_PEERS_HOME:-$here/.venv}"
venv="$home/$group"
python="${SPELL_PYTHON:-python3}"
command -v "$python" >/dev/null || { echo "peers/setup.sh: $python not found (peers need Python 3.10+)" >&2; exit 2; }
stamp="$venv/.spell-requirements"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && cmp -s "$req" "$stamp"; then
  echo "$venv/bin/python"
  exit 0
fi
mkdir -p "$home"
rm -rf "$venv"
start=$(date +%s)
"$python" -m venv "$venv"
"$venv/bin/pip" install --disable-pip-version-check -q -r "$req" >&2
cp "$req" "$stamp"
echo "peers/setup.sh: $group installed in $(( $(date +%s) - start )) s" >&2
echo "$venv/bin/python"
