//! rchroot: coreutils chroot, plus a root that cannot be climbed out of
//! (`--pivot`) and a way to fill a new root (`--install`).

mod elf;
mod install;
mod pivot;
mod quote;
mod run;
mod user;

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser};
use common::error::{Code, Usage};
use common::getopt::{text, Direct, Parsed};

/// Run COMMAND with root directory set to NEWROOT.
///
/// A drop-in for coreutils chroot (same options, messages and exit codes)
/// that says which ELF interpreter or library is missing when the command
/// cannot start; with --pivot, a root that cannot be climbed out of; with
/// --install, a way to fill NEWROOT with programs and their libraries.
#[derive(Parser, Debug, Default, PartialEq)]
#[command(
    name = "rchroot",
    version,
    infer_long_args = true,
    args_override_self = true,
    disable_help_flag = true,
    disable_version_flag = true,
    override_usage = "rchroot [--userspec=USER:GROUP] [--groups=G_LIST] [--skip-chdir] NEWROOT [COMMAND [ARG]...]\n       \
                      rchroot --pivot [--mount-proc] NEWROOT [COMMAND [ARG]...]\n       \
                      rchroot --install NEWROOT PROGRAM..."
)]
pub struct Cli {
    /// Specify user and group (ID or name) to use.
    #[arg(long, value_name = "USER:GROUP")]
    pub userspec: Option<String>,

    /// Specify supplementary groups as g1,g2,..,gN.
    #[arg(long, value_name = "G_LIST")]
    pub groups: Option<String>,

    /// Do not change the working directory to / (only with NEWROOT = /).
    #[arg(long, conflicts_with = "pivot")]
    pub skip_chdir: bool,

    /// Enter a new private mount namespace and pivot_root(2) into NEWROOT,
    /// detaching the old root: nothing above NEWROOT stays reachable.
    #[arg(long)]
    pub pivot: bool,

    /// With --pivot: mount a fresh proc on NEWROOT/proc, which must be a directory.
    #[arg(long, requires = "pivot")]
    pub mount_proc: bool,

    /// Copy each PROGRAM (searched in PATH when it has no slash) with its ELF
    /// interpreter and every shared library it needs into NEWROOT.
    #[arg(long, conflicts_with_all = ["userspec", "groups", "skip_chdir", "pivot"])]
    pub install: bool,

    // No -h, nor -V: coreutils chroot has neither (`chroot -h` is an invalid option).
    /// Print help
    #[arg(long, action = clap::ArgAction::HelpLong)]
    pub help: Option<bool>,

    /// Print version
    #[arg(long, action = clap::ArgAction::Version)]
    pub version: Option<bool>,

    /// The new root directory.
    // Optional for clap, so that its absence reads "missing operand" as in coreutils.
    pub newroot: Option<PathBuf>,

    /// The command to run, with its arguments (default: "$SHELL -i");
    /// with --install, the programs to copy.
    #[arg(trailing_var_arg = true)]
    pub command: Vec<OsString>,
}

