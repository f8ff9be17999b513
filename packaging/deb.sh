#!/usr/bin/env bash
# Builds the Debian packages of Publisher Pulsar with Debian's own tools (dpkg-deb, dpkg-shlibdeps), from
# hand-written DEBIAN/control files assembled in a staging directory. Usage, from anywhere in a clone:
#
#   bash packaging/deb.sh          # -> target/debian/*.deb (CARGO_TARGET_DIR is honoured)
#
# PROFILE=dev packages the debug build instead (what packaging/check-debs.sh does in CI, to reuse the test
# build); DEB_OUT=DIR writes the packages there instead of target/debian.
#
# Packages (version: [workspace.package] in Cargo.toml; architecture: dpkg --print-architecture):
#   pulsard        /usr/bin/pulsard, /lib/systemd/system/pulsard.service, /etc/pulsard/pulsard.json (conffile,
#                  the defaults), /etc/default/pulsard (conffile, PULSARD_OPTS and RUST_LOG)
#   libpulsar0     /usr/lib/<multiarch>/libpulsar.so.0 (soname libpulsar.so.0, set by c-api/build.rs)
#   libpulsar-dev  the libpulsar.so symlink, /usr/include/pulsar.h, /usr/lib/<multiarch>/pkgconfig/pulsar.pc
#   php8.2-pulsar  pulsar.so in `php-config8.2 --extension-dir`, /etc/php/8.2/mods-available/pulsar.ini
#                  (conffile), enabled with phpenmod on install, disabled with phpdismod on removal
#
# Release builds (cargo build --release); binaries and libraries are stripped (strip --strip-unneeded: the
# release profile keeps line tables, which would make the packages several times larger). The static library
# libpulsar.a is not packaged. Runtime dependencies come from dpkg-shlibdeps on the packaged ELF files.
# Needs: dpkg-dev (dpkg-shlibdeps, dpkg-architecture), binutils (strip), make, php8.2-dev, and what the
# builds need (libzmq3-dev, pkg-config, libclang-dev, a Rust toolchain). Checked by packaging/check-debs.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
  echo "packaging/deb.sh: $*" >&2
  exit 1
}
need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 not found: apt-get install $2"
}
need dpkg-deb dpkg
need dpkg-shlibdeps dpkg-dev
need dpkg-architecture dpkg-dev
need strip binutils
need make make
need cargo "a Rust toolchain (https://rustup.rs)"
php_version=8.2
php_config=${PHP_CONFIG:-php-config$php_version}
need "$php_config" "php$php_version-dev"
[ "$("$php_config" --version | cut -d. -f1,2)" = "$php_version" ] \
  || die "$php_config is not PHP $php_version: set PHP_CONFIG to PHP $php_version's php-config"

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
[ -n "$version" ] || die "no version = \"...\" in Cargo.toml's [workspace.package]"
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
maintainer=${DEB_MAINTAINER:-Publisher Pulsar maintainers <pulsar@example.invalid>}
target_dir=${CARGO_TARGET_DIR:-target}
profile=${PROFILE:-release}
case "$profile" in
  release) built="$target_dir/release" ;;
  dev) built="$target_dir/debug" ;;
  *) die "PROFILE must be release or dev, not $profile" ;;
esac
out=${DEB_OUT:-$target_dir/debian}
php_ext_dir=$("$php_config" --extension-dir)
php_api=$("$php_config" --phpapi)
umask 022

echo "== building ($profile profile, version $version, $arch)"
cargo build --profile "$profile" -p publisher-pulsar --bin pulsard
cargo build --profile "$profile" -p pulsar-capi
# ext-php-rs compiles against the PHP that PHP/PHP_CONFIG name (else php-config on PATH): it must be PHP 8.2.
# They are only set when needed, so that the build matches tests/phpunit/run.sh's and is not redone.
if [ -n "${PHP_CONFIG:-}" ] || [ "$(php-config --version 2>/dev/null | cut -d. -f1,2)" != "$php_version" ]; then
  export PHP_CONFIG="$php_config" PHP="${PHP:-php$php_version}"
fi
cargo build --profile "$profile" -p pulsar-php
for f in "$built/pulsard" "$built/libpulsar.so" "$built/libpulsar_php.so"; do
  [ -f "$f" ] || die "$f was not built"
done

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$out"
rm -f "$out"/{pulsard,libpulsar0,libpulsar-dev,php"$php_version"-pulsar}_*.deb

