//! Gives the shared library a versioned soname, `libpulsar.so.0`, as a Debian/FHS shared library needs: programs
//! linked with `-lpulsar` then record `libpulsar.so.0` (shipped by the `libpulsar0` package) and the unversioned
//! `libpulsar.so` is only the development symlink (`libpulsar-dev`, `make -C c-api install`). Loading the file by
//! path (`dlopen`, ctypes, PHP's FFI) is unaffected. Bump the 0 on an incompatible change of the C ABI.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libpulsar.so.0");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
