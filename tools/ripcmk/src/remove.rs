//! ripcrm: util-linux ipcrm. Removes System V IPC objects by id or key, all
//! of a kind, or in the old `ripcrm shm|msg|sem ID...` form, and (as
//! util-linux 2.41) POSIX objects by name. An object that
//! cannot be removed is reported and the others are still removed; the exit
//! status is then 1. Every argument is read before anything is removed.

use std::ffi::OsString;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use clap::Parser;
use common::getopt::{text, Direct, Parsed};
use nix::errno::Errno;

use crate::posix;
use crate::sysv::{self, Kind};

/// An option value with its place on the command line: ipcrm removes in
/// the order the options were given, whatever their kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ordered(pub usize, pub String);

/// clap calls value parsers in command-line order, so a counter numbers them.
fn ordered(text: &str) -> Result<Ordered, std::convert::Infallible> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    Ok(Ordered(
        NEXT.fetch_add(1, Ordering::Relaxed),
        text.to_string(),
    ))
}

/// Remove certain IPC resources.
#[derive(Parser, Debug, Default)]
#[command(
    name = "ripcrm",
    version,
    infer_long_args = true,
    allow_negative_numbers = true,
    args_override_self = true
)]
pub struct Cli {
    /// Remove the shared memory segment with this id.
    #[arg(short = 'm', long = "shmem-id", value_name = "ID", value_parser = ordered)]
    pub shmem_id: Vec<Ordered>,

    /// Remove the shared memory segment with this key.
    #[arg(short = 'M', long = "shmem-key", value_name = "KEY", value_parser = ordered)]
    pub shmem_key: Vec<Ordered>,

    /// Remove the message queue with this id.
    #[arg(short = 'q', long = "queue-id", value_name = "ID", value_parser = ordered)]
    pub queue_id: Vec<Ordered>,

    /// Remove the message queue with this key.
    #[arg(short = 'Q', long = "queue-key", value_name = "KEY", value_parser = ordered)]
    pub queue_key: Vec<Ordered>,

    /// Remove the semaphore array with this id.
    #[arg(short = 's', long = "semaphore-id", value_name = "ID", value_parser = ordered)]
    pub semaphore_id: Vec<Ordered>,

    /// Remove the semaphore array with this key.
    #[arg(short = 'S', long = "semaphore-key", value_name = "KEY", value_parser = ordered)]
    pub semaphore_key: Vec<Ordered>,

    /// Remove the POSIX shared memory object with this name.
    #[arg(long = "posix-shmem", value_name = "NAME", value_parser = ordered)]
    pub posix_shmem: Vec<Ordered>,

    /// Remove the POSIX message queue with this name.
    #[arg(long = "posix-mqueue", value_name = "NAME", value_parser = ordered)]
    pub posix_mqueue: Vec<Ordered>,

    /// Remove the POSIX semaphore with this name.
    #[arg(long = "posix-semaphore", value_name = "NAME", value_parser = ordered)]
    pub posix_semaphore: Vec<Ordered>,

    /// Remove all System V objects, or all of one kind given as --all=KIND
    /// or -aKIND (shm, msg, sem, or POSIX pshm, pmsg, psem).
    #[arg(
        short = 'a',
        long = "all",
        value_name = "shm|msg|sem|pshm|pmsg|psem",
        num_args = 0..=1,
        require_equals = true
    )]
    pub all: Option<Option<String>>,

    /// Explain what is being done (for the removals given after it, and -a).
    // A value per -v, numbered as the others: ipcrm removes while it reads
    // its options, so `-m 1 -v -m 2` explains only the second removal.
    #[arg(
        short = 'v',
        long = "verbose",
        num_args = 0,
        default_missing_value = "",
        value_parser = ordered
    )]
    pub verbose: Vec<Ordered>,

    /// The old form: `shm|msg|sem ID...` (anything else is an error).
    #[arg(value_name = "ARG")]
    pub args: Vec<String>,
}

