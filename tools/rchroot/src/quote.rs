//! Names in messages, quoted as coreutils quotes them (gnulib quotearg):
//! [`quote`] follows the locale, ‘NAME’ under a UTF-8 locale and 'NAME'
//! otherwise, with C escapes for what cannot be shown; [`quote_file`]
//! (coreutils' quoteaf) is always in shell quotes, so that the name can be
//! pasted back into a shell.

use std::ffi::{CStr, OsStr};
use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt;

/// `name` as coreutils' quote() shows it in the current locale.
pub fn quote(name: impl AsRef<OsStr>) -> String {
    quote_in(name.as_ref().as_bytes(), utf8_locale())
}

/// `name` as coreutils' quoteaf() shows it: in single quotes whatever the
/// locale, a `'` as `'\''`, control characters as `$'\n'`.
pub fn quote_file(name: impl AsRef<OsStr>) -> String {
    quote_file_in(name.as_ref().as_bytes(), utf8_locale())
}

/// Whether the locale the environment asks for (LC_ALL, LC_CTYPE, LANG)
/// exists and uses UTF-8, as setlocale(LC_ALL, "") would find it; our own
/// locale stays "C", so that no other text changes language.
fn utf8_locale() -> bool {
    // SAFETY: newlocale reads the environment and returns a new locale
    // object or null; the name is a valid C string.
    let locale =
        unsafe { libc::newlocale(libc::LC_CTYPE_MASK, c"".as_ptr(), std::ptr::null_mut()) };
    if locale.is_null() {
        return false;
    }
    // SAFETY: the locale object is valid until freed below; the returned
    // string belongs to it and is copied before that.
    let utf8 = unsafe {
        let codeset = libc::nl_langinfo_l(libc::CODESET, locale);
        let utf8 = !codeset.is_null()
            && CStr::from_ptr(codeset)
                .to_bytes()
                .eq_ignore_ascii_case(b"UTF-8");
        libc::freelocale(locale);
        utf8
    };
    utf8
}

/// gnulib's locale_quoting_style.
fn quote_in(bytes: &[u8], utf8: bool) -> String {
    let (open, close) = if utf8 {
        ("\u{2018}", "\u{2019}")
    } else {
        ("'", "'")
    };
    let mut out = String::from(open);
    for chunk in chunks(bytes, utf8) {
        match chunk {
            Ok(text) => {
                for c in text.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        c if c.to_string() == close => {
                            out.push('\\');
                            out.push(c);
                        }
                        c if c.is_control() => out.push_str(&escaped(c)),
                        c => out.push(c),
                    }
                }
            }
            Err(byte) => {
                let _ = write!(out, "\\{byte:03o}");
            }
        }
    }
    out.push_str(close);
    out
}

/// gnulib's shell_escape_always_quoting_style: a name with a `'` (and
/// nothing a shell expands) in double quotes, else in single quotes, with
/// what cannot be shown as `$'\NNN'` pieces between them.
fn quote_file_in(bytes: &[u8], utf8: bool) -> String {
    let chunks = chunks(bytes, utf8);
    let plain = chunks
        .iter()
        .all(|c| c.is_ok_and(|t| !t.chars().any(char::is_control)));
    if plain && bytes.contains(&b'\'') && !bytes.iter().any(|b| b"\"$`\\!".contains(b)) {
        return format!("\"{}\"", String::from_utf8_lossy(bytes));
    }
    // Each character shown as it is (Ok) or as an escape (Err).
    let mut pieces: Vec<Result<char, String>> = Vec::new();
    for chunk in chunks {
        match chunk {
            Ok(text) => pieces.extend(text.chars().map(|c| match c.is_control() {
                true => Err(escaped(c)),
                false => Ok(c),
            })),
            Err(byte) => pieces.push(Err(format!("\\{byte:03o}"))),
        }
    }
    // In `'...'` (false) or in `$'...'` (true); a switch closes one, opens the other.
    let mut dollar = false;
    let mut out = String::from("'");
    for piece in pieces {
        match (piece, dollar) {
            (Ok(c), _) => {
                if dollar {
                    out.push_str("''");
                    dollar = false;
                }
                match c {
                    '\'' => out.push_str("'\\''"),
                    c => out.push(c),
                }
            }
            (Err(text), in_dollar) => {
                if !in_dollar {
                    out.push_str("'$'");
                    dollar = true;
                }
                out.push_str(&text);
            }
        }
    }
    out.push('\'');
    out
}

