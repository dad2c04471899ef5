//! The library's version, for C: `XSC_VERSION_*` in the header (what a
//! program was compiled against) and [`xsc_version`] /
//! [`xsc_version_string`] (what it runs with), as zstd's
//! `ZSTD_VERSION_NUMBER` / `ZSTD_versionNumber()` do.

use std::ffi::{c_char, c_uint, CStr};

/// A decimal component of `CARGO_PKG_VERSION`, at compile time.
const fn decimal(s: &str) -> c_uint {
    let b = s.as_bytes();
    let mut v: c_uint = 0;
    let mut i = 0;
    while i < b.len() {
        assert!(b[i].is_ascii_digit(), "a version component is decimal");
        v = v * 10 + (b[i] - b'0') as c_uint;
        i += 1;
    }
    v
}

/// `XSC_VERSION_MAJOR`.
pub const XSC_VERSION_MAJOR: c_uint = decimal(env!("CARGO_PKG_VERSION_MAJOR"));
/// `XSC_VERSION_MINOR`.
pub const XSC_VERSION_MINOR: c_uint = decimal(env!("CARGO_PKG_VERSION_MINOR"));
/// `XSC_VERSION_PATCH`.
pub const XSC_VERSION_PATCH: c_uint = decimal(env!("CARGO_PKG_VERSION_PATCH"));
/// `XSC_VERSION_NUMBER`: `MAJOR * 10000 + MINOR * 100 + PATCH`.
pub const XSC_VERSION_NUMBER: c_uint =
    XSC_VERSION_MAJOR * 100 * 100 + XSC_VERSION_MINOR * 100 + XSC_VERSION_PATCH;

/// `"MAJOR.MINOR.PATCH"`, NUL-terminated, static.
const VERSION_STRING: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(s) => s,
        Err(_) => panic!("CARGO_PKG_VERSION holds no NUL"),
    };

/// The version number of the running library (`XSC_VERSION_NUMBER` of the
/// header it was built with). See `xsc_offload.h`.
#[no_mangle]
pub extern "C" fn xsc_version() -> c_uint {
    XSC_VERSION_NUMBER
}

/// The version of the running library as `"MAJOR.MINOR.PATCH"`: a static
/// string, never NULL. See `xsc_offload.h`.
#[no_mangle]
pub extern "C" fn xsc_version_string() -> *const c_char {
    VERSION_STRING.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_number_and_string_are_the_package_version() {
        let parts: Vec<c_uint> = env!("CARGO_PKG_VERSION")
            .split(['.', '-', '+'])
            .take(3)
            .map(|p| p.parse().expect("decimal"))
            .collect();
        assert_eq!(
            parts,
            [XSC_VERSION_MAJOR, XSC_VERSION_MINOR, XSC_VERSION_PATCH]
        );
        assert_eq!(xsc_version(), parts[0] * 10000 + parts[1] * 100 + parts[2]);
        // Safety: a static NUL-terminated string.
        let s = unsafe { CStr::from_ptr(xsc_version_string()) };
        assert_eq!(s.to_str(), Ok(env!("CARGO_PKG_VERSION")));
    }
}