/// ipcrm's getopt_long options, in its order; the POSIX ones are util-linux
/// 2.41's. The optional argument of -a is attached only (`-ashm`, `-vamsg`:
/// all of one kind; `-a=shm` names the kind "=shm"); the argument of -m and
/// the others is never an option (`-m -a` names the id "-a").
pub const GETOPT: common::getopt::Table = {
    use common::getopt::Has::{No, Optional, Required};
    common::getopt::Table {
        short: "a::m:M:q:Q:s:S:vhV",
        long: &[
            ("all", Optional, Some(b'a')),
            ("shmem-id", Required, Some(b'm')),
            ("shmem-key", Required, Some(b'M')),
            ("queue-id", Required, Some(b'q')),
            ("queue-key", Required, Some(b'Q')),
            ("semaphore-id", Required, Some(b's')),
            ("semaphore-key", Required, Some(b'S')),
            ("verbose", No, Some(b'v')),
            ("version", No, Some(b'V')),
            ("help", No, Some(b'h')),
            ("posix-shmem", Required, None),
            ("posix-mqueue", Required, None),
            ("posix-semaphore", Required, None),
        ],
        newer: &["posix-shmem", "posix-mqueue", "posix-semaphore"],
    }
};

/// The command line as ipcrm's getopt reads it (see [`GETOPT`]). The old
/// form (`ripcrm shm ID...`) is read as it is: ipcrm reads no options there
/// (`ipcrm shm 1 -v` names the id "-v").
pub fn parse(argv: impl IntoIterator<Item = OsString>) -> Parsed {
    let mut argv: Vec<OsString> = argv.into_iter().collect();
    if argv
        .get(1)
        .and_then(|w| w.to_str())
        .is_some_and(|w| kind_named(w).is_some())
    {
        argv.insert(1, "--".into());
    }
    GETOPT.parse(argv)
}

/// Every line ipcrm's getopt reads, read without clap (the values are
/// checked by [`Plan::new`]); only a value that is not UTF-8 is left to
/// it. The values are numbered in command-line order as clap numbers them
/// ([`ordered`]).
impl Direct for Cli {
    fn direct(parsed: &Parsed) -> Option<Cli> {
        let mut cli = Cli::default();
        for (name, value) in &parsed.options {
            let value = value.as_deref().map(text);
            let list = match *name {
                "shmem-id" => &mut cli.shmem_id,
                "shmem-key" => &mut cli.shmem_key,
                "queue-id" => &mut cli.queue_id,
                "queue-key" => &mut cli.queue_key,
                "semaphore-id" => &mut cli.semaphore_id,
                "semaphore-key" => &mut cli.semaphore_key,
                "posix-shmem" => &mut cli.posix_shmem,
                "posix-mqueue" => &mut cli.posix_mqueue,
                "posix-semaphore" => &mut cli.posix_semaphore,
                "verbose" => &mut cli.verbose,
                "all" => {
                    cli.all = Some(match value {
                        None => None,
                        Some(kind) => Some(kind?),
                    });
                    continue;
                }
                _ => return None,
            };
            let Ok(value) = ordered(&value.unwrap_or(Some(String::new()))?);
            list.push(value);
        }
        cli.args = parsed
            .operands
            .iter()
            .map(|w| text(w))
            .collect::<Option<_>>()?;
        Some(cli)
    }
}

/// Which object one removal names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Id(i32),
    /// The key and the text it was given as (ipcrm quotes the text).
    Key(i32, String),
    /// An id of the old form that is not a number (reported, not fatal).
    BadId(String),
    /// A POSIX object's name.
    Name(String),
}

/// A kind of object: System V, or its POSIX counterpart.
pub type Class = (Kind, bool);

/// What ripcrm will remove, in order.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    pub removals: Vec<(Kind, Target)>,
    /// `-a`: every System V kind (`None`) or one kind.
    pub all: Option<Option<Class>>,
    /// -v was given: -a explains what it removes.
    pub verbose: bool,
    /// The removals from this index on come after -v, and are explained.
    pub verbose_from: usize,
    /// The old form prints `resource(s) deleted` when all went well.
    pub old_form: bool,
    /// An argument that is neither an option nor the old form.
    pub unknown: Option<String>,
}