/// A control character as a C escape.
fn escaped(c: char) -> String {
    match c {
        '\x07' => "\\a".to_string(),
        '\x08' => "\\b".to_string(),
        '\x0c' => "\\f".to_string(),
        '\n' => "\\n".to_string(),
        '\r' => "\\r".to_string(),
        '\t' => "\\t".to_string(),
        '\x0b' => "\\v".to_string(),
        c => {
            let mut buf = [0u8; 4];
            c.encode_utf8(&mut buf)
                .bytes()
                .map(|byte| format!("\\{byte:03o}"))
                .collect()
        }
    }
}

/// The text of `bytes` that the locale can show (ASCII, or valid UTF-8
/// under a UTF-8 locale), and each byte it cannot.
fn chunks(bytes: &[u8], utf8: bool) -> Vec<Result<&str, u8>> {
    let mut out = Vec::new();
    if utf8 {
        for chunk in bytes.utf8_chunks() {
            if !chunk.valid().is_empty() {
                out.push(Ok(chunk.valid()));
            }
            out.extend(chunk.invalid().iter().map(|&b| Err(b)));
        }
    } else {
        let mut rest = bytes;
        while !rest.is_empty() {
            let ascii = rest
                .iter()
                .position(|b| !b.is_ascii())
                .unwrap_or(rest.len());
            if ascii > 0 {
                // ASCII is valid UTF-8.
                out.push(Ok(std::str::from_utf8(&rest[..ascii]).unwrap_or_default()));
            }
            if let Some(&byte) = rest.get(ascii) {
                out.push(Err(byte));
                rest = &rest[ascii + 1..];
            } else {
                rest = &[];
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What coreutils 9.1 chroot prints, under LC_ALL=C and C.UTF-8.
    #[test]
    fn quote_follows_the_locale() {
        for (name, c, utf8) in [
            (
                &b"/nonexistent"[..],
                "'/nonexistent'",
                "\u{2018}/nonexistent\u{2019}",
            ),
            (b"/a\nb", "'/a\\nb'", "\u{2018}/a\\nb\u{2019}"),
            (b"/it's", "'/it\\'s'", "\u{2018}/it's\u{2019}"),
            (
                "/\u{e9}".as_bytes(),
                "'/\\303\\251'",
                "\u{2018}/\u{e9}\u{2019}",
            ),
            (b"a\\b", "'a\\\\b'", "\u{2018}a\\\\b\u{2019}"),
            (b"\xff", "'\\377'", "\u{2018}\\377\u{2019}"),
        ] {
            assert_eq!(quote_in(name, false), c);
            assert_eq!(quote_in(name, true), utf8);
        }
    }

    #[test]
    fn quote_file_is_shell_quoting() {
        for (name, quoted) in [
            (&b"/nonexistent"[..], "'/nonexistent'"),
            (b"/non\nex", "'/non'$'\\n''ex'"),
            (b"\nfoo", "''$'\\n''foo'"),
            (b"foo\n", "'foo'$'\\n'"),
            (b"/a\x01", "'/a'$'\\001'"),
            (b"/it's", "\"/it's\""),
            (b"it'", "\"it'\""),
            (b"/", "'/'"),
        ] {
            assert_eq!(quote_file_in(name, false), quoted);
            assert_eq!(quote_file_in(name, true), quoted);
        }
        assert_eq!(
            quote_file_in("/\u{e9}".as_bytes(), false),
            "'/'$'\\303\\251'"
        );
        assert_eq!(quote_file_in("/\u{e9}".as_bytes(), true), "'/\u{e9}'");
    }
}
