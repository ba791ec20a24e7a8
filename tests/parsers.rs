//! Property tests of the parsers the tools share or export (docs/SECURITY.md,
//! "Parsers"): mountinfo lines (common), getopt tables (common, with the
//! tables of rchroot and rlsns), CIDRs (rvethpair). Generated input of the
//! right shape reads back what was generated; arbitrary and malformed input
//! never panics and is refused with a message that names it. The parsers
//! private to one tool have theirs beside them (`mod prop` in ripcmk's
//! size.rs, runshare's idmap.rs, rvethpair's batch.rs, rchroot's elf.rs).

use std::ffi::OsString;
use std::net::IpAddr;

use common::getopt::{Stop, Table};
use common::mountinfo::Mount;
use proptest::prelude::*;
use rvethpair::Cidr;

/// A path as the kernel writes it in mountinfo: space, tab, newline and
/// backslash as `\ooo`.
fn escape(path: &str) -> String {
    let mut out = String::new();
    for c in path.chars() {
        match c {
            ' ' | '\t' | '\n' | '\\' => out.push_str(&format!("\\{:03o}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// A path of a few components, blanks and backslashes included.
fn a_path() -> impl Strategy<Value = String> {
    proptest::collection::vec("[a-z \\t\\\\\\n.é-]{1,8}", 0..4).prop_map(|parts| {
        let mut p = String::from("/");
        p.push_str(&parts.join("/"));
        p
    })
}

proptest! {
    #[test]
    fn mountinfo_lines_read_back_what_the_kernel_wrote(
        id in any::<u32>(),
        parent in any::<u32>(),
        major in 0u32..4096,
        minor in 0u32..1_000_000,
        root in a_path(),
        mount_point in a_path(),
        options in "(rw|ro)(,[a-z]{2,8}){0,3}",
        optional in proptest::collection::vec("(shared|master|propagate_from):[0-9]{1,4}|unbindable", 0..3),
        fstype in "[a-z0-9.]{1,10}",
        source in "[a-z/ ]{1,12}",
        super_options in "[a-z=,0-9]{0,20}",
    ) {
        let mut line = format!("{id} {parent} {major}:{minor} {} {} {options}", escape(&root), escape(&mount_point));
        for field in &optional {
            line.push(' ');
            line.push_str(field);
        }
        line.push_str(&format!(" - {fstype} {} {super_options}", escape(&source)));
        let m = Mount::parse(&line).expect("a well-formed line");
        prop_assert_eq!(m.id, id);
        prop_assert_eq!(m.parent, parent);
        prop_assert_eq!(m.dev, format!("{major}:{minor}"));
        prop_assert_eq!(m.root, std::path::PathBuf::from(&root));
        prop_assert_eq!(m.mount_point, std::path::PathBuf::from(&mount_point));
        prop_assert_eq!(m.options, options);
        prop_assert_eq!(m.optional, optional);
        prop_assert_eq!(m.fstype, fstype);
        prop_assert_eq!(m.source, OsString::from(&source));
        prop_assert_eq!(m.super_options, super_options);
    }

    #[test]
    fn mountinfo_never_panics_on_malformed_lines(line in "[0-9 :/\\\\a-z-]{0,80}") {
        // Refused (None) or read; never a panic, whatever the escapes.
        let _ = Mount::parse(&line);
    }

    #[test]
    fn mountinfo_takes_any_octal_escape(digits in "[0-7]{3}", tail in "[0-7a-z]{0,3}") {
        // The kernel writes at most \377; a larger one is not a byte and
        // stays as written.
        let line = format!("1 1 0:1 / /a\\{digits}{tail} rw - tmpfs x rw");
        let m = Mount::parse(&line).expect("a well-formed line");
        let value = u32::from_str_radix(&digits, 8).unwrap();
        let mut want = b"/a".to_vec();
        if value <= 0o377 {
            want.push(value as u8);
        } else {
            want.push(b'\\');
            want.extend(digits.bytes());
        }
        want.extend(tail.bytes());
        prop_assert_eq!(m.mount_point.into_os_string(), &*<OsString as std::os::unix::ffi::OsStringExt>::from_vec(want));
    }

    #[test]
    fn mountinfo_refuses_lines_without_numbers(
        id in "[a-z]{1,4}",
        rest in "[0-9a-z /:-]{0,40}",
    ) {
        let line = format!("{id} 1 0:1 / / rw - tmpfs x rw {rest}");
        prop_assert!(Mount::parse(&line).is_none());
    }

    #[test]
    fn mountinfo_refuses_lines_without_a_separator(line in "[0-9a-z /:]{0,60}") {
        prop_assume!(!line.contains(" - "));
        prop_assert!(Mount::parse(&line).is_none());
    }
}

/// Words a command line may hold: options of the tables, their
/// abbreviations, clusters, attached values, `--`, `-`, operands, junk.
fn a_word() -> impl Strategy<Value = String> {
    prop_oneof![
        "-[a-zA-Z]{1,4}",
        "-[a-zA-Z][a-z/=.-]{0,6}",
        "--[a-z-]{0,12}",
        "--[a-z-]{1,8}=[a-z=-]{0,6}",
        Just("--".to_string()),
        Just("-".to_string()),
        "[a-z/.]{1,8}",
        "[ -~]{0,8}",
    ]
}

/// The tables under test: a `+` one (options end at NEWROOT) and a
/// permuting one with an optional argument (`-T[parent]`).
const TABLES: [(&str, Table); 2] = [("rchroot", rchroot::GETOPT), ("rlsns", rlsns::GETOPT)];

/// Usage errors are glibc's words, on one line.
fn is_getopt_words(usage: &str) -> bool {
    !usage.contains('\n')
        && [
            "unrecognized option '",
            "invalid option -- '",
            "option requires an argument -- '",
        ]
        .iter()
        .any(|w| usage.starts_with(w))
        || usage.starts_with("option '--")
            && [
                "' is ambiguous; possibilities: ",
                "' requires an argument",
                "' doesn't allow an argument",
            ]
            .iter()
            .any(|w| usage.contains(w))
}

proptest! {
    #[test]
    fn getopt_tables_read_any_command_line(words in proptest::collection::vec(a_word(), 0..8)) {
        for (tool, table) in TABLES {
            let args: Vec<OsString> = std::iter::once(tool.to_string())
                .chain(words.iter().cloned())
                .map(OsString::from)
                .collect();
            let parsed = table.parse(args.clone());
            match &parsed.stop {
                Some(Stop::Usage(usage)) => {
                    prop_assert!(is_getopt_words(usage), "{tool} {words:?}: {usage}");
                }
                Some(Stop::Help { .. } | Stop::Version) => {}
                None => {
                    // What getopt read, handed to clap's form and read
                    // again, is the same command line.
                    let again = table.parse(table.argv(args).expect("no usage error"));
                    prop_assert_eq!(&again.options, &parsed.options, "{} {:?}", tool, words);
                    prop_assert_eq!(&again.operands, &parsed.operands, "{} {:?}", tool, words);
                    prop_assert_eq!(again.stop, None);
                }
            }
        }
    }

    #[test]
    fn getopt_never_panics_on_bytes(words in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..6), 0..6)) {
        use std::os::unix::ffi::OsStringExt;
        for (_, table) in TABLES {
            let args = std::iter::once(OsString::from("x"))
                .chain(words.iter().map(|w| {
                    let mut w = w.clone();
                    w.insert(0, b'-');
                    OsString::from_vec(w)
                }));
            let _ = table.argv(args);
        }
    }
}

proptest! {
    #[test]
    fn cidrs_read_back_v4(addr in any::<[u8; 4]>(), prefix in 0u8..=32) {
        let ip = IpAddr::from(addr);
        let text = format!("{ip}/{prefix}");
        let cidr = Cidr::parse(&text).expect("a valid CIDR");
        prop_assert_eq!((cidr.addr, cidr.prefix), (ip, prefix));
        prop_assert_eq!(cidr.to_string(), text);
        prop_assert!(cidr.contains(ip));
        prop_assert_eq!(Cidr::parse(&ip.to_string()).unwrap().prefix, 32);
    }

    #[test]
    fn cidrs_read_back_v6(addr in any::<[u16; 8]>(), prefix in 0u8..=128) {
        let ip = IpAddr::from(addr);
        let cidr = Cidr::parse(&format!("{ip}/{prefix}")).expect("a valid CIDR");
        prop_assert_eq!((cidr.addr, cidr.prefix), (ip, prefix));
        prop_assert!(cidr.contains(ip));
    }

    #[test]
    fn cidr_prefixes_out_of_range_are_refused(addr in any::<[u8; 4]>(), prefix in 33u32..100_000) {
        let text = format!("{}/{prefix}", IpAddr::from(addr));
        let err = Cidr::parse(&text).unwrap_err().to_string();
        prop_assert_eq!(err, format!("invalid prefix length '{prefix}' in '{text}' (0 to 32)"));
    }

    #[test]
    fn malformed_cidrs_are_refused_with_their_text(text in "[0-9a-f.:/x -]{0,24}") {
        match Cidr::parse(&text) {
            Ok(cidr) => {
                // Only what reads as an address and a prefix is taken.
                let (addr, prefix) = text.split_once('/').unwrap_or((&text, ""));
                prop_assert_eq!(cidr.addr, addr.parse::<IpAddr>().unwrap());
                prop_assert!(prefix.is_empty() || prefix.parse::<u8>() == Ok(cidr.prefix));
            }
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(!msg.contains('\n') && msg.contains(&format!("'{text}'")), "{}", msg);
            }
        }
    }
}