/// An IPC key as ipcrm reads it: C `strtoul(text, &end, 0)`, all of it,
/// taken modulo 2^32 as the C int `key_t`.
fn parse_key(text: &str) -> anyhow::Result<i32> {
    let (value, used) = crate::size::strtoumax(text.as_bytes());
    match value {
        None => Err(crate::os_error(Errno::ERANGE))
            .with_context(|| format!("failed to parse argument: '{text}'")),
        Some(_) if used == 0 || used != text.len() => {
            anyhow::bail!("failed to parse argument: '{text}'")
        }
        Some(v) => Ok(v as u32 as i32),
    }
}

/// An id of the old form as ipcrm reads it: C `strtoul(text, &end, 10)`
/// with nothing after the number, stored in an int. So blanks and a sign
/// may lead, `-1` is -1, an empty text is 0; an overflow (ERANGE) is no id.
fn old_form_id(text: &str) -> Option<i32> {
    let bytes = text.as_bytes();
    let start = bytes.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let (negative, signed) = match bytes.get(start) {
        Some(b'-') => (true, start + 1),
        Some(b'+') => (false, start + 1),
        _ => (false, start),
    };
    let digits = &bytes[signed..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        // strtoul without digits leaves `end` at the start: only "" passes.
        return text.is_empty().then_some(0);
    }
    let value = digits.iter().try_fold(0u64, |v, d| {
        v.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    });
    let value = if negative {
        value?.wrapping_neg()
    } else {
        value?
    };
    // The C cast to int keeps the low 32 bits.
    Some(value as u32 as i32)
}

fn kind_named(word: &str) -> Option<Kind> {
    [Kind::Shm, Kind::Msg, Kind::Sem]
        .into_iter()
        .find(|k| k.name() == word)
}

/// `shm`, `msg`, `sem`, or with a `p` before, their POSIX counterparts.
fn class_named(word: &str) -> Option<Class> {
    match word.strip_prefix('p') {
        Some(rest) if kind_named(rest).is_some() => kind_named(rest).map(|k| (k, true)),
        _ => kind_named(word).map(|k| (k, false)),
    }
}

impl Cli {
    /// The values of the options that name an object to remove, each
    /// option's in the order of the fields.
    fn removals(&self) -> [&Vec<Ordered>; 9] {
        [
            &self.shmem_id,
            &self.shmem_key,
            &self.queue_id,
            &self.queue_key,
            &self.semaphore_id,
            &self.semaphore_key,
            &self.posix_shmem,
            &self.posix_mqueue,
            &self.posix_semaphore,
        ]
    }
}

impl Plan {
    pub fn new(cli: Cli) -> anyhow::Result<Plan> {
        let no_options = cli.removals().iter().all(|v| v.is_empty())
            && cli.all.is_none()
            && cli.verbose.is_empty();
        if let (true, Some(kind)) = (no_options, cli.args.first().and_then(|w| kind_named(w))) {
            if cli.args.len() < 2 {
                return Err(crate::Usage("not enough arguments".into()).into());
            }
            let removals = cli.args[1..]
                .iter()
                .map(|text| {
                    let target = match old_form_id(text) {
                        Some(id) => Target::Id(id),
                        None => Target::BadId(text.clone()),
                    };
                    (kind, target)
                })
                .collect();
            return Ok(Plan {
                removals,
                all: None,
                verbose: false,
                verbose_from: usize::MAX,
                old_form: true,
                unknown: None,
            });
        }
        let all = match &cli.all {
            None => None,
            Some(None) => Some(None),
            Some(Some(word)) => match class_named(word) {
                Some(class) => Some(Some(class)),
                None => anyhow::bail!("unknown argument: {word}"),
            },
        };
        let mut tagged = Vec::new();
        // How each option names its object: by id, key or POSIX name.
        #[derive(Clone, Copy)]
        enum By {
            Id,
            Key,
            Name,
        }
        for (values, kind, by) in [
            (&cli.shmem_id, Kind::Shm, By::Id),
            (&cli.shmem_key, Kind::Shm, By::Key),
            (&cli.queue_id, Kind::Msg, By::Id),
            (&cli.queue_key, Kind::Msg, By::Key),
            (&cli.semaphore_id, Kind::Sem, By::Id),
            (&cli.semaphore_key, Kind::Sem, By::Key),
            (&cli.posix_shmem, Kind::Shm, By::Name),
            (&cli.posix_mqueue, Kind::Msg, By::Name),
            (&cli.posix_semaphore, Kind::Sem, By::Name),
        ] {
            for Ordered(at, text) in values {
                let target = match by {
                    By::Key => Target::Key(parse_key(text)?, text.clone()),
                    By::Id => Target::Id(common::num::strtos32_or_err(
                        text,
                        "failed to parse argument",
                    )?),
                    By::Name => Target::Name(text.clone()),
                };
                tagged.push((*at, kind, target));
            }
        }
        tagged.sort_by_key(|(at, ..)| *at);
        let verbose_at = cli.verbose.iter().map(|o| o.0).min();
        Ok(Plan {
            verbose_from: verbose_at.map_or(usize::MAX, |v| {
                tagged.iter().filter(|(at, ..)| *at < v).count()
            }),
            removals: tagged.into_iter().map(|(_, k, t)| (k, t)).collect(),
            all,
            verbose: verbose_at.is_some(),
            old_form: false,
            unknown: cli.args.into_iter().next(),
        })
    }
}

