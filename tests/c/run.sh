#!/usr/bin/env bash
# The C suite: installs libpulsar (make -C c-api install) into a temporary prefix, compiles tests/c/coordinate.c
# against the INSTALLED header and library through pkg-config, and runs it: error paths, then several worker
# processes coordinating through a daemon that the program runs on a thread of its own. Also links the static
# library, and runs the short error-path mode under valgrind when valgrind is installed.
#
# Reuses the debug build of `cargo build --workspace` (PROFILE=dev); installs nothing outside a temp dir.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

prefix="$tmp/prefix"
make -s -C c-api install PREFIX="$prefix" PROFILE="${PROFILE:-dev}"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cflags=(-std=c11 -Wall -Wextra -Werror -O1 -g)

echo "pkg-config: $(pkg-config --cflags --libs pulsar)"
# shellcheck disable=SC2046  # pkg-config output is meant to be split into words
cc "${cflags[@]}" -o "$tmp/coordinate" tests/c/coordinate.c $(pkg-config --cflags --libs pulsar) -lpthread
LD_LIBRARY_PATH="$prefix/lib" timeout 180 "$tmp/coordinate"

# The static library: the same program, linked with libpulsar.a and the system libraries pulsar.pc lists.
# shellcheck disable=SC2046
cc "${cflags[@]}" -o "$tmp/coordinate-static" tests/c/coordinate.c $(pkg-config --cflags pulsar) \
  "$prefix/lib/libpulsar.a" $(pkg-config --static --libs-only-l pulsar | sed 's/-lpulsar//')
if ldd "$tmp/coordinate-static" | grep -q libpulsar; then
  echo "coordinate-static is linked to libpulsar.so, not libpulsar.a" >&2
  exit 1
fi
timeout 120 "$tmp/coordinate-static" --errors

if command -v valgrind >/dev/null 2>&1; then
  # Definite leaks and memory errors only: libzmq's and the Rust runtime's process-lifetime allocations
  # (thread-locals, the I/O threads' buffers) show as "possibly lost"/"still reachable" by design.
  LD_LIBRARY_PATH="$prefix/lib" timeout 600 valgrind -q --error-exitcode=1 --leak-check=full \
    --errors-for-leak-kinds=definite "$tmp/coordinate" --errors
  echo "valgrind: no memory errors, no definite leaks"
else
  echo "valgrind not installed: skipping the memory check"
fi
echo "tests/c: OK ($root)"
