//! Option values read as util-linux reads them: numbers by C `strtoumax` /
//! `strtoimax` (`strtoul_or_err`, `strtos64_or_err`: leading blanks, a
//! sign, base 10, nothing after; a negative uid wraps, as `-S -1` is uid
//! 4294967295 to unshare), signals by `signame_to_signum`.

use anyhow::anyhow;

/// A uid or gid as unshare takes it: `strtoul_or_err` (a negative value
/// wraps) into a 32-bit `uid_t`, whose assignment keeps the low bits.
pub fn id(s: &str, what: &str) -> anyhow::Result<u32> {
    Ok(common::num::strtoul_or_err(s, what)? as u32)
}

/// A clock offset as `strtos64_or_err` takes it.
pub fn offset(s: &str, what: &str) -> anyhow::Result<i64> {
    common::num::strtos64_or_err(s, what)
}

/// util-linux's signal names (`ul_signames`) on Linux, aliases included.
const SIGNALS: [(&str, libc::c_int); 34] = [
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("ILL", libc::SIGILL),
    ("TRAP", libc::SIGTRAP),
    ("ABRT", libc::SIGABRT),
    ("IOT", libc::SIGIOT),
    ("BUS", libc::SIGBUS),
    ("FPE", libc::SIGFPE),
    ("KILL", libc::SIGKILL),
    ("USR1", libc::SIGUSR1),
    ("SEGV", libc::SIGSEGV),
    ("USR2", libc::SIGUSR2),
    ("PIPE", libc::SIGPIPE),
    ("ALRM", libc::SIGALRM),
    ("TERM", libc::SIGTERM),
    ("STKFLT", libc::SIGSTKFLT),
    ("CHLD", libc::SIGCHLD),
    ("CLD", libc::SIGCHLD),
    ("CONT", libc::SIGCONT),
    ("STOP", libc::SIGSTOP),
    ("TSTP", libc::SIGTSTP),
    ("TTIN", libc::SIGTTIN),
    ("TTOU", libc::SIGTTOU),
    ("URG", libc::SIGURG),
    ("XCPU", libc::SIGXCPU),
    ("XFSZ", libc::SIGXFSZ),
    ("VTALRM", libc::SIGVTALRM),
    ("PROF", libc::SIGPROF),
    ("WINCH", libc::SIGWINCH),
    ("IO", libc::SIGIO),
    ("POLL", libc::SIGPOLL),
    ("PWR", libc::SIGPWR),
    ("SYS", libc::SIGSYS),
];

/// A signal as `signame_to_signum` reads it: a name with or without `SIG`,
/// any case, or `RTMIN+N`, `RTMAX-N`, `RTN` (no plain numbers).
pub fn signal(name: &str) -> anyhow::Result<libc::c_int> {
    let unknown = || anyhow!("unknown signal: {name}");
    let strip = |s: &'static str, from: &str| -> Option<String> {
        let head = from.get(..s.len())?;
        head.eq_ignore_ascii_case(s)
            .then(|| from[s.len()..].to_string())
    };
    let sig = strip("sig", name).unwrap_or_else(|| name.to_string());
    if let Some(rt) = strip("rt", &sig) {
        return realtime(&rt).ok_or_else(unknown);
    }
    SIGNALS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(&sig))
        .map(|&(_, num)| num)
        .ok_or_else(unknown)
}

/// `MIN+N`, `MAX-N` or `N` after `RT` (util-linux `rtsig_to_signum`: the
/// digits are read by strtol, what follows them ignored).
fn realtime(rest: &str) -> Option<libc::c_int> {
    let head = rest.get(..4).map(str::to_ascii_lowercase);
    let (from_max, digits) = match head.as_deref() {
        Some("min+") => (false, &rest[4..]),
        Some("max-") => (true, &rest[4..]),
        _ => (false, rest),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    let n: libc::c_int = digits[..end].parse().ok()?;
    let (min, max) = (libc::SIGRTMIN(), libc::SIGRTMAX());
    let num = if from_max { max - n } else { min + n };
    (min..=max).contains(&num).then_some(num)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(r: anyhow::Result<impl std::fmt::Debug>) -> String {
        common::error::one_line(&r.unwrap_err())
    }

    #[test]
    fn ids_read_like_strtoul() {
        assert_eq!(id(" +10", "x").unwrap(), 10);
        assert_eq!(id("-1", "x").unwrap(), u32::MAX);
        assert_eq!(id("-4294967295", "x").unwrap(), 1);
        assert_eq!(id("4294967297", "x").unwrap(), 1);
        assert_eq!(said(id("1x", "bad")), "bad: '1x'");
        assert_eq!(said(id("", "bad")), "bad: ''");
        assert_eq!(said(id("-", "bad")), "bad: '-'");
        assert_eq!(
            said(id("99999999999999999999", "bad")),
            "bad: '99999999999999999999': Numerical result out of range"
        );
    }

    #[test]
    fn offsets_read_like_strtos64() {
        assert_eq!(offset(" -5", "x").unwrap(), -5);
        assert_eq!(offset("-9223372036854775808", "x").unwrap(), i64::MIN);
        assert_eq!(
            said(offset("9223372036854775808", "o")),
            "o: '9223372036854775808': Numerical result out of range"
        );
        assert_eq!(said(offset("5s", "o")), "o: '5s'");
    }

    #[test]
    fn signals_read_like_signame_to_signum() {
        assert_eq!(signal("kill").unwrap(), libc::SIGKILL);
        assert_eq!(signal("SigTerm").unwrap(), libc::SIGTERM);
        assert_eq!(signal("CLD").unwrap(), libc::SIGCHLD);
        assert_eq!(signal("iot").unwrap(), libc::SIGABRT);
        assert_eq!(signal("RTMIN+1").unwrap(), libc::SIGRTMIN() + 1);
        assert_eq!(signal("sigrtmax-2").unwrap(), libc::SIGRTMAX() - 2);
        assert_eq!(signal("rt3").unwrap(), libc::SIGRTMIN() + 3);
        for bad in ["15", "rtmin", "rtmin+40", "UNUSED", "+9", ""] {
            assert_eq!(said(signal(bad)), format!("unknown signal: {bad}"));
        }
    }
}