/// What a failed removal is called in ipcrm's words, or `None` for an
/// error ipcrm treats as fatal.
fn failure(err: Errno, by_key: bool) -> Option<&'static str> {
    Some(match (err, by_key) {
        (Errno::EACCES | Errno::EPERM, false) => "permission denied for id",
        (Errno::EACCES | Errno::EPERM, true) => "permission denied for key",
        (Errno::EINVAL, false) => "invalid id",
        (Errno::EINVAL, true) => "invalid key",
        (Errno::EIDRM, false) => "already removed id",
        (Errno::EIDRM, true) => "already removed key",
        _ => return None,
    })
}

/// Removes one object; `Ok(false)` when it failed and was reported.
fn remove_id(kind: Kind, id: i32, by_key: bool, verbose: bool) -> anyhow::Result<bool> {
    if verbose {
        let what = match kind {
            Kind::Shm => "shared memory segment",
            Kind::Msg => "message queue",
            Kind::Sem => "semaphore",
        };
        writeln!(std::io::stdout(), "removing {what} id `{id}'")?;
    }
    match sysv::remove(kind, id) {
        Ok(()) => Ok(true),
        Err(err) => match failure(err, by_key) {
            Some(text) => {
                warn(&format!("{text} ({id})"));
                Ok(false)
            }
            None => {
                Err(crate::os_error(err).context(if by_key { "key failed" } else { "id failed" }))
            }
        },
    }
}

fn warn(text: &str) {
    let _ = writeln!(std::io::stderr(), "ripcrm: {text}");
}

/// Removes a POSIX object; `Ok(false)` when it failed and was reported.
fn remove_name(kind: Kind, name: &str, verbose: bool) -> anyhow::Result<bool> {
    if verbose {
        writeln!(std::io::stdout(), "removing {} `{name}'", posix::what(kind))?;
    }
    match posix::unlink(kind, name) {
        Ok(()) => Ok(true),
        Err(err) => {
            let text = match err {
                Errno::EACCES | Errno::EPERM => format!("permission denied for name `{name}'"),
                Errno::ENOENT => format!("name `{name}' not found"),
                Errno::ENAMETOOLONG => format!("name `{name}' too long"),
                _ => return Err(crate::os_error(err).context("name failed")),
            };
            warn(&text);
            Ok(false)
        }
    }
}

/// Removes one object named by id, key or name; `Ok(false)` when reported.
fn remove_target(kind: Kind, target: &Target, verbose: bool) -> anyhow::Result<bool> {
    match target {
        Target::Name(name) => remove_name(kind, name, verbose),
        Target::Id(id) => remove_id(kind, *id, false, verbose),
        Target::BadId(text) => {
            warn(&format!("invalid id: {text}"));
            Ok(false)
        }
        Target::Key(libc::IPC_PRIVATE, text) => {
            warn(&format!("illegal key ({text})"));
            Ok(false)
        }
        Target::Key(key, text) => match sysv::id_of_key(kind, *key) {
            Ok(id) => remove_id(kind, id, true, verbose),
            Err(err) => {
                let what = match err {
                    Errno::EACCES => "permission denied for key",
                    Errno::EIDRM => "already removed key",
                    Errno::ENOENT => "invalid key",
                    _ => return Err(crate::os_error(err).context("key failed")),
                };
                warn(&format!("{what} ({text})"));
                Ok(false)
            }
        },
    }
}

