#!/usr/bin/env bash
# The Python suite against the installed wheel: builds it (c-api/python/build-wheel.sh), and for each
# interpreter makes a fresh virtualenv, pip-installs the wheel (and pytest, prometheus-client from PyPI), checks
# that `import publisher_pulsar` works from an empty directory with PULSAR_LIB unset and the repository's
# library fallback disabled (PULSAR_NO_REPO_LIB=1), loading the library bundled in the venv and reading no
# header, then runs tests/python with PULSAR_TEST_INSTALLED=1 (the module is the installed one).
#
# Interpreters: $PULSAR_WHEEL_PYTHONS (space-separated), else Debian's /usr/bin/python3 and the python3 on
# PATH (once if they are the same). Every step is bounded by `timeout`.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

cargo build -q -p pulsar-capi
cargo build -q -p publisher-pulsar --bin pulsard   # the daemon the suite starts, and the C worker's library
wheel=$(bash c-api/python/build-wheel.sh | tail -n 1)
echo "wheel: $(basename "$wheel")"

pythons=()
if [ -n "${PULSAR_WHEEL_PYTHONS:-}" ]; then
  read -r -a pythons <<<"$PULSAR_WHEEL_PYTHONS"
else
  seen=""
  for candidate in /usr/bin/python3 "$(command -v python3 || true)"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    real=$("$candidate" -c 'import sys; print(sys.executable)')
    case " $seen " in *" $real "*) continue ;; esac
    seen="$seen $real"
    pythons+=("$candidate")
  done
fi
if [ ${#pythons[@]} -eq 0 ]; then
  echo "no Python 3 interpreter found" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for python in "${pythons[@]}"; do
  label=$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
  echo "== $python (Python $label)"
  venv="$work/venv-$label-$RANDOM"
  timeout 120 "$python" -m venv "$venv"
  timeout 300 "$venv/bin/python" -m pip install -q --disable-pip-version-check pytest prometheus-client
  timeout 120 "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-index "$wheel"

  run="$work/run-$label"
  mkdir -p "$run"
  (
    cd "$run"
    timeout 60 env -u PULSAR_LIB -u PULSAR_HEADER -u CARGO_TARGET_DIR PULSAR_NO_REPO_LIB=1 \
      "$venv/bin/python" - "$venv" <<'PY'
import os, sys
from pathlib import Path

venv = Path(sys.argv[1]).resolve()
import publisher_pulsar as pp

package = Path(pp.__file__).resolve().parent
assert venv in package.parents, f"module outside the venv: {package}"
assert pp.library_path.resolve() == package / "libpulsar.so", pp.library_path
with open("/proc/self/maps") as maps:
    loaded = {line.split()[-1] for line in maps if "libpulsar" in line}
assert loaded == {str(package / "libpulsar.so")}, f"libpulsar loaded from {loaded}"
assert not list(package.rglob("*.h")), "a header in the installed package"
assert not hasattr(pp, "header_path")
print(f"import ok: {package} (libpulsar {pp.version()}, {len(pp.STATUS)} statuses, "
      f"{len(pp.DaemonStats.__dataclass_fields__)} stats fields)")
PY
    timeout 900 env -u PULSAR_LIB -u PULSAR_HEADER -u CARGO_TARGET_DIR PULSAR_NO_REPO_LIB=1 PULSAR_TEST_INSTALLED=1 \
      PULSARD="$root/target/debug/pulsard" \
      "$venv/bin/python" -m pytest -q -p no:cacheprovider "$root/tests/python" "$@"
  )
done
echo "wheel suite passed on: ${pythons[*]}"