# shlibs_depends PKGDIR FILE...: prints the shlibs:Depends value dpkg-shlibdeps computes for FILEs (paths inside
# PKGDIR). dpkg-shlibdeps wants a debian/control, so it runs in a scratch directory that has an empty one.
shlibs_depends() {
  local pkgdir=$1
  shift
  local scratch="$stage/shlibdeps" args=() line
  mkdir -p "$scratch/debian"
  : >"$scratch/debian/control"
  for f in "$@"; do args+=("$(cd "$pkgdir" && pwd)/$f"); done
  line=$(cd "$scratch" && dpkg-shlibdeps -O "${args[@]}") || die "dpkg-shlibdeps failed for $*"
  line=${line#shlibs:Depends=}
  [ -n "$line" ] || die "dpkg-shlibdeps found no dependencies for $*"
  echo "$line"
}

# control PKGDIR FIELDS...: writes PKGDIR/DEBIAN/control with the common fields, Installed-Size, then FIELDS
# (one "Name: value" line each, Description last).
control() {
  local pkgdir=$1
  shift
  local size
  size=$(du -sk --exclude=DEBIAN "$pkgdir" | cut -f1)
  {
    echo "Package: $(basename "$pkgdir")"
    echo "Version: $version"
    echo "Architecture: $arch"
    echo "Maintainer: $maintainer"
    echo "Installed-Size: $size"
    printf '%s\n' "$@"
  } >"$pkgdir/DEBIAN/control"
}

build_deb() {
  local pkgdir=$1
  dpkg-deb --root-owner-group -Zxz --build "$pkgdir" "$out/$(basename "$pkgdir")_${version}_${arch}.deb"
}

echo "== libpulsar0, libpulsar-dev"
make -s -C c-api install PROFILE="$profile" PREFIX=/usr LIBDIR="/usr/lib/$multiarch" DESTDIR="$stage/c-api"
lib0="$stage/libpulsar0"
dev="$stage/libpulsar-dev"
libdir="usr/lib/$multiarch"
install -d "$lib0/DEBIAN" "$lib0/$libdir" "$dev/DEBIAN" "$dev/$libdir/pkgconfig" "$dev/usr/include"
install -m 0644 "$stage/c-api/$libdir/libpulsar.so.0" "$lib0/$libdir/libpulsar.so.0"
strip --strip-unneeded "$lib0/$libdir/libpulsar.so.0"
ln -s libpulsar.so.0 "$dev/$libdir/libpulsar.so"
install -m 0644 "$stage/c-api/usr/include/pulsar.h" "$dev/usr/include/pulsar.h"
install -m 0644 "$stage/c-api/$libdir/pkgconfig/pulsar.pc" "$dev/$libdir/pkgconfig/pulsar.pc"
echo "libpulsar 0 libpulsar0 (>= $version)" >"$lib0/DEBIAN/shlibs"
echo "activate-noawait ldconfig" >"$lib0/DEBIAN/triggers"
chmod 0644 "$lib0/DEBIAN/shlibs" "$lib0/DEBIAN/triggers"
deps=$(shlibs_depends "$lib0" "$libdir/libpulsar.so.0")
control "$lib0" \
  "Section: libs" \
  "Priority: optional" \
  "Multi-Arch: same" \
  "Depends: $deps" \
  "Description: Publisher Pulsar C library (libpulsar)" \
  " Workers in any language with a C FFI ask a pulsard daemon for permission to call a" \
  " rate-limited API, act when released, and report their result. Also runs the daemon" \
  " in the calling process."
control "$dev" \
  "Section: libdevel" \
  "Priority: optional" \
  "Depends: libpulsar0 (= $version)" \
  "Description: Publisher Pulsar C library (development files)" \
  " The header pulsar.h, the libpulsar.so link and the pkg-config file (pkg-config pulsar)" \
  " for building programs against libpulsar."
build_deb "$lib0"
build_deb "$dev"

echo "== pulsard"
d="$stage/pulsard"
install -d "$d/DEBIAN"
install -D -m 0755 "$built/pulsard" "$d/usr/bin/pulsard"
strip --strip-unneeded "$d/usr/bin/pulsard"
install -D -m 0644 packaging/pulsard/pulsard.service "$d/lib/systemd/system/pulsard.service"
install -D -m 0644 packaging/pulsard/pulsard.json "$d/etc/pulsard/pulsard.json"
install -D -m 0644 packaging/pulsard/pulsard.default "$d/etc/default/pulsard"
install -m 0755 packaging/pulsard/postinst packaging/pulsard/prerm packaging/pulsard/postrm "$d/DEBIAN/"
printf '%s\n' /etc/pulsard/pulsard.json /etc/default/pulsard >"$d/DEBIAN/conffiles"
deps=$(shlibs_depends "$d" usr/bin/pulsard)
control "$d" \
  "Section: net" \
  "Priority: optional" \
  "Depends: $deps" \
  "Description: Publisher Pulsar daemon: workers share one rate limit" \
  " pulsard releases at most N waiting workers per period (pulses) over ZeroMQ and" \
  " adapts to the rate-limit errors they report. Workers of the original PHP library" \
  " jamset/publisher-pulsar work with it unchanged. Service: pulsard.service," \
  " settings in /etc/pulsard/pulsard.json."
build_deb "$d"

echo "== php$php_version-pulsar"
p="$stage/php$php_version-pulsar"
install -d "$p/DEBIAN"
install -D -m 0644 "$built/libpulsar_php.so" "$p$php_ext_dir/pulsar.so"
strip --strip-unneeded "$p$php_ext_dir/pulsar.so"
install -D -m 0644 packaging/php/pulsar.ini "$p/etc/php/$php_version/mods-available/pulsar.ini"
install -m 0755 packaging/php/postinst packaging/php/prerm packaging/php/postrm "$p/DEBIAN/"
echo "/etc/php/$php_version/mods-available/pulsar.ini" >"$p/DEBIAN/conffiles"
deps=$(shlibs_depends "$p" "${php_ext_dir#/}/pulsar.so")
control "$p" \
  "Section: php" \
  "Priority: optional" \
  "Depends: php$php_version-common, phpapi-$php_api, $deps" \
  "Description: Publisher Pulsar extension for PHP $php_version (pulsar.so)" \
  " The original library's classes (React\\PublisherPulsar\\Pulsar, Performer, ReplyStack" \
  " and the Inventory DTOs) over the Rust core, without ext-zmq or ReactPHP: existing" \
  " workers and daemons run unchanged."
build_deb "$p"

echo "== built:"
ls -l "$out"/*.deb