/// The binary's whole life, `ripcrm` and the multi-call binary's `ripcrm`
/// alike (`common::main!`): the command line `args` (`argv[0]` first) read as
/// ipcrm reads it ([`parse`]), [`run`], and the exit code.
pub fn main(args: impl IntoIterator<Item = std::ffi::OsString>) -> i32 {
    common::cli::main_direct::<Cli>("ripcrm", 1, parse(args), run)
}

/// Removes what the command line names; 1 if anything could not be.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    let plan = Plan::new(cli)?;
    let mut ok = true;
    for (n, (kind, target)) in plan.removals.iter().enumerate() {
        ok &= remove_target(*kind, target, n >= plan.verbose_from)?;
    }
    match plan.all {
        // POSIX objects only when named: a plain -a keeps to System V (as
        // util-linux 2.40), as /dev/shm is seldom private to the namespace.
        Some(Some((kind, true))) => {
            for name in posix::names(kind) {
                ok &= remove_name(kind, &name, plan.verbose)?;
            }
        }
        Some(which) => {
            // ipcrm's order: segments, semaphores, queues.
            for kind in [Kind::Shm, Kind::Sem, Kind::Msg] {
                if which.is_none_or(|(k, _)| k == kind) {
                    for id in sysv::ids(kind)? {
                        ok &= remove_id(kind, id, false, plan.verbose)?;
                    }
                }
            }
        }
        None => {}
    }
    if let Some(arg) = plan.unknown {
        return Err(crate::Usage(format!("unknown argument: {arg}")).into());
    }
    if plan.old_form && ok {
        writeln!(std::io::stdout(), "resource(s) deleted")?;
    }
    Ok(if ok { 0 } else { 1 })
}

