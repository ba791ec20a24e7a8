//! Numbers in option values, read as util-linux's lib/strutils.c reads them
//! (`strtos32_or_err`, `strtou64_or_err`, `strtos64_or_err`,
//! `strtoul_or_err`): base 10, leading C-locale whitespace and one sign
//! allowed, nothing after the digits (not even a blank), not empty.
//!
//! A failure reads `WHAT: 'TEXT'`; when the digits are a number out of the
//! type's range the chain ends in strerror(ERANGE), so that
//! [`crate::error::one_line`] prints `WHAT: 'TEXT': Numerical result out of
//! range`, as util-linux's `err()` does.

use std::fmt;

/// Why a text is not a number of the wanted type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bad {
    /// Not a number at all (`errx`: no reason printed).
    Invalid,
    /// A number, out of range (`err` with ERANGE).
    Range,
}

impl Bad {
    /// The error util-linux prints for `text`: `what: 'text'`, with
    /// ERANGE's text as the cause when out of range.
    pub fn error(self, what: &str, text: &str) -> anyhow::Error {
        let message = format!("{what}: '{text}'");
        match self {
            Bad::Invalid => anyhow::Error::msg(message),
            Bad::Range => {
                anyhow::Error::new(std::io::Error::from_raw_os_error(libc::ERANGE)).context(message)
            }
        }
    }
}

impl fmt::Display for Bad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Bad::Invalid => "not a number",
            Bad::Range => "out of range",
        })
    }
}

/// `text` as C's strtoimax/strtoumax read it in base 10 when nothing may
/// follow: the sign, and the magnitude (Range beyond 64 bits).
fn c_number(text: &str) -> Result<(bool, u64), Bad> {
    // isspace() in the C locale: strtol skips these, and only these.
    let s = text.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Bad::Invalid);
    }
    digits
        .bytes()
        .try_fold(0u64, |n, d| {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })
        .map(|n| (negative, n))
        .ok_or(Bad::Range)
}

/// ul_strtos64: a signed 64-bit number.
pub fn strtos64(text: &str) -> Result<i64, Bad> {
    let (negative, n) = c_number(text)?;
    if negative {
        0i64.checked_sub_unsigned(n)
    } else {
        i64::try_from(n).ok()
    }
    .ok_or(Bad::Range)
}

/// ul_strtou64: an unsigned 64-bit number; a negative one is out of range
/// (`-0` is 0).
pub fn strtou64(text: &str) -> Result<u64, Bad> {
    match c_number(text)? {
        (true, n) if n != 0 => Err(Bad::Range),
        (_, n) => Ok(n),
    }
}

/// ul_strtos32: a signed 32-bit number.
pub fn strtos32(text: &str) -> Result<i32, Bad> {
    i32::try_from(strtos64(text)?).map_err(|_| Bad::Range)
}

/// C's strtoul with nothing after the number: a negative number wraps
/// (`-1` is `u64::MAX`), as unsigned C arithmetic has it.
pub fn strtoul(text: &str) -> Result<u64, Bad> {
    let (negative, n) = c_number(text)?;
    Ok(if negative { n.wrapping_neg() } else { n })
}

/// `strtos32_or_err(text, what)`.
pub fn strtos32_or_err(text: &str, what: &str) -> anyhow::Result<i32> {
    strtos32(text).map_err(|bad| bad.error(what, text))
}

/// `strtos64_or_err(text, what)`.
pub fn strtos64_or_err(text: &str, what: &str) -> anyhow::Result<i64> {
    strtos64(text).map_err(|bad| bad.error(what, text))
}

/// `strtou64_or_err(text, what)`.
pub fn strtou64_or_err(text: &str, what: &str) -> anyhow::Result<u64> {
    strtou64(text).map_err(|bad| bad.error(what, text))
}

