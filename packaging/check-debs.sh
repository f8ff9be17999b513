#!/usr/bin/env bash
# Checks the Debian packages of packaging/deb.sh: control fields, file lists, conffiles, maintainer scripts; runs
# the packaged pulsard (--help, then the packaged /etc/pulsard/pulsard.json until it binds, SIGTERM, exit 0, and
# the file's settings equal the built-in defaults); the SONAME of the packaged libpulsar.so.0 and a C program
# built against the packaged header, pkg-config file and library; the systemd unit (systemd-analyze verify,
# where it exists); the PHP ini, and that PHP 8.2 loads the packaged pulsar.so.
#
#   bash packaging/check-debs.sh              # builds the packages from the debug build (PROFILE=dev) into a
#                                             # temp dir, then checks them (CI: tests/run-all.sh)
#   bash packaging/check-debs.sh target/debian    # checks the packages already in that directory (from
#                                                 # bash packaging/deb.sh)
#
# Installs nothing; needs dpkg-deb, binutils (readelf), cc, python3, and what packaging/deb.sh needs.
set -euo pipefail
debs=""
if [ $# -ge 1 ]; then
  debs=$(cd "$1" 2>/dev/null && pwd) || {
    echo "check-debs: FAIL: no directory $1 (build the packages first: bash packaging/deb.sh)" >&2
    exit 1
  }
fi
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
  echo "check-debs: FAIL: $*" >&2
  exit 1
}
ok() { echo "check-debs: ok: $*"; }

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
php_ext_dir=$(php-config8.2 --extension-dir)
php_api=$(php-config8.2 --phpapi)

if [ -z "$debs" ]; then
  debs="$tmp/debs"
  PROFILE=dev DEB_OUT="$debs" bash packaging/deb.sh
fi

deb_of() {
  local f="$debs/$1_${version}_${arch}.deb"
  [ -f "$f" ] || fail "missing package $f"
  echo "$f"
}

# check_package NAME DEPENDS_PATTERN PATH...: control fields, Depends matches the extended regex, every PATH
# (absolute, as installed) is in the package, every file is owned by root.
check_package() {
  local name=$1 depends=$2 deb info contents field
  shift 2
  deb=$(deb_of "$name")
  info=$(dpkg-deb --info "$deb") || fail "dpkg-deb --info $deb failed"
  for field in "Package: $name" "Version: $version" "Architecture: $arch"; do
    grep -qxF " $field" <<<"$info" || fail "$name: control lacks '$field'"
  done
  grep -qE "^ Depends: .*$depends" <<<"$info" \
    || fail "$name: Depends does not match '$depends': $(grep '^ Depends:' <<<"$info")"
  grep -q '^ Description: ' <<<"$info" || fail "$name: no Description"
  contents=$(dpkg-deb --contents "$deb") || fail "dpkg-deb --contents $deb failed"
  for path in "$@"; do
    awk '{print $6}' <<<"$contents" | grep -qxF ".$path" || fail "$name: $path is not in the package"
  done
  if awk '$2 != "root/root"' <<<"$contents" | grep -q .; then
    fail "$name: files not owned by root/root: $(awk '$2 != "root/root"' <<<"$contents")"
  fi
  ok "$name: control fields, $# expected paths"
}

# conffiles NAME PATH...: DEBIAN/conffiles lists exactly PATHs.
conffiles() {
  local name=$1 got want
  shift
  got=$(dpkg-deb --info "$(deb_of "$name")" conffiles 2>/dev/null | sort) || fail "$name: no conffiles"
  want=$(printf '%s\n' "$@" | sort)
  [ "$got" = "$want" ] || fail "$name: conffiles are '$got', expected '$want'"
  ok "$name: conffiles $*"
}

# scripts NAME SCRIPT...: maintainer scripts present, executable, valid sh.
scripts() {
  local name=$1 dir="$tmp/ctrl-$1" s
  shift
  dpkg-deb --control "$(deb_of "$name")" "$dir"
  for s in "$@"; do
    [ -x "$dir/$s" ] || fail "$name: maintainer script $s missing or not executable"
    sh -n "$dir/$s" || fail "$name: $s is not valid sh"
  done
  ok "$name: maintainer scripts $*"
}

