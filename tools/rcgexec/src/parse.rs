//! The values of rcgexec's options: sizes, CPU shares, CPU lists, counts
//! and seconds, each refused with a message that names what was wrong.

/// A size as systemd's `MemoryMax=` and docker's `--memory` take it: a
/// number (a fraction allowed) and an optional suffix `K M G T P E` in
/// powers of 1024 (`k`, `KiB`, `KB` and `M`, `MiB`, `MB` alike: cgroup
/// limits are pages, never powers of 1000).
pub fn size(text: &str) -> Result<u64, String> {
    let bad = || format!("invalid size '{text}'");
    let digits = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(digits);
    let power = match suffix.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        s => {
            let unit = s
                .strip_suffix("IB")
                .or_else(|| s.strip_suffix('B'))
                .unwrap_or(s);
            match unit {
                "K" => 1,
                "M" => 2,
                "G" => 3,
                "T" => 4,
                "P" => 5,
                "E" => 6,
                _ => return Err(bad()),
            }
        }
    };
    let value: f64 = number.parse().map_err(|_| bad())?;
    let bytes = value * 1024f64.powi(power);
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(format!("size '{text}' is too large"));
    }
    if bytes < 1.0 {
        return Err(format!("size '{text}' must be at least one byte"));
    }
    Ok(bytes as u64)
}

/// CFS bandwidth: `--cpus N` is N CPUs' worth of time per 100 ms period,
/// as docker's `--cpus` (quota, period in microseconds). The kernel's
/// smallest quota is 1 ms, so N is at least 0.01.
pub const PERIOD_USEC: u64 = 100_000;

pub fn cpus(text: &str) -> Result<(u64, u64), String> {
    let n: f64 = text
        .parse()
        .map_err(|_| format!("invalid number of CPUs '{text}'"))?;
    let quota = (n * PERIOD_USEC as f64).round();
    if !n.is_finite() || quota < 1000.0 {
        return Err(format!("--cpus {text}: must be at least 0.01"));
    }
    if quota > (1u64 << 40) as f64 {
        return Err(format!("--cpus {text}: too many"));
    }
    Ok((quota as u64, PERIOD_USEC))
}

/// A CPU list (`0-2,4`), as the numbers it holds, sorted and unique.
pub fn cpu_list(text: &str) -> Result<Vec<u32>, String> {
    let bad = || format!("invalid CPU list '{text}'");
    let mut cpus = Vec::new();
    for part in text.trim().split(',') {
        let (first, last) = part.split_once('-').unwrap_or((part, part));
        let first: u32 = first.parse().map_err(|_| bad())?;
        let last: u32 = last.parse().map_err(|_| bad())?;
        if first > last || last - first > 65536 {
            return Err(bad());
        }
        cpus.extend(first..=last);
    }
    cpus.sort_unstable();
    cpus.dedup();
    Ok(cpus)
}

/// A whole number of at least 1 (`--pids`).
pub fn count(option: &str, text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        Ok(_) => Err(format!("{option} {text}: must be at least 1")),
        Err(_) if text.parse::<i128>().is_ok() => {
            Err(format!("{option} {text}: must be at least 1"))
        }
        Err(_) => Err(format!("invalid number '{text}' for {option}")),
    }
}

/// Seconds, a fraction allowed, more than 0 (`--monitor`).
pub fn seconds(text: &str) -> Result<std::time::Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if (0.001..1e9).contains(&s) => Ok(std::time::Duration::from_secs_f64(s)),
        _ => Err(format!("invalid number of seconds '{text}'")),
    }
}