/// Man page text beside the clap definition.
pub fn pages() -> Vec<common::cli::Page> {
    vec![common::cli::Page {
        command: Cli::command(),
        section: "8",
        sections: &[
            (
                "SECURITY",
                "Plain chroot(2), which rchroot uses without --pivot, is not a jail: a process \
                 that is root (CAP_SYS_CHROOT) inside NEWROOT can escape it with mkdir x; \
                 chroot x; chdir .. repeated; chroot . and reach the host's root. rchroot \
                 changes the working directory to / and passes on the descriptors it was given \
                 and none of its own (it opens everything close-on-exec), but cannot stop that.\n\n\
                 --pivot is not escapable that way: the command runs in a new private mount \
                 namespace whose root mount is NEWROOT, and the old root is detached, so no \
                 path, however many .. it holds, leads above NEWROOT. It is not a complete \
                 container either: without user, PID and network namespaces root inside stays \
                 root (see runshare(1)).\n\n\
                 rchroot never runs set-user-ID or set-group-ID, and refuses to exec its own \
                 binary through a /proc magic link such as /proc/self/exe (a #!/proc/self/exe \
                 entry point in NEWROOT, runc CVE-2019-5736). Reaching it by an ordinary path is \
                 allowed: rchroot / rchroot / cmd nests as chroot does. \
                 --install drops set-user-ID and set-group-ID bits from the files it copies, and \
                 refuses a file that is not an executable program (no execute permission, or \
                 neither ELF nor a #! script).",
            ),
            (
                "DIAGNOSTICS",
                "When the command exists in NEWROOT but exec fails with \"No such file or \
                 directory\", its ELF interpreter or a shared library is missing; rchroot \
                 names them:\n\n\
                 \x20 rchroot: failed to run command '/bin/bash': No such file or directory \
                 (missing in NEWROOT: /lib64/ld-linux-x86-64.so.2, libtinfo.so.6, libc.so.6)\n\n\
                 Libraries are looked up inside NEWROOT as the dynamic loader would: \
                 DT_RPATH, DT_RUNPATH, NEWROOT's /etc/ld.so.cache and the standard \
                 directories. --install resolves them the same way on the host (LD_LIBRARY_PATH \
                 is not used), keeps the paths and symbolic links it finds, copies nothing \
                 twice, and removes what it copied if it fails.\n\n\
                 Names in messages are quoted as coreutils quotes them: a command or group as \
                 \u{2018}NAME\u{2019} under a UTF-8 locale and 'NAME' otherwise, a file name \
                 always in shell quotes ('NAME').",
            ),
            (
                "EXIT STATUS",
                "125 if rchroot itself fails, 126 if COMMAND is found but cannot be run, \
                 127 if COMMAND is not found (or its interpreter or a library is missing), \
                 else the exit status of COMMAND. --install exits 0 or 125.",
            ),
            (
                "EXAMPLES",
                "  rchroot --install /srv/root /bin/sh /bin/ls\n\
                 \x20 rchroot /srv/root /bin/ls /\n\
                 \x20 rchroot --userspec=nobody:nogroup --groups=users /srv/root /bin/id\n\
                 \x20 rchroot --pivot --mount-proc /srv/root /bin/sh",
            ),
            (
                "SEE ALSO",
                "chroot(1), chroot(2), pivot_root(2), ld.so(8), runshare(1)",
            ),
        ],
    }]
}

/// How NEWROOT is entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// chroot(2), as coreutils chroot.
    Chroot { skip_chdir: bool },
    /// A private mount namespace and pivot_root(2).
    Pivot { mount_proc: bool },
    /// No command: copy programs into NEWROOT.
    Install,
}

/// What rchroot will do, decided before anything is touched.
#[derive(Debug, PartialEq)]
pub struct Plan {
    pub newroot: PathBuf,
    pub mode: Mode,
    pub userspec: Option<String>,
    pub groups: Option<String>,
    /// The command and its arguments, or the programs to install.
    pub command: Vec<OsString>,
}

impl Plan {
    pub fn new(cli: Cli) -> anyhow::Result<Plan> {
        let Some(newroot) = cli.newroot else {
            return Err(Usage("missing operand".into()).into());
        };
        let old_root = is_old_root(&newroot);
        let mode = if cli.install {
            if cli.command.is_empty() {
                return Err(usage("--install needs at least one PROGRAM"));
            }
            Mode::Install
        } else if cli.pivot {
            if old_root {
                return Err(usage("--pivot needs a NEWROOT other than '/'"));
            }
            Mode::Pivot {
                mount_proc: cli.mount_proc,
            }
        } else {
            if cli.skip_chdir && !old_root {
                return Err(Usage(
                    "option --skip-chdir only permitted if NEWROOT is old '/'".into(),
                )
                .into());
            }
            Mode::Chroot {
                skip_chdir: cli.skip_chdir,
            }
        };
        // coreutils: treat 'user:' like 'user' (the login group is the
        // default); what is left empty (`--userspec=`, `--userspec=:`)
        // changes no id.
        let userspec = cli
            .userspec
            .map(|s| s.strip_suffix(':').map(str::to_string).unwrap_or(s))
            .filter(|s| !s.is_empty());
        let command = if cli.command.is_empty() {
            // coreutils: no command runs an interactive shell.
            vec![common::process::default_shell(), "-i".into()]
        } else {
            cli.command
        };
        Ok(Plan {
            newroot,
            mode,
            userspec,
            groups: cli.groups,
            command,
        })
    }
}

