//! Checked reads of what C passes: byte buffers with their lengths, UFIDs,
//! NUL-terminated strings, out-pointers.
//!
//! Each check the library can make (NULL, a length over `isize::MAX`,
//! alignment) fails with [`XSC_EINVAL`](super::XSC_EINVAL) naming the
//! argument. What it cannot check — that a non-NULL pointer really points
//! to that many readable bytes — is the caller's contract, stated in the
//! header.

use std::ffi::{c_char, CStr};

use xsc_dp::odp::Ufid;

use super::error::Error;

/// `len` bytes at `ptr`. `ptr` may be NULL (or dangling) when `len` is 0.
///
/// # Safety
/// When `len > 0` and `ptr` is non-NULL, `ptr` must point to `len` readable
/// bytes that stay unchanged for `'a`.
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a [u8], Error> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Error::invalid(format!("{what} is NULL with length {len}")));
    }
    if len > isize::MAX as usize {
        return Err(Error::invalid(format!(
            "{what} length {len} is beyond isize::MAX"
        )));
    }
    // Safety: non-NULL, u8 needs no alignment, len bounded; readable per the
    // caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A conntrack line: `len` bytes of UTF-8 at `ptr`, trimmed.
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn text<'a>(
    ptr: *const c_char,
    len: usize,
    what: &str,
) -> Result<&'a str, Error> {
    // Safety: forwarded contract.
    let b = unsafe { bytes(ptr.cast(), len, what) }?;
    let s = std::str::from_utf8(b).map_err(|e| {
        Error::bad_message(format!(
            "{what} is not UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        ))
    })?;
    Ok(s.trim())
}

/// The UFID at `ptr`: OVS's `ovs_u128.u32[4]`, host order.
///
/// # Safety
/// A non-NULL, aligned `ptr` must point to four readable `uint32_t`.
pub(crate) unsafe fn ufid(ptr: *const u32) -> Result<Ufid, Error> {
    if ptr.is_null() {
        return Err(Error::invalid("ufid is NULL"));
    }
    if !ptr.is_aligned() {
        return Err(Error::invalid(
            "ufid is not aligned to 4 bytes (uint32_t[4])",
        ));
    }
    // Safety: non-NULL and aligned; readable per the caller's contract.
    let parts = unsafe { ptr.cast::<[u32; 4]>().read() };
    Ok(Ufid { parts })
}

/// An optional NUL-terminated UTF-8 string; `None` for NULL.
///
/// # Safety
/// A non-NULL `ptr` must point to a NUL-terminated string.
pub(crate) unsafe fn c_str<'a>(ptr: *const c_char, what: &str) -> Result<Option<&'a str>, Error> {
    if ptr.is_null() {
        return Ok(None);
    }
    // Safety: non-NULL; NUL-terminated per the caller's contract.
    let c = unsafe { CStr::from_ptr(ptr) };
    c.to_str()
        .map(Some)
        .map_err(|_| Error::invalid(format!("{what} is not UTF-8")))
}

/// A writable, aligned `T` at `ptr`.
///
/// # Safety
/// A non-NULL, aligned `ptr` must point to a writable `T` (it may be
/// uninitialised: it is written, never read).
pub(crate) unsafe fn out<'a, T>(
    ptr: *mut T,
    what: &str,
) -> Result<&'a mut std::mem::MaybeUninit<T>, Error> {
    if ptr.is_null() {
        return Err(Error::invalid(format!("{what} is NULL")));
    }
    if !ptr.is_aligned() {
        return Err(Error::invalid(format!(
            "{what} is not aligned to {} bytes",
            std::mem::align_of::<T>()
        )));
    }
    // Safety: non-NULL, aligned, writable per the caller's contract;
    // MaybeUninit makes no claim about the contents.
    Ok(unsafe { &mut *ptr.cast::<std::mem::MaybeUninit<T>>() })
}

/// The `reason` buffer of `xsc_flow_get`/`xsc_ct_get`: `None` when absent
/// (NULL with size 0).
///
/// # Safety
/// A non-NULL `ptr` must point to `size` writable bytes.
pub(crate) unsafe fn reason_buf<'a>(
    ptr: *mut c_char,
    size: usize,
) -> Result<Option<&'a mut [u8]>, Error> {
    if size == 0 {
        return Ok(None);
    }
    if ptr.is_null() {
        return Err(Error::invalid(format!("reason is NULL with size {size}")));
    }
    if size > isize::MAX as usize {
        return Err(Error::invalid(format!(
            "reason size {size} is beyond isize::MAX"
        )));
    }
    // Safety: non-NULL, size bounded, writable per the caller's contract.
    Ok(Some(unsafe {
        std::slice::from_raw_parts_mut(ptr.cast::<u8>(), size)
    }))
}

/// Writes `reason` NUL-terminated into `buf`, cut to fit (and to
/// `XSC_REASON_MAX`), ending in `...` when cut; NUL bytes become `?`.
pub(crate) fn write_reason(buf: &mut [u8], reason: &str) {
    let room = buf.len().min(super::XSC_REASON_MAX) - 1;
    let mut n = reason.len();
    let mut cut = false;
    if n > room {
        cut = true;
        n = room.saturating_sub(3);
        while !reason.is_char_boundary(n) {
            n -= 1;
        }
    }
    buf[..n].copy_from_slice(&reason.as_bytes()[..n]);
    let mut end = n;
    if cut {
        let dots = &b"..."[..(room - n).min(3)];
        buf[n..n + dots.len()].copy_from_slice(dots);
        end += dots.len();
    }
    for b in &mut buf[..end] {
        if *b == 0 {
            *b = b'?';
        }
    }
    buf[end] = 0;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(size: usize, text: &str) -> String {
        let mut buf = vec![0xffu8; size];
        write_reason(&mut buf, text);
        let end = buf.iter().position(|&b| b == 0).expect("NUL-terminated");
        String::from_utf8(buf[..end].to_vec()).expect("UTF-8")
    }

    #[test]
    fn reasons_are_cut_to_fit_at_char_boundaries() {
        assert_eq!(
            reason(64, "ct_state +new: only software"),
            "ct_state +new: only software"
        );
        assert_eq!(reason(8, "abcdefghij"), "abcd...");
        assert_eq!(reason(3, "abcdefghij"), "..");
        assert_eq!(reason(1, "abc"), "");
        assert_eq!(reason(8, "ééééé"), "éé...");
        assert_eq!(reason(8, "a\0b"), "a?b");
        let long = "x".repeat(2000);
        assert_eq!(reason(4096, &long).len(), super::super::XSC_REASON_MAX - 1);
    }

    #[test]
    fn null_with_a_length_is_einval_and_empty_is_fine() {
        // Safety: NULL pointers are checked before any read.
        unsafe {
            assert_eq!(bytes(std::ptr::null(), 0, "key"), Ok(&[][..]));
            let e = bytes(std::ptr::null(), 3, "key").unwrap_err();
            assert_eq!(e.message, "key is NULL with length 3");
            assert!(ufid(std::ptr::null()).is_err());
            let words = [0u32; 5];
            let misaligned = words.as_ptr().cast::<u8>().add(1).cast::<u32>();
            assert!(ufid(misaligned).unwrap_err().message.contains("aligned"));
        }
    }
}