/// Bytes as a person reads them: `1.4M`, `64M`, `512K` (powers of 1024).
pub fn human(bytes: u64) -> String {
    let mut value = bytes as f64;
    for unit in ["", "K", "M", "G", "T", "P"] {
        if value < 1024.0 || unit == "P" {
            return if unit.is_empty() {
                format!("{bytes}B")
            } else if value.fract() == 0.0 {
                format!("{value}{unit}")
            } else {
                format!("{value:.1}{unit}")
            };
        }
        value /= 1024.0;
    }
    format!("{bytes}B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_powers_of_1024() {
        assert_eq!(size("64M"), Ok(64 << 20));
        assert_eq!(size("64m"), Ok(64 << 20));
        assert_eq!(size("64MiB"), Ok(64 << 20));
        assert_eq!(size("1.5G"), Ok(3 << 29));
        assert_eq!(size("4096"), Ok(4096));
        assert_eq!(size("2k"), Ok(2048));
        for bad in ["12Q", "", "M", "-5M", "1.2.3M", "0", "64 M", "16384P"] {
            assert!(size(bad).is_err(), "{bad}");
        }
        assert_eq!(size("12Q").unwrap_err(), "invalid size '12Q'");
    }

    #[test]
    fn cpus_are_quota_per_100ms() {
        assert_eq!(cpus("0.2"), Ok((20_000, 100_000)));
        assert_eq!(cpus("2"), Ok((200_000, 100_000)));
        for bad in ["0", "-1", "0.001", "x", "nan", "inf"] {
            assert!(cpus(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cpu_lists_are_read_as_the_kernel_writes_them() {
        assert_eq!(cpu_list("0"), Ok(vec![0]));
        assert_eq!(cpu_list("0-2,4,1"), Ok(vec![0, 1, 2, 4]));
        for bad in ["", "2-1", "a", "0,", "-1", "1-"] {
            assert!(cpu_list(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn counts_and_seconds() {
        assert_eq!(count("--pids", "20"), Ok(20));
        assert_eq!(
            count("--pids", "0").unwrap_err(),
            "--pids 0: must be at least 1"
        );
        assert_eq!(
            count("--pids", "-3").unwrap_err(),
            "--pids -3: must be at least 1"
        );
        assert!(count("--pids", "x").is_err());
        assert_eq!(seconds("0.5"), Ok(std::time::Duration::from_millis(500)));
        assert!(seconds("0").is_err() && seconds("-1").is_err());
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(64 << 20), "64M");
        assert_eq!(human(1_474_560), "1.4M");
        assert_eq!(human(100), "100B");
    }
}

/// Property tests (docs/SECURITY.md, "Parsers"): any text is a value or a
/// refusal that quotes it, never a panic; values written out read back.
#[cfg(test)]
mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any text is a value or refused with a message that quotes it.
        #[test]
        fn any_text_is_a_value_or_refused_naming_it(text in ".{0,24}") {
            for err in [
                size(&text).err(),
                cpus(&text).err(),
                cpu_list(&text).err(),
                count("--pids", &text).err(),
                seconds(&text).err(),
            ]
            .into_iter()
            .flatten()
            {
                prop_assert!(err.contains(text.as_str()), "{err}");
            }
        }

        /// Text of the right shape (digits, dots, signs, suffixes).
        #[test]
        fn value_like_text_never_panics(text in "[-+0-9.,eEkKmMgGiIbB]{0,16}") {
            let _ = (size(&text), cpus(&text), cpu_list(&text), seconds(&text));
        }

        #[test]
        fn sizes_read_back(n in 1u64..1 << 20, power in 0usize..4) {
            let suffix = ["", "K", "M", "G"][power];
            prop_assert_eq!(size(&format!("{n}{suffix}")), Ok(n << (10 * power)));
        }

        /// A list written as the kernel writes it reads back as its CPUs.
        #[test]
        fn cpu_lists_read_back(cpus in proptest::collection::btree_set(0u32..4096, 1..40)) {
            let list: Vec<u32> = cpus.iter().copied().collect();
            let mut parts: Vec<String> = Vec::new();
            let mut i = 0;
            while i < list.len() {
                let mut j = i;
                while j + 1 < list.len() && list[j + 1] == list[j] + 1 {
                    j += 1;
                }
                parts.push(if i == j {
                    list[i].to_string()
                } else {
                    format!("{}-{}", list[i], list[j])
                });
                i = j + 1;
            }
            prop_assert_eq!(cpu_list(&parts.join(",")), Ok(list));
        }
    }
}
