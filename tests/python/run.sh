#!/usr/bin/env bash
# The Python suite: builds libpulsar and pulsard if needed (reusing the workspace's debug build), then runs
# pytest over tests/python with the module from c-api/python. Installs nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo build -q -p pulsar-capi
cargo build -q -p publisher-pulsar --bin pulsard

# The interpreter that has pytest: $PYTHON, else python3, else Debian's /usr/bin/python3 (python3-pytest),
# which matters when another python3 (pyenv, a venv) comes first on PATH.
python=""
for candidate in "${PYTHON:-}" python3 /usr/bin/python3; do
  if [ -n "$candidate" ] && "$candidate" -c "import pytest" >/dev/null 2>&1; then
    python="$candidate"
    break
  fi
done
if [ -z "$python" ]; then
  echo "no Python with pytest found (apt-get install python3-pytest)" >&2
  exit 1
fi

export PULSAR_LIB="$(pwd)/target/debug/libpulsar.so"
export PULSARD="$(pwd)/target/debug/pulsard"
exec "$python" -m pytest -q -p no:cacheprovider tests/python "$@"