/// coreutils is_root(): NEWROOT resolves to the current root.
fn is_old_root(dir: &Path) -> bool {
    std::fs::canonicalize(dir).is_ok_and(|p| p == Path::new("/"))
}

/// The file execvp(3) runs for `program`: itself when it has a slash, else
/// the first executable regular file of that name in PATH (glibc's default
/// "/bin:/usr/bin" when PATH is unset).
fn in_path(program: &OsStr) -> Option<PathBuf> {
    if program.as_bytes().contains(&b'/') {
        return Some(PathBuf::from(program));
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/bin:/usr/bin".into());
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0))
}

/// A usage error: coreutils chroot exits 125 for those.
fn usage(message: &str) -> anyhow::Error {
    Code(125, message.to_string()).into()
}

/// coreutils chroot's getopt_long options ("+": options end at NEWROOT, so
/// what follows it is the command even when it looks like an option:
/// `chroot DIR --help`, `chroot DIR ls -l`), in its order; rchroot's own
/// after them.
pub const GETOPT: common::getopt::Table = {
    use common::getopt::Has::{No, Required};
    common::getopt::Table {
        short: "+",
        long: &[
            ("groups", Required, None),
            ("userspec", Required, None),
            ("skip-chdir", No, None),
            ("help", No, None),
            ("version", No, None),
            ("pivot", No, None),
            ("mount-proc", No, None),
            ("install", No, None),
        ],
        newer: &["pivot", "mount-proc", "install"],
    }
};

/// `rchroot [--userspec=U:G] [--groups=G] NEWROOT [COMMAND...]` read
/// without clap; the options under clap's rules (--skip-chdir, --pivot,
/// --mount-proc, --install) leave the line to it.
impl Direct for Cli {
    fn direct(parsed: &Parsed) -> Option<Cli> {
        let mut cli = Cli::default();
        for (name, value) in &parsed.options {
            match (*name, value) {
                ("userspec", Some(value)) => cli.userspec = Some(text(value)?),
                ("groups", Some(value)) => cli.groups = Some(text(value)?),
                _ => return None,
            }
        }
        let mut operands = parsed.operands.iter();
        cli.newroot = operands.next().map(PathBuf::from);
        cli.command = operands.cloned().collect();
        Some(cli)
    }
}

/// The binary's whole life, `rchroot` and the multi-call binary's `rchroot`
/// alike (`common::main!`): the command line `args` (`argv[0]` first) read as
/// chroot reads it ([`GETOPT`]), [`run`], and the exit code.
pub fn main(args: impl IntoIterator<Item = std::ffi::OsString>) -> i32 {
    common::cli::main_direct::<Cli>("rchroot", 125, GETOPT.parse(args), run)
}