lib="/usr/lib/$multiarch"

echo "== package contents"
check_package pulsard 'libzmq5' \
  /usr/bin/pulsard /lib/systemd/system/pulsard.service /etc/pulsard/pulsard.json /etc/default/pulsard
conffiles pulsard /etc/pulsard/pulsard.json /etc/default/pulsard
scripts pulsard postinst prerm postrm
check_package libpulsar0 'libzmq5' "$lib/libpulsar.so.0"
check_package libpulsar-dev "libpulsar0 \\(= $version\\)" \
  "$lib/libpulsar.so" /usr/include/pulsar.h "$lib/pkgconfig/pulsar.pc"
dpkg-deb --contents "$(deb_of libpulsar-dev)" | grep -qF ".$lib/libpulsar.so -> libpulsar.so.0" \
  || fail "libpulsar-dev: $lib/libpulsar.so is not a symlink to libpulsar.so.0"
check_package php8.2-pulsar "php8.2-common, phpapi-$php_api, .*libzmq5" \
  "$php_ext_dir/pulsar.so" /etc/php/8.2/mods-available/pulsar.ini
conffiles php8.2-pulsar /etc/php/8.2/mods-available/pulsar.ini
scripts php8.2-pulsar postinst prerm postrm
grep -q 'phpenmod -m -v 8.2 pulsar' "$tmp/ctrl-php8.2-pulsar/postinst" || fail "php8.2-pulsar: postinst does not run phpenmod"
grep -q 'phpdismod .*-v 8.2 pulsar' "$tmp/ctrl-php8.2-pulsar/prerm" || fail "php8.2-pulsar: prerm does not run phpdismod"

root="$tmp/root"
for name in pulsard libpulsar0 libpulsar-dev php8.2-pulsar; do
  dpkg-deb -x "$(deb_of "$name")" "$root"
done

echo "== pulsard"
pulsard="$root/usr/bin/pulsard"
"$pulsard" --help >"$tmp/help" || fail "pulsard --help failed"
grep -q -- '--config' "$tmp/help" || fail "pulsard --help does not mention --config"
ok "pulsard --help"

# run_pulsard LOG ARGS...: starts the packaged pulsard on system-chosen loopback ports (the flags override the
# configuration's addresses), waits until it logs that it listens, SIGTERMs it and expects exit status 0.
run_pulsard() {
  local log=$1 status=0 i
  shift
  "$pulsard" "$@" --log-format json \
    --reply-stack-address 'tcp://127.0.0.1:*' --publish-address 'tcp://127.0.0.1:*' \
    --pull-address 'tcp://127.0.0.1:*' 2>"$log" &
  pid=$!
  for i in $(seq 100); do
    grep -q 'pulsard listening' "$log" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  grep -q 'pulsard listening' "$log" || fail "pulsard $* did not bind within 10 s: $(cat "$log")"
  kill -TERM "$pid"
  wait "$pid" || status=$?
  pid=""
  [ "$status" -eq 0 ] || fail "pulsard $* exited $status after SIGTERM: $(cat "$log")"
}
run_pulsard "$tmp/with-config.log" --config "$root/etc/pulsard/pulsard.json"
ok "pulsard --config <packaged pulsard.json>: bound, exit 0 after SIGTERM"
run_pulsard "$tmp/defaults.log"
# The listening line logs every setting: with the packaged file they must be the built-in defaults.
python3 - "$tmp/with-config.log" "$tmp/defaults.log" <<'PY' || fail "the packaged pulsard.json differs from the defaults"
import json, sys

def settings(path):
    for line in open(path):
        record = json.loads(line)
        if record.get("fields", {}).get("message") == "pulsard listening":
            fields = dict(record["fields"])
            for endpoint in ("reply_stack", "publish", "pull"):  # system-chosen ports
                fields.pop(endpoint, None)
            return fields
    sys.exit(f"no listening line in {path}")