/// `strtoul_or_err(text, what)` (unsigned long is 64 bits here).
pub fn strtoul_or_err(text: &str, what: &str) -> anyhow::Result<u64> {
    strtoul(text).map_err(|bad| bad.error(what, text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::one_line;

    /// What util-linux prints for a bad value, after the program name.
    fn said<T: fmt::Debug>(r: anyhow::Result<T>) -> String {
        one_line(&r.unwrap_err())
    }

    #[test]
    fn whitespace_before_and_nothing_after() {
        for text in [" 5", "\t5", "\n\x0b\x0c\r 5", "+5", " +5"] {
            assert_eq!(strtos32(text), Ok(5), "{text:?}");
            assert_eq!(strtou64(text), Ok(5), "{text:?}");
        }
        for text in [
            "", " ", "5 ", "5\n", "5x", "0x5", "- 5", "+-5", "--5", "+", "-", "5.0",
        ] {
            assert_eq!(strtos32(text), Err(Bad::Invalid), "{text:?}");
            assert_eq!(strtos64(text), Err(Bad::Invalid), "{text:?}");
            assert_eq!(strtou64(text), Err(Bad::Invalid), "{text:?}");
            assert_eq!(strtoul(text), Err(Bad::Invalid), "{text:?}");
        }
        // Unicode spaces are not C's isspace().
        assert_eq!(strtos32("\u{a0}5"), Err(Bad::Invalid));
    }

    #[test]
    fn ranges_of_each_type() {
        assert_eq!(strtos32("-2147483648"), Ok(i32::MIN));
        assert_eq!(strtos32("2147483647"), Ok(i32::MAX));
        assert_eq!(strtos32("2147483648"), Err(Bad::Range));
        assert_eq!(strtos32("-2147483649"), Err(Bad::Range));
        assert_eq!(strtos64("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(strtos64("9223372036854775808"), Err(Bad::Range));
        assert_eq!(strtou64("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(strtou64("18446744073709551616"), Err(Bad::Range));
        assert_eq!(strtou64("99999999999999999999999"), Err(Bad::Range));
        // ul_strtou64 refuses negatives as out of range; -0 is zero.
        assert_eq!(strtou64("-1"), Err(Bad::Range));
        assert_eq!(strtou64("-0"), Ok(0));
        // strtoul wraps them.
        assert_eq!(strtoul("-1"), Ok(u64::MAX));
        assert_eq!(strtoul("-18446744073709551615"), Ok(1));
        assert_eq!(strtoul("-18446744073709551616"), Err(Bad::Range));
    }

    /// The messages each tool's anchor prints, one case per tool.
    #[test]
    fn messages_as_util_linux_prints_them() {
        // lsns -p
        assert_eq!(
            said(strtos32_or_err("abc", "invalid PID argument")),
            "invalid PID argument: 'abc'"
        );
        assert_eq!(
            said(strtos32_or_err("4294967296", "invalid PID argument")),
            "invalid PID argument: '4294967296': Numerical result out of range"
        );
        // lsns NAMESPACE
        assert_eq!(
            said(strtou64_or_err("-5", "invalid namespace argument")),
            "invalid namespace argument: '-5': Numerical result out of range"
        );
        // ipcmk -s, ipcrm, ipcs -i
        assert_eq!(
            said(strtos32_or_err("99999999999", "failed to parse elements")),
            "failed to parse elements: '99999999999': Numerical result out of range"
        );
        assert_eq!(
            said(strtos32_or_err("5 ", "failed to parse id argument")),
            "failed to parse id argument: '5 '"
        );
        // unshare -S, --monotonic
        assert_eq!(
            strtoul_or_err(" -1", "failed to parse uid").unwrap(),
            u64::MAX
        );
        assert_eq!(
            said(strtos64_or_err("5s", "failed to parse monotonic offset")),
            "failed to parse monotonic offset: '5s'"
        );
        // The outer message alone is the first line of the chain.
        let err = strtou64_or_err("-5", "x").unwrap_err();
        assert_eq!(err.to_string(), "x: '-5'");
    }

    #[test]
    fn any_text_parses_or_is_refused_as_rust_parse_agrees() {
        let alphabet = b"0123456789 +-\tx\n";
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..(seed % 22) {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                text.push(alphabet[(seed >> 33) as usize % alphabet.len()] as char);
            }
            let c = text.trim_start_matches([' ', '\t', '\n']);
            assert_eq!(strtos64(&text).ok(), c.parse::<i64>().ok(), "{text:?}");
            assert_eq!(strtos32(&text).ok(), c.parse::<i32>().ok(), "{text:?}");
        }
    }
}
