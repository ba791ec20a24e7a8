//! Sizes as util-linux reads and prints them: `parse_size` is its
//! `strtosize` (`10K` = `10KiB` = 10240, `10KB` = 10000, `0.5M`, hex and
//! octal numbers), quirks included so that a size means the same to our
//! tools as to theirs; `human` is its `size_to_human_string` with one-letter
//! suffixes (`4.9K`, `16E`).

use nix::errno::Errno;

/// The value of C `strtoumax(s, &end, 0)` (also `strtoul` on 64-bit):
/// leading blanks, an optional sign (minus negates modulo 2^64, as C does),
/// `0x` hex or `0` octal or decimal digits. Returns the value (`None` on
/// overflow) and the number of bytes used (0 when there are no digits).
pub fn strtoumax(s: &[u8]) -> (Option<u64>, usize) {
    let mut i = s.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let negative = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let (radix, start) = match (s.get(i), s.get(i + 1), s.get(i + 2)) {
        (Some(b'0'), Some(b'x' | b'X'), Some(d)) if d.is_ascii_hexdigit() => (16, i + 2),
        (Some(b'0'), _, _) => (8, i),
        _ => (10, i),
    };
    let digits: Vec<u32> = s[start..]
        .iter()
        .map_while(|b| (*b as char).to_digit(radix))
        .collect();
    if digits.is_empty() {
        return (Some(0), 0);
    }
    let value = digits.iter().try_fold(0u64, |v, d| {
        v.checked_mul(u64::from(radix))?.checked_add(u64::from(*d))
    });
    let value = if negative {
        value.map(u64::wrapping_neg)
    } else {
        value
    };
    (value, start + digits.len())
}

/// `x * base^power` as util-linux scales: it stops at the first step that
/// would overflow and says so (the partial product still counts for the
/// fraction: `0.5Z` is 2^59 there).
fn scale(mut x: u64, base: u64, power: u32) -> (u64, bool) {
    for _ in 0..power {
        match x.checked_mul(base) {
            Some(next) => x = next,
            None => return (x, false),
        }
    }
    (x, true)
}

/// Parses a size the way util-linux's `strtosize` does: a number (decimal,
/// `0x` hex or `0` octal), an optional fraction after `.`, and an optional
/// suffix `K M G T P E Z Y` (powers of 1024, also `KiB`; lower case too) or
/// `KB MB …` (powers of 1000). `EINVAL` for text it cannot read, `ERANGE`
/// for a size beyond 64 bits. Its quirks are kept on purpose: the fraction
/// is added digit by digit in integer steps (`1.5K` = 1536, `1.05K` = 1075,
/// but `1.10K` = 2048), and a fraction needs a suffix (`1.5` is invalid).
pub fn parse_size(text: &str) -> Result<u64, Errno> {
    let s = text.as_bytes();
    let first = s.iter().position(|b| !b.is_ascii_whitespace());
    if first.is_none_or(|i| s[i] == b'-') {
        return Err(Errno::EINVAL);
    }
    let (value, used) = strtoumax(s);
    if used == 0 {
        return Err(Errno::EINVAL);
    }
    let x = value.ok_or(Errno::ERANGE)?;
    let mut p = used;
    if p == s.len() {
        return Ok(x);
    }
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let (mut frac, mut frac_zeros) = (0u64, 0u32);
    let base = loop {
        if at(p + 1) == b'i' && matches!(at(p + 2), b'B' | b'b') && p + 3 == s.len() {
            break 1024;
        }
        if matches!(at(p + 1), b'B' | b'b') && p + 2 == s.len() {
            break 1000;
        }
        if p + 1 >= s.len() {
            break 1024;
        }
        // A decimal point, once, then the fraction and the suffix again.
        if frac != 0 || at(p) != b'.' {
            return Err(Errno::EINVAL);
        }
        p += 1;
        while at(p) == b'0' {
            frac_zeros += 1;
            p += 1;
        }
        if at(p).is_ascii_digit() {
            let (value, used) = strtoumax(&s[p..]);
            frac = value.ok_or(Errno::ERANGE)?;
            p += used;
            if frac != 0 && p == s.len() {
                return Err(Errno::EINVAL); // a fraction without a suffix
            }
        }
        if p == s.len() {
            return Err(Errno::EINVAL);
        }
    };
    let power = match b"KMGTPEZY"
        .iter()
        .position(|c| c.eq_ignore_ascii_case(&at(p)))
    {
        Some(i) => i as u32 + 1,
        None => return Err(Errno::EINVAL),
    };
    let (mut x, fits) = scale(x, base, power);
    if frac != 0 {
        x = x.wrapping_add(fraction(frac, frac_zeros, scale(1, base, power).0));
    }
    if fits {
        Ok(x)
    } else {
        Err(Errno::ERANGE)
    }
}