packaged, defaults = settings(sys.argv[1]), settings(sys.argv[2])
if packaged != defaults:
    sys.exit(f"packaged: {packaged}\ndefaults: {defaults}")
PY
ok "pulsard.json holds the built-in defaults"

echo "== systemd unit"
unit="$root/lib/systemd/system/pulsard.service"
for line in 'Type=exec' 'DynamicUser=yes' 'EnvironmentFile=-/etc/default/pulsard' 'Restart=on-failure' \
  'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' \
  'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX'; do
  grep -qxF "$line" "$unit" || fail "pulsard.service lacks '$line'"
done
grep -q '^ExecStart=/usr/bin/pulsard --config /etc/pulsard/pulsard.json' "$unit" \
  || fail "pulsard.service does not start /usr/bin/pulsard --config /etc/pulsard/pulsard.json"
if command -v systemd-analyze >/dev/null 2>&1; then
  # /usr/bin/pulsard is not installed here: verify a copy of the unit that starts the unpacked binary.
  sed "s|^ExecStart=/usr/bin/pulsard|ExecStart=$pulsard|" "$unit" >"$tmp/pulsard.service"
  systemd-analyze verify "$tmp/pulsard.service" || fail "systemd-analyze verify pulsard.service"
  ok "systemd-analyze verify pulsard.service"
else
  echo "check-debs: skipped: no systemd-analyze"
fi

echo "== libpulsar"
readelf -d "$root$lib/libpulsar.so.0" | grep -qF 'Library soname: [libpulsar.so.0]' \
  || fail "libpulsar.so.0 has no SONAME libpulsar.so.0: $(readelf -d "$root$lib/libpulsar.so.0" | grep -i soname)"
ok "SONAME libpulsar.so.0"
pc="$root$lib/pkgconfig/pulsar.pc"
for line in 'prefix=/usr' "libdir=$lib" 'includedir=/usr/include' "Version: $version"; do
  grep -qxF "$line" "$pc" || fail "pulsar.pc lacks '$line'"
done
# A C program built with the packaged pulsar.pc (re-rooted at the unpacked tree), header and library.
cat >"$tmp/version.c" <<'C'
#include <stdio.h>
#include <pulsar.h>
int main(void) { puts(pulsar_version()); return 0; }
C
# shellcheck disable=SC2046  # pkg-config output is meant to be split into words
cc -o "$tmp/version" "$tmp/version.c" $(PKG_CONFIG_PATH="$root$lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root" \
  pkg-config --cflags --libs pulsar) || fail "cannot build a C program against the packaged libpulsar"
readelf -d "$tmp/version" | grep -qF 'Shared library: [libpulsar.so.0]' \
  || fail "a program linked with -lpulsar does not need libpulsar.so.0"
LD_LIBRARY_PATH="$root$lib" "$tmp/version" >"$tmp/version.out" || fail "the C program failed"
ok "pulsar.pc; a C program linked with it needs libpulsar.so.0 and runs: pulsar_version() = $(cat "$tmp/version.out")"

echo "== php8.2-pulsar"
ini="$root/etc/php/8.2/mods-available/pulsar.ini"
grep -qxF 'extension=pulsar.so' "$ini" || fail "pulsar.ini lacks 'extension=pulsar.so'"
grep -qE '^; priority=[0-9]+$' "$ini" || fail "pulsar.ini lacks a '; priority=NN' line"
ok "pulsar.ini"
if command -v php8.2 >/dev/null 2>&1; then
  php8.2 -n -d "extension=$root$php_ext_dir/pulsar.so" --ri pulsar >"$tmp/ri" 2>&1 \
    || fail "PHP 8.2 cannot load the packaged pulsar.so: $(cat "$tmp/ri")"
  ok "php8.2 loads the packaged pulsar.so"
else
  echo "check-debs: skipped: no php8.2 to load pulsar.so"
fi

echo "check-debs: all packages OK ($debs)"
