//! The C library's POSIX regular expressions (regcomp(3)), which is what
//! libsmartcols's `=~` and `!~` use: the pattern compiled with
//! `REG_EXTENDED | REG_NOSUB`, searched for anywhere in the text by
//! regexec. Nothing else in rlsns matches patterns, so this is all of it.

use std::ffi::{c_int, CStr, CString};
use std::mem::MaybeUninit;

use anyhow::{anyhow, bail};

/// A compiled extended regular expression.
pub struct Regex {
    /// Boxed because POSIX does not promise that a compiled `regex_t` may
    /// be moved.
    re: Box<libc::regex_t>,
    pattern: String,
}

impl Regex {
    /// Compiles `pattern`; the error is regerror's text, e.g. "Unmatched (
    /// or \(".
    pub fn new(pattern: &str) -> anyhow::Result<Regex> {
        let c = CString::new(pattern).map_err(|_| anyhow!("a NUL byte in the pattern"))?;
        let mut re = Box::new(MaybeUninit::<libc::regex_t>::uninit());
        // SAFETY: `re` points to room for a regex_t, which regcomp fills in;
        // `c` is NUL-terminated and outlives the call.
        let code = unsafe {
            libc::regcomp(
                re.as_mut_ptr(),
                c.as_ptr(),
                libc::REG_EXTENDED | libc::REG_NOSUB,
            )
        };
        if code != 0 {
            // A failed regcomp frees what it allocated: no regfree.
            bail!(message(code, re.as_ptr()));
        }
        Ok(Regex {
            // SAFETY: regcomp returned 0, so it initialised the regex_t.
            re: unsafe { re.assume_init() },
            pattern: pattern.to_string(),
        })
    }

    /// Whether the pattern occurs anywhere in `text`. Text with a NUL byte
    /// cannot be given to regexec (libsmartcols's cells are C strings, so
    /// never hold one): that is an error.
    pub fn is_match(&self, text: &str) -> anyhow::Result<bool> {
        let c = CString::new(text).map_err(|_| {
            anyhow!(
                "cannot match '{}' against text with a NUL byte",
                self.pattern
            )
        })?;
        // SAFETY: `self.re` was compiled by regcomp and not freed; `c` is
        // NUL-terminated; with REG_NOSUB and nmatch 0 regexec writes no
        // match, so pmatch may be null.
        let code = unsafe { libc::regexec(&*self.re, c.as_ptr(), 0, std::ptr::null_mut(), 0) };
        match code {
            0 => Ok(true),
            libc::REG_NOMATCH => Ok(false),
            _ => bail!(
                "cannot match '{}': {}",
                self.pattern,
                message(code, &*self.re)
            ),
        }
    }
}

impl Drop for Regex {
    fn drop(&mut self) {
        // SAFETY: `self.re` was compiled by regcomp and is freed only here.
        unsafe { libc::regfree(&mut *self.re) };
    }
}

impl std::fmt::Debug for Regex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Regex").field(&self.pattern).finish()
    }
}

/// regerror's text for `code`, which regcomp or regexec returned for `re`.
fn message(code: c_int, re: *const libc::regex_t) -> String {
    // SAFETY: with a null buffer of size 0 regerror writes nothing and
    // returns the size the message needs, its NUL included.
    let len = unsafe { libc::regerror(code, re, std::ptr::null_mut(), 0) };
    let mut buf = vec![0u8; len];
    // SAFETY: `buf` has room for `len` bytes, which regerror fills with the
    // NUL-terminated message.
    unsafe { libc::regerror(code, re, buf.as_mut_ptr().cast(), buf.len()) };
    CStr::from_bytes_until_nul(&buf)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        Regex::new(pattern).unwrap().is_match(text).unwrap()
    }

    /// ERE features the filter language is documented with.
    #[test]
    fn posix_extended_syntax() {
        assert!(matches("^[[:digit:]]+$", "4026531840"));
        assert!(!matches("^[[:digit:]]+$", "net"));
        assert!(matches("[[:alpha:]][[:space:]]", "sleep 10"));
        assert!(matches("^a{2}$", "aa"));
        assert!(!matches("^a{2}$", "aaa"));
        assert!(matches("^(net|mnt)$", "mnt"));
        assert!(!matches("^(net|mnt)$", "uts"));
        // A search, not a whole-text match.
        assert!(matches("net|mnt", "xnetx"));
        // A `]` first in brackets is a member, not the end.
        assert!(matches("^[]a]+$", "]a]"));
    }

    /// Where POSIX (glibc) and the regex crate rlsns used before part.
    #[test]
    fn not_the_regex_crate() {
        // The crate read \d as a digit; to glibc it is an ordinary d, and
        // inside brackets a backslash is itself.
        assert!(matches(r"\d", "d"));
        assert!(!matches(r"\d", "4"));
        assert!(matches(r"^[\d]+$", "d\\"));
        // The crate refused back-references; glibc's EREs have them.
        assert!(matches(r"(e)\1", "sleep"));
        assert!(!matches(r"(e)\1", "net"));
        // The crate's inline flags are no ERE.
        assert!(Regex::new("(?i)net").is_err());
    }

    #[test]
    fn mistakes_are_regerror_text() {
        let err = |p: &str| Regex::new(p).unwrap_err().to_string();
        // The regex crate's wording would be "regex parse error: ...".
        assert_eq!(err("("), "Unmatched ( or \\(");
        assert_eq!(err("[a"), "Unmatched [, [^, [:, [., or [=");
        assert_eq!(err("a{2,1}"), "Invalid content of \\{\\}");
        assert_eq!(err("[[:bogus:]]"), "Invalid character class name");
        assert_eq!(err("a\0b"), "a NUL byte in the pattern");
    }

    #[test]
    fn a_nul_in_the_text_is_an_error() {
        let re = Regex::new("a").unwrap();
        assert_eq!(
            re.is_match("a\0b").unwrap_err().to_string(),
            "cannot match 'a' against text with a NUL byte"
        );
        assert!(re.is_match("ba").unwrap());
        assert!(!re.is_match("").unwrap());
    }
}