/// util-linux's fraction arithmetic: digit by digit from the last, each
/// adding `unit / (divisor / digit)` in integers.
fn fraction(mut frac: u64, zeros: u32, unit: u64) -> u64 {
    let mut div = 10u64;
    while div < frac {
        if div <= u64::MAX / 10 {
            div *= 10;
        } else {
            frac /= 10;
        }
    }
    for _ in 0..zeros {
        if div <= u64::MAX / 10 {
            div *= 10;
        } else {
            frac /= 10;
        }
    }
    let (mut added, mut poz) = (0u64, 1u64);
    loop {
        let digit = frac % 10;
        let seg_div = div / poz;
        frac /= 10;
        poz = poz.saturating_mul(10);
        if digit != 0 && seg_div / digit != 0 {
            added = added.wrapping_add(unit / (seg_div / digit));
        }
        if frac == 0 {
            return added;
        }
    }
}

/// A size with a one-letter binary suffix, one decimal rounded half up and
/// a trailing zero dropped: `4.9K`, `16K`, `0B`, `16E` (util-linux
/// `size_to_human_string(SIZE_SUFFIX_1LETTER)`).
pub fn human(bytes: u64) -> String {
    let exp = (10..=60)
        .step_by(10)
        .find(|shift| bytes < 1u64 << shift)
        .map_or(60, |shift| shift - 10);
    let letter = b"BKMGTPE"[exp as usize / 10] as char;
    let (mut dec, mut frac) = if exp == 0 {
        (bytes, 0)
    } else {
        (bytes >> exp, bytes & ((1u64 << exp) - 1))
    };
    if frac != 0 {
        frac = if frac >= u64::MAX / 1000 {
            ((frac / 1024) * 1000) / (1u64 << (exp - 10))
        } else {
            (frac * 1000) / (1u64 << exp)
        };
        frac = ((frac + 50) / 100) * 10;
        if frac == 100 {
            dec += 1;
            frac = 0;
        }
    }
    if frac == 0 {
        format!("{dec}{letter}")
    } else {
        format!("{dec}.{}{letter}", frac / 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_are_powers_of_1024_or_1000() {
        for (text, want) in [
            ("4096", 4096),
            ("1K", 1024),
            ("1k", 1024),
            ("1KiB", 1024),
            ("1Kib", 1024),
            ("1KB", 1000),
            ("1kb", 1000),
            ("1MB", 1_000_000),
            ("1G", 1 << 30),
            ("1E", 1 << 60),
            ("0x100", 256),
            ("010", 8),
            ("0x10K", 16384),
            (" 5", 5),
            ("+5", 5),
            ("1.KiB", 1024),
            ("1.0K", 1024),
            ("18446744073709551615", u64::MAX),
        ] {
            assert_eq!(parse_size(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn fractions_follow_util_linux_arithmetic() {
        for (text, want) in [
            ("1.5K", 1536),
            ("1.5KiB", 1536),
            ("1.5KB", 1500),
            ("1.05K", 1075),
            ("1.999K", 2150),
            ("1.10K", 2048),
            ("0.0001K", 0),
            ("1.00000000000000000001K", 1024),
        ] {
            assert_eq!(parse_size(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn bad_text_is_einval_and_too_big_is_erange() {
        for text in [
            "", "abc", "-5", " -5", "1X", "1.5", "1.", "1.0", "1.00", ".5K", "1,5K", "1K5", "1b",
            "1B", "1iB", "1Ki", "1KiBx", "1.5 K", "5 K", "1e3", "1.5b", "1.5iB", "1.0x1K", "0x",
            "08",
        ] {
            assert_eq!(parse_size(text), Err(Errno::EINVAL), "{text:?}");
        }
        for text in [
            "18446744073709551616",
            "16E",
            "1Y",
            "1Z",
            "1ZB",
            "1.9999999999999999999999K",
        ] {
            assert_eq!(parse_size(text), Err(Errno::ERANGE), "{text:?}");
        }
    }

    #[test]
    fn lower_case_suffixes_and_partial_scaling() {
        assert_eq!(parse_size("1z"), Err(Errno::ERANGE));
        assert_eq!(parse_size("1e"), Ok(1 << 60));
        assert_eq!(parse_size("0.5Z"), Ok(1 << 59));
    }

    #[test]
    fn strtoumax_reads_c_numbers() {
        assert_eq!(strtoumax(b" 0x1fz"), (Some(31), 5));
        assert_eq!(strtoumax(b"017"), (Some(15), 3));
        assert_eq!(strtoumax(b"-1"), (Some(u64::MAX), 2));
        assert_eq!(strtoumax(b"0x"), (Some(0), 1));
        assert_eq!(strtoumax(b"x"), (Some(0), 0));
        assert_eq!(strtoumax(b"99999999999999999999"), (None, 20));
    }

    #[test]
    fn human_sizes_match_util_linux() {
        for (bytes, want) in [
            (0, "0B"),
            (1, "1B"),
            (1023, "1023B"),
            (1024, "1K"),
            (5000, "4.9K"),
            (16384, "16K"),
            (1048575, "1024K"), // util-linux rounds up without carrying to M
            (1536, "1.5K"),
            (u64::MAX, "16E"),
            (18446744073692774399, "16E"),
        ] {
            assert_eq!(human(bytes), want, "{bytes}");
        }
    }

    /// A small deterministic generator: property tests without a crate.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn parse_size_never_panics_and_agrees_with_itself() {
        let alphabet = b" +-.0123456789xXabBiIKkMmGgTtPpEeZzYy";
        let mut state = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            let len = (xorshift(&mut state) % 12) as usize;
            let text: String = (0..len)
                .map(|_| alphabet[(xorshift(&mut state) % alphabet.len() as u64) as usize] as char)
                .collect();
            let parsed = parse_size(&text);
            assert!(
                matches!(parsed, Ok(_) | Err(Errno::EINVAL | Errno::ERANGE)),
                "{text:?}"
            );
            // A plain decimal number means itself.
            if !text.is_empty()
                && text.bytes().all(|b| b.is_ascii_digit())
                && !text.starts_with('0')
            {
                assert_eq!(parsed.ok(), text.parse::<u64>().ok(), "{text:?}");
            }
        }
    }

    #[test]
    fn parse_size_never_panics_on_arbitrary_bytes() {
        let mut state = 0x2545_f491_4f6c_dd1d;
        for _ in 0..100_000 {
            let len = (xorshift(&mut state) % 24) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| xorshift(&mut state) as u8).collect();
            let _ = parse_size(&String::from_utf8_lossy(&bytes));
        }
    }

    #[test]
    fn human_never_panics_and_is_short() {
        let mut state = 0x1234_5678_9abc_def1;
        for _ in 0..100_000 {
            let bytes = xorshift(&mut state) >> (xorshift(&mut state) % 64);
            let text = human(bytes);
            assert!(text.len() <= 7, "{bytes} -> {text}");
        }
    }
}

/// Property tests (docs/SECURITY.md, "Parsers"): any text is a size or a clear
/// refusal (EINVAL, ERANGE), never a panic; sizes written out read back.
#[cfg(test)]
mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_text_is_a_size_or_einval_or_erange(text in "\\PC{0,24}") {
            if let Err(e) = parse_size(&text) {
                prop_assert!(matches!(e, Errno::EINVAL | Errno::ERANGE), "{text:?}: {e}");
            }
        }

        #[test]
        fn size_like_text_never_panics(text in "[ +-]?(0x)?[0-9a-fA-F]{0,22}(\\.[0-9]{0,22})?[KMGTPEZYkmgtpezyiBb]{0,3}") {
            let _ = parse_size(&text);
        }

        #[test]
        fn numbers_and_suffixes_read_back(n in any::<u64>(), power in 0u32..=8, decimal in any::<bool>()) {
            let (text, want) = match power {
                0 => (n.to_string(), Some(n)),
                _ => {
                    let letter = b"KMGTPEZY"[power as usize - 1] as char;
                    let base: u64 = if decimal { 1000 } else { 1024 };
                    let want = base.checked_pow(power).and_then(|b| n.checked_mul(b));
                    (format!("{n}{letter}{}", if decimal { "B" } else { "" }), want)
                }
            };
            match want {
                Some(want) => prop_assert_eq!(parse_size(&text), Ok(want)),
                None => prop_assert_eq!(parse_size(&text), Err(Errno::ERANGE)),
            }
        }

        #[test]
        fn every_size_prints_in_seven_bytes(n in any::<u64>()) {
            let text = human(n);
            prop_assert!(text.len() <= 7 && text.ends_with(|c: char| "BKMGTPE".contains(c)), "{}", text);
        }
    }
}