/// Runs the command in the new root (returns only on failure), or installs
/// programs into it.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    let plan = Plan::new(cli)?;
    match plan.mode {
        Mode::Install => install::install(&plan.newroot, &plan.command),
        Mode::Chroot { skip_chdir } => {
            run::command(&plan, || run::chroot(&plan.newroot, skip_chdir))
        }
        Mode::Pivot { mount_proc } => {
            run::command(&plan, || pivot::pivot(&plan.newroot, mount_proc))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(args: &[&str]) -> anyhow::Result<Plan> {
        let args = GETOPT.argv(args.iter().map(OsString::from)).unwrap();
        Plan::new(Cli::try_parse_from(args).map_err(anyhow::Error::new)?)
    }

    #[test]
    fn options_end_at_newroot() {
        let p = plan(&["rchroot", "/srv", "--help", "-l", "--", "x"]).unwrap();
        assert_eq!(p.command, ["--help", "-l", "--", "x"]);
        let p = plan(&["rchroot", "--user", "nobody", "/srv", "--groups=x"]).unwrap();
        assert_eq!(p.userspec.as_deref(), Some("nobody"));
        assert_eq!(p.command, ["--groups=x"]);
        let p = plan(&["rchroot", "--user", "--groups=x", "/srv"]).unwrap();
        assert_eq!(p.userspec.as_deref(), Some("--groups=x"));
        let p = plan(&["rchroot", "--groups", "-", "-", "id"]).unwrap();
        assert_eq!(p.groups.as_deref(), Some("-"));
        assert_eq!(
            (p.newroot.as_os_str(), &p.command[..]),
            ("-".as_ref(), &["id".into()][..])
        );
    }

    #[test]
    fn abbreviations_and_trailing_user_colon() {
        let p = plan(&["rchroot", "--user=nobody:", "--gr=a,b", "/srv", "id", "-u"]).unwrap();
        assert_eq!(p.userspec.as_deref(), Some("nobody"));
        assert_eq!(p.groups.as_deref(), Some("a,b"));
        assert_eq!(p.command, ["id", "-u"]);
    }

    #[test]
    fn empty_userspec_parts_change_no_id() {
        for spec in ["--userspec=", "--userspec=:", "--user=:"] {
            let p = plan(&["rchroot", spec, "/srv", "id"]).unwrap();
            assert_eq!(p.userspec, None, "{spec}");
        }
        let p = plan(&["rchroot", "--userspec=:0", "/srv"]).unwrap();
        assert_eq!(p.userspec.as_deref(), Some(":0"));
    }

    #[test]
    fn getopt_table_matches_the_options() {
        assert_eq!(GETOPT.differences(Cli::command()), Vec::<String>::new());
    }

    #[test]
    fn direct_reading_is_clap_reading() {
        let read = |words| Some(GETOPT.parse(words));
        let operands: &[&[&str]] = &[&[], &["/"], &["/srv", "ls", "-l"]];
        let (differences, answered) =
            common::getopt::direct_differences::<Cli>(&GETOPT, read, operands);
        assert_eq!(differences, Vec::<String>::new());
        assert!(answered > 10, "{answered}");
        for line in [
            &["rchroot", "/", "/bin/true"][..],
            &["rchroot", "--userspec=0:0", "/srv"],
        ] {
            let parsed = GETOPT.parse(line.iter().map(OsString::from));
            assert!(Cli::direct(&parsed).is_some(), "{line:?}");
        }
    }

    #[test]
    fn the_last_userspec_and_groups_count() {
        // chroot keeps the last optarg of each; clap would refuse a repeat.
        let p = plan(&[
            "rchroot",
            "--user=a",
            "--gr=x",
            "--userspec",
            "b",
            "--g=y",
            "/",
        ])
        .unwrap();
        assert_eq!(
            (p.userspec.as_deref(), p.groups.as_deref()),
            (Some("b"), Some("y"))
        );
    }

    #[test]
    fn double_dash_ends_options() {
        let p = plan(&["rchroot", "--", "/srv", "--pivot"]).unwrap();
        assert_eq!(p.mode, Mode::Chroot { skip_chdir: false });
        assert_eq!(p.command, ["--pivot"]);
    }

    #[test]
    fn skip_chdir_only_with_old_root() {
        let err = plan(&["rchroot", "--skip-chdir", "/nonexistent", "x"]).unwrap_err();
        assert!(err.is::<Usage>());
        assert!(plan(&["rchroot", "--skip-chdir", "/", "x"]).is_ok());
    }

    #[test]
    fn missing_newroot_is_a_usage_error() {
        let err = plan(&["rchroot", "--pivot"]).unwrap_err();
        assert_eq!(err.to_string(), "missing operand");
        assert!(err.is::<Usage>());
    }

    #[test]
    fn pivot_refuses_old_root_and_install_needs_programs() {
        assert!(plan(&["rchroot", "--pivot", "/", "x"]).is_err());
        assert!(plan(&["rchroot", "--install", "/srv"]).is_err());
        assert!(plan(&["rchroot", "--mount-proc", "/srv"]).is_err());
        assert!(plan(&["rchroot", "--install", "--pivot", "/srv", "x"]).is_err());
    }
}