/// Two readings of a line are alike when they ask the same in the same
/// order, whatever numbers their values got (the count goes on from one
/// reading to the next).
#[cfg(test)]
impl PartialEq for Cli {
    fn eq(&self, other: &Cli) -> bool {
        fn asked(cli: &Cli) -> impl PartialEq + '_ {
            let lists = cli.removals().into_iter().chain([&cli.verbose]);
            let mut values: Vec<(usize, usize, &str)> = lists
                .enumerate()
                .flat_map(|(n, list)| list.iter().map(move |o| (o.0, n, o.1.as_str())))
                .collect();
            values.sort();
            let values: Vec<(usize, &str)> = values.into_iter().map(|(_, n, t)| (n, t)).collect();
            (values, &cli.all, &cli.args)
        }
        asked(self) == asked(other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_reading_is_clap_reading() {
        let read = |words| Some(super::parse(words));
        let operands: &[&[&str]] = &[&[], &["x", "-y"], &["shm", "1"]];
        let (differences, answered) =
            common::getopt::direct_differences::<Cli>(&GETOPT, read, operands);
        assert_eq!(differences, Vec::<String>::new());
        assert!(answered > 50, "{answered}");
        for line in [&["ripcrm", "-M", "0x5eed"][..], &["ripcrm", "shm", "1"]] {
            let parsed = super::parse(line.iter().map(OsString::from));
            assert!(Cli::direct(&parsed).is_some(), "{line:?}");
        }
    }

    fn plan(args: &[&str]) -> anyhow::Result<Plan> {
        Plan::new(Cli::try_parse_from(args).unwrap())
    }

    #[test]
    fn verbose_counts_from_where_it_is() {
        let p = plan(&["r", "-m", "1", "-q", "2", "-v", "-s", "3"]).unwrap();
        assert_eq!((p.verbose, p.verbose_from), (true, 2));
        let p = plan(&["r", "-m", "1"]).unwrap();
        assert_eq!((p.verbose, p.verbose_from), (false, usize::MAX));
    }

    #[test]
    fn all_takes_its_kind_attached_as_getopt_does() {
        let args = |v: &[&str]| -> Vec<OsString> { v.iter().map(Into::into).collect() };
        let read = |v: &[&str]| super::parse(args(v)).argv().unwrap();
        assert_eq!(
            read(&["r", "-ashm", "-vamsg", "-a=x", "-a", "sem", "-m", "-a"]),
            args(&[
                "r",
                "--all=shm",
                "--verbose",
                "--all=msg",
                "--all==x",
                "--all",
                "--shmem-id=-a",
                "--",
                "sem"
            ])
        );
        assert_eq!(
            read(&["r", "-m0", "--", "-ashm"]),
            args(&["r", "--shmem-id=0", "--", "-ashm"])
        );
        assert_eq!(
            read(&["r", "shm", "-ashm"]),
            args(&["r", "--", "shm", "-ashm"])
        );
        let cli = Cli::try_parse_from(read(&["r", "-ashm"])).unwrap();
        assert_eq!(Plan::new(cli).unwrap().all, Some(Some((Kind::Shm, false))));
    }

    #[test]
    fn removals_keep_command_line_order() {
        let p = plan(&["ripcrm", "-q", "1", "-m", "2", "-Q", "0x10", "-m", "3"]).unwrap();
        assert_eq!(
            p.removals,
            vec![
                (Kind::Msg, Target::Id(1)),
                (Kind::Shm, Target::Id(2)),
                (Kind::Msg, Target::Key(16, "0x10".into())),
                (Kind::Shm, Target::Id(3)),
            ]
        );
    }

    #[test]
    fn repeated_options_add_up_and_the_last_all_wins() {
        let p = plan(&["ripcrm", "-m", "1", "-m", "2", "-a=shm", "--all=psem"]).unwrap();
        assert_eq!(p.removals.len(), 2);
        assert_eq!(p.all, Some(Some((Kind::Sem, true))));
    }

    #[test]
    fn posix_names_keep_their_place() {
        let p = plan(&[
            "ripcrm",
            "--posix-mqueue",
            "/q",
            "-s",
            "1",
            "--posix-shm",
            "/m",
        ])
        .unwrap();
        assert_eq!(
            p.removals,
            vec![
                (Kind::Msg, Target::Name("/q".into())),
                (Kind::Sem, Target::Id(1)),
                (Kind::Shm, Target::Name("/m".into())),
            ]
        );
    }

    #[test]
    fn old_form_takes_ids_and_reports_bad_ones() {
        let p = plan(&["ripcrm", "shm", "4", "x"]).unwrap();
        assert!(p.old_form);
        assert_eq!(
            p.removals,
            vec![
                (Kind::Shm, Target::Id(4)),
                (Kind::Shm, Target::BadId("x".into()))
            ]
        );
        let err = plan(&["ripcrm", "sem"]).unwrap_err();
        assert!(err.downcast_ref::<crate::Usage>().is_some());
        for (text, id) in [
            ("", Some(0)),
            (" +7", Some(7)),
            ("-1", Some(-1)),
            ("4294967296", Some(0)),
            ("99999999999999999999", None),
            (" ", None),
            ("+", None),
            ("7 ", None),
            ("0x1", None),
        ] {
            assert_eq!(old_form_id(text), id, "{text:?}");
        }
    }

    #[test]
    fn all_takes_an_attached_kind() {
        assert_eq!(plan(&["ripcrm", "-a"]).unwrap().all, Some(None));
        assert_eq!(
            plan(&["ripcrm", "--all=msg"]).unwrap().all,
            Some(Some((Kind::Msg, false)))
        );
        assert_eq!(
            plan(&["ripcrm", "-a=psem"]).unwrap().all,
            Some(Some((Kind::Sem, true)))
        );
        let p = plan(&["ripcrm", "-a", "shm"]).unwrap();
        assert_eq!((p.all, p.unknown), (Some(None), Some("shm".to_string())));
        assert_eq!(
            plan(&["ripcrm", "--all=foo"]).unwrap_err().to_string(),
            "unknown argument: foo"
        );
    }

    #[test]
    fn bad_ids_and_keys_stop_before_anything_is_removed() {
        let err = plan(&["ripcrm", "-m", "0", "-m", "abc"]).unwrap_err();
        assert_eq!(
            common::error::one_line(&err),
            "failed to parse argument: 'abc'"
        );
        let err = plan(&["ripcrm", "-M", "zz"]).unwrap_err();
        assert_eq!(
            common::error::one_line(&err),
            "failed to parse argument: 'zz'"
        );
        assert_eq!(parse_key("0xffffffff").unwrap(), -1);
    }
}
