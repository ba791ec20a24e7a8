//! runshare: util-linux unshare — run a program with some namespaces
//! unshared from the parent — with its refusals made before anything is
//! created and errors that say why a namespace could not be made.

pub mod getopt;
mod idmap;
mod parse;
mod sys;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{CommandFactory, Parser};
use common::ns::Kind;
use common::rollback::Rollback;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::CloneFlags;
use nix::sys::signal::{SigSet, Signal};
use nix::unistd::{fork, getpid, ForkResult, Gid, Pid, Uid};

use idmap::{Range, Spec};
use sys::{Helper, Side};

/// Run a program with some namespaces unshared from the parent.
#[derive(Parser, Debug)]
#[command(name = "runshare", version, infer_long_args = true)]
pub struct Cli {
    /// Unshare the mount namespace; with FILE, keep it by a bind mount there.
    #[arg(short = 'm', long = "mount", value_name = "FILE", num_args = 0..=1, require_equals = true, value_parser = path())]
    pub mount: Option<Option<PathBuf>>,

    /// Unshare the UTS namespace (hostname etc); with FILE, keep it there.
    #[arg(short = 'u', long = "uts", value_name = "FILE", num_args = 0..=1, require_equals = true, value_parser = path())]
    pub uts: Option<Option<PathBuf>>,

    /// Unshare the System V IPC namespace; with FILE, keep it there.
    #[arg(short = 'i', long = "ipc", value_name = "FILE", num_args = 0..=1, require_equals = true, value_parser = path())]
    pub ipc: Option<Option<PathBuf>>,

    /// Unshare the network namespace; with FILE, keep it there.
    #[arg(short = 'n', long = "net", value_name = "FILE", num_args = 0..=1, require_equals = true, value_parser = path())]
    pub net: Option<Option<PathBuf>>,

    /// Unshare the PID namespace; with FILE, keep it there.
    #[arg(short = 'p', long = "pid", value_name = "FILE", num_args = 0..=1, require_equals = true, value_parser = path())]
    pub pid: Option<Option<PathBuf>>,

    /// Unshare the user namespace; with FILE, keep it there.
    #[arg(short = 'U', long = "user", value_name = "FILE", num_args = 0..=1, require_equals = true, value_parser = path())]
    pub user: Option<Option<PathBuf>>,

    /// Unshare the cgroup namespace; with FILE, keep it there.
    #[arg(short = 'C', long = "cgroup", value_name = "FILE", num_args = 0..=1, require_equals = true, value_parser = path())]
    pub cgroup: Option<Option<PathBuf>>,

    /// Unshare the time namespace; with FILE, keep it there.
    #[arg(short = 'T', long = "time", value_name = "FILE", num_args = 0..=1, require_equals = true, value_parser = path())]
    pub time: Option<Option<PathBuf>>,

    /// Mount the proc filesystem on DIR (default /proc) first (implies --mount).
    #[arg(long, value_name = "DIR", num_args = 0..=1, require_equals = true, value_parser = path())]
    pub mount_proc: Option<Option<PathBuf>>,

    /// Modify mount propagation in the mount namespace (default private).
    #[arg(long, value_name = "slave|shared|private|unchanged")]
    pub propagation: Option<String>,

    /// Run the command with root directory set to DIR.
    #[arg(short = 'R', long, value_name = "DIR", value_parser = path())]
    pub root: Option<PathBuf>,

    /// Change working directory to DIR (inside the new root: one outside is refused).
    #[arg(short = 'w', long = "wd", value_name = "DIR", value_parser = path())]
    pub wd: Option<PathBuf>,

    /// Set uid in the entered namespace.
    #[arg(short = 'S', long, value_name = "UID", allow_hyphen_values = true)]
    pub setuid: Option<String>,

    /// Set gid in the entered namespace (and drop supplementary groups).
    #[arg(short = 'G', long, value_name = "GID", allow_hyphen_values = true)]
    pub setgid: Option<String>,

    /// Map the current user to UID (implies --user).
    #[arg(long, value_name = "UID|NAME")]
    pub map_user: Option<String>,

    /// Map the current group to GID (implies --user).
    #[arg(long, value_name = "GID|NAME")]
    pub map_group: Option<String>,

    /// Map the current user and group to root (implies --user).
    #[arg(short = 'r', long)]
    pub map_root_user: bool,

    /// Map the current user and group to themselves (implies --user).
    #[arg(short = 'c', long)]
    pub map_current_user: bool,

    /// Map the first subordinate user and group ranges of /etc/subuid and /etc/subgid (implies --user).
    #[arg(long)]
    pub map_auto: bool,

    /// Map COUNT users from OUTER to INNER; also OUTER,INNER,COUNT, `auto` and `all` (implies --user).
    #[arg(long, value_name = "INNER:OUTER:COUNT")]
    pub map_users: Vec<String>,

    /// Map COUNT groups from OUTER to INNER; also OUTER,INNER,COUNT, `auto` and `all` (implies --user).
    #[arg(long, value_name = "INNER:OUTER:COUNT")]
    pub map_groups: Vec<String>,

    /// Fork before launching the command.
    #[arg(short = 'f', long)]
    pub fork: bool,

    /// When runshare dies, kill the forked child with SIGNAL (default SIGKILL; implies --fork).
    #[arg(long, value_name = "SIGNAL", num_args = 0..=1, require_equals = true)]
    pub kill_child: Option<Option<String>>,

    /// Forward SIGTERM and SIGINT to the child (implies --fork).
    #[arg(long)]
    pub forward_signals: bool,

    /// Control the setgroups syscall in user namespaces.
    #[arg(long, value_name = "allow|deny")]
    pub setgroups: Option<String>,

    /// Retain capabilities granted in user namespaces.
    #[arg(long)]
    pub keep_caps: bool,

    /// Set clock monotonic offset (seconds) in time namespaces.
    #[arg(long, value_name = "OFFSET", allow_hyphen_values = true)]
    pub monotonic: Option<String>,

    /// Set clock boottime offset (seconds) in time namespaces.
    #[arg(long, value_name = "OFFSET", allow_hyphen_values = true)]
    pub boottime: Option<String>,

    /// The program and its arguments (default: $SHELL, else the passwd shell, else /bin/sh).
    #[arg(trailing_var_arg = true, value_name = "PROGRAM")]
    pub command: Vec<OsString>,
}

/// A path as unshare takes it: an empty one too (clap's PathBuf parser
/// refuses it; the system call then says what is wrong with it).
fn path() -> impl clap::builder::TypedValueParser<Value = PathBuf> {
    use clap::builder::TypedValueParser;
    clap::builder::OsStringValueParser::new().map(PathBuf::from)
}

/// Man page text beside the clap definition.
pub fn pages() -> Vec<common::cli::Page> {
    vec![common::cli::Page {
        command: Cli::command(),
        section: "1",
        sections: &[
            (
                "NOTES",
                "A namespace kept with --TYPE=FILE stays until FILE is unmounted \
                 (umount FILE). For --mount=FILE the mount holding FILE must be private \
                 (mount --bind DIR DIR; mount --make-private DIR), which runshare checks \
                 before anything is created. Kernels that number namespaces per CPU \
                 (Linux 6.18) can refuse that bind at random (EINVAL, a false namespace \
                 loop; unshare fails so): runshare then copies the mount namespace again \
                 until the new one is numbered above the old.\n\n\
                 Before anything is created runshare refuses: overlapping map ranges, a \
                 map of more than 340 lines, a --mount-proc target that is not a \
                 directory, a FILE that does not exist. With --root, a --wd outside the \
                 new root (such as /proc/self/fd/N of an inherited descriptor) is refused. \
                 Writes to /proc are refused when /proc is not procfs. When a namespace \
                 cannot be made, the error says why when the system is the reason \
                 (user.max_user_namespaces, AppArmor, a missing capability). Run as root, \
                 --map-root-user maps the namespace's root to the real root: runshare \
                 warns. The command keeps the terminal (as unshare does) and gets only \
                 descriptors 0, 1 and 2.\n\n\
                 The command line is read as unshare's getopt_long reads it: options end \
                 at the program; the short namespace options take no FILE (-m=FILE is an \
                 error: use --mount=FILE); a long option may be shortened while it stays \
                 unambiguous among unshare's options (--fo is --fork); an option given \
                 twice counts with its last value, but a namespace option without FILE \
                 keeps an earlier FILE, and --map-users and --map-groups add up.",
            ),
            (
                "EXIT STATUS",
                "1 if runshare itself fails, 126 if the program is found but cannot be run, \
                 127 if it is not found, else the exit status of the program; a program \
                 killed by a signal makes runshare end by the same signal.",
            ),
            (
                "EXAMPLES",
                "  runshare -fp --mount-proc ps -eo pid,comm\n\
                 \x20 runshare -U --map-root-user id -u\n\
                 \x20 touch /root/uts; runshare --uts=/root/uts hostname x; nsenter --uts=/root/uts hostname",
            ),
            ("SEE ALSO", "unshare(1), unshare(2), nsenter(1), user_namespaces(7)"),
        ],
    }]
}

/// The namespace files bound for persistence, in util-linux's order; PID
/// and time namespaces are those the process's children enter.
const PERSIST: [(Kind, &str); 8] = [
    (Kind::User, "user"),
    (Kind::Cgroup, "cgroup"),
    (Kind::Ipc, "ipc"),
    (Kind::Uts, "uts"),
    (Kind::Net, "net"),
    (Kind::Pid, "pid_for_children"),
    (Kind::Mnt, "mnt"),
    (Kind::Time, "time_for_children"),
];

/// `/proc/self/setgroups` as `--setgroups` sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setgroups {
    Allow,
    Deny,
}

impl Setgroups {
    fn word(self) -> &'static str {
        match self {
            Setgroups::Allow => "allow",
            Setgroups::Deny => "deny",
        }
    }
}

/// Everything runshare will do, decided and checked; nothing touched yet.
#[derive(Debug)]
pub struct Plan {
    pub flags: CloneFlags,
    /// `(namespace file name, FILE)` to bind, in util-linux's order.
    pub persist: Vec<(&'static str, PathBuf)>,
    pub fork: bool,
    /// The signal number (real-time ones too).
    pub kill_child: Option<libc::c_int>,
    pub forward_signals: bool,
    pub mount_proc: Option<PathBuf>,
    /// Empty for `unchanged`.
    pub propagation: MsFlags,
    pub root: Option<PathBuf>,
    pub wd: Option<PathBuf>,
    pub setuid: Option<Uid>,
    pub setgid: Option<Gid>,
    pub keep_caps: bool,
    pub setgroups: Option<Setgroups>,
    /// The inside ID of the caller's own uid/gid, written by the process
    /// itself after unshare (no helper needed).
    pub own_uid: Option<u32>,
    pub own_gid: Option<u32>,
    /// Whole maps, written by a helper left in the parent namespace.
    pub uid_map: Vec<Range>,
    pub gid_map: Vec<Range>,
    pub monotonic: Option<i64>,
    pub boottime: Option<i64>,
    /// Empty: the shell.
    pub argv: Vec<OsString>,
    pub euid: Uid,
    pub egid: Gid,
}

impl Plan {
    pub fn new(cli: Cli) -> anyhow::Result<Plan> {
        let euid = nix::unistd::geteuid();
        let egid = nix::unistd::getegid();
        let mut flags = CloneFlags::empty();
        let mut persist = Vec::new();
        let namespaces = [
            (Kind::Mnt, &cli.mount),
            (Kind::Uts, &cli.uts),
            (Kind::Ipc, &cli.ipc),
            (Kind::Net, &cli.net),
            (Kind::Pid, &cli.pid),
            (Kind::User, &cli.user),
            (Kind::Cgroup, &cli.cgroup),
            (Kind::Time, &cli.time),
        ];
        for (kind, name) in PERSIST {
            let Some((_, Some(Some(file)))) = namespaces.iter().find(|(k, _)| *k == kind) else {
                continue;
            };
            check_persist(kind, file)?;
            persist.push((name, file.clone()));
        }
        for (kind, opt) in namespaces {
            if opt.is_some() {
                flags |= kind.clone_flag();
            }
        }
        let mount_proc = cli
            .mount_proc
            .map(|dir| dir.unwrap_or_else(|| "/proc".into()));
        if mount_proc.is_some() {
            flags |= CloneFlags::CLONE_NEWNS;
        }

        let mut own_uid = None;
        let mut own_gid = None;
        if cli.map_root_user {
            (own_uid, own_gid) = (Some(0), Some(0));
        }
        if cli.map_current_user {
            (own_uid, own_gid) = (Some(euid.as_raw()), Some(egid.as_raw()));
        }
        if let Some(user) = &cli.map_user {
            // -1 is unshare's "no map": the user namespace only.
            own_uid = Some(user_id(user)?).filter(|&id| id != u32::MAX);
        }
        if let Some(group) = &cli.map_group {
            own_gid = Some(group_id(group)?).filter(|&id| id != u32::MAX);
        }
        let mut user_specs = cli
            .map_users
            .iter()
            .map(|s| Spec::parse(s))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut group_specs = cli
            .map_groups
            .iter()
            .map(|s| Spec::parse(s))
            .collect::<anyhow::Result<Vec<_>>>()?;
        if cli.map_auto {
            user_specs.push(Spec::Auto);
            group_specs.push(Spec::Auto);
        }
        let caller = || {
            Ok(idmap::User {
                uid: euid.as_raw(),
                name: nix::unistd::User::from_uid(euid)
                    .ok()
                    .flatten()
                    .map(|u| u.name)
                    .with_context(|| format!("you (user {euid}) don't exist."))?,
            })
        };
        let ranges = |specs: &[Spec], subid: &str, kernel: &str| -> anyhow::Result<Vec<Range>> {
            let mut all = Vec::new();
            for spec in specs {
                all.extend(spec.ranges(Path::new(subid), Path::new(kernel), &caller)?);
            }
            Ok(all)
        };
        let user_ranges = ranges(&user_specs, "/etc/subuid", "/proc/self/uid_map")?;
        let group_ranges = ranges(&group_specs, "/etc/subgid", "/proc/self/gid_map")?;
        let mut uid_map = Vec::new();
        let mut gid_map = Vec::new();
        if !user_ranges.is_empty() {
            uid_map = idmap::merge(&user_ranges, euid.as_raw(), own_uid.take());
            idmap::check(&uid_map, "uid")?;
        }
        if !group_ranges.is_empty() {
            gid_map = idmap::merge(&group_ranges, egid.as_raw(), own_gid.take());
            idmap::check(&gid_map, "gid")?;
        }
        if own_uid.is_some()
            || own_gid.is_some()
            || cli.map_user.is_some()
            || cli.map_group.is_some()
            || !uid_map.is_empty()
            || !gid_map.is_empty()
        {
            flags |= CloneFlags::CLONE_NEWUSER;
        }

        let setgroups = cli.setgroups.as_deref().map(setgroups_named).transpose()?;
        if own_gid.is_some() && setgroups == Some(Setgroups::Allow) {
            bail!("options --setgroups=allow and --map-group are mutually exclusive");
        }
        let propagation = propagation_named(cli.propagation.as_deref().unwrap_or("private"))?;
        let kill_child = match &cli.kill_child {
            None => None,
            Some(None) => Some(libc::SIGKILL),
            Some(Some(name)) => Some(parse::signal(name)?),
        };
        let setuid = cli
            .setuid
            .as_deref()
            .map(|s| parse::id(s, "failed to parse uid").map(Uid::from_raw))
            .transpose()?;
        let setgid = cli
            .setgid
            .as_deref()
            .map(|s| parse::id(s, "failed to parse gid").map(Gid::from_raw))
            .transpose()?;
        let offset = |s: &Option<String>, what: &str| {
            s.as_deref().map(|v| parse::offset(v, what)).transpose()
        };
        let monotonic = offset(&cli.monotonic, "failed to parse monotonic offset")?;
        let boottime = offset(&cli.boottime, "failed to parse boottime offset")?;
        if (monotonic.is_some() || boottime.is_some()) && !flags.contains(common::ns::CLONE_NEWTIME)
        {
            bail!("options --monotonic and --boottime require unsharing of a time namespace (-t)");
        }
        if let Some(dir) = &mount_proc {
            check_proc_target(dir, cli.root.as_deref(), cli.wd.as_deref())?;
        }
        Ok(Plan {
            flags,
            persist,
            fork: cli.fork || kill_child.is_some() || cli.forward_signals,
            kill_child,
            forward_signals: cli.forward_signals,
            mount_proc,
            propagation,
            root: cli.root,
            wd: cli.wd,
            setuid,
            setgid,
            keep_caps: cli.keep_caps,
            setgroups,
            own_uid,
            own_gid,
            uid_map,
            gid_map,
            monotonic,
            boottime,
            argv: cli.command,
            euid,
            egid,
        })
    }

    /// True when the namespace's root is the host's root: no isolation
    /// (the precondition of runc CVE-2019-5736).
    fn root_is_real_root(&self) -> bool {
        let maps_root = |map: &[Range]| {
            map.iter()
                .any(|r| r.inner == 0 && r.outer == 0 && r.count > 0)
        };
        self.euid.is_root() && (self.own_uid == Some(0) || maps_root(&self.uid_map))
    }
}

/// A persistence FILE must exist; for a mount namespace the mount holding
/// it must not be shared, or the kernel refuses the bind (EINVAL) after
/// the namespace was made.
fn check_persist(kind: Kind, file: &Path) -> anyhow::Result<()> {
    let what = || {
        format!(
            "cannot keep the {} namespace on {}",
            kind.name(),
            file.display()
        )
    };
    let full = std::fs::canonicalize(file).with_context(what)?;
    if kind == Kind::Mnt {
        let mounts = common::mountinfo::own()?;
        let holder = mounts
            .iter()
            .filter(|m| full.starts_with(&m.mount_point))
            .max_by_key(|m| m.mount_point.as_os_str().len());
        if let Some(m) = holder.filter(|m| m.shared().is_some()) {
            bail!(
                "{}: the mount {} is shared; make it private first \
                 (mount --bind DIR DIR; mount --make-private DIR)",
                what(),
                m.mount_point.display()
            );
        }
    }
    Ok(())
}

/// `--mount-proc` mounts on DIR after the chroot and chdir; refuse now a
/// DIR that is not a directory there.
fn check_proc_target(dir: &Path, root: Option<&Path>, wd: Option<&Path>) -> anyhow::Result<()> {
    let in_root = |p: &Path| match root {
        Some(r) => r.join(p.strip_prefix("/").unwrap_or(p)),
        None => p.to_path_buf(),
    };
    let target = if dir.is_absolute() {
        in_root(dir)
    } else if let Some(wd) = wd {
        in_root(wd).join(dir)
    } else if root.is_some() {
        // The chroot changes directory to the new root.
        in_root(Path::new("/")).join(dir)
    } else {
        // Relative to the directory runshare runs in.
        dir.to_path_buf()
    };
    let meta =
        std::fs::metadata(&target).with_context(|| format!("mount {} failed", dir.display()))?;
    if !meta.is_dir() {
        return Err(std::io::Error::from_raw_os_error(libc::ENOTDIR))
            .with_context(|| format!("mount {} failed", dir.display()));
    }
    Ok(())
}

/// `--setgroups allow|deny`.
fn setgroups_named(s: &str) -> anyhow::Result<Setgroups> {
    match s {
        "allow" => Ok(Setgroups::Allow),
        "deny" => Ok(Setgroups::Deny),
        _ => bail!("unsupported --setgroups argument '{s}'"),
    }
}

/// `--propagation`: the flags for `/`, empty for `unchanged`.
fn propagation_named(s: &str) -> anyhow::Result<MsFlags> {
    Ok(match s {
        "private" => MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        "slave" => MsFlags::MS_REC | MsFlags::MS_SLAVE,
        "shared" => MsFlags::MS_REC | MsFlags::MS_SHARED,
        "unchanged" => MsFlags::empty(),
        _ => bail!("unsupported propagation mode: {s}"),
    })
}

/// The value of `--OPTION` checked as unshare's getopt loop checks it, if
/// it does: getopt.rs calls this in command-line order, so the first bad
/// value is the one named, and before a later `--help`.
fn check_value(option: &str, value: &str) -> anyhow::Result<()> {
    match option {
        "setuid" => parse::id(value, "failed to parse uid").map(drop),
        "setgid" => parse::id(value, "failed to parse gid").map(drop),
        "map-user" => user_id(value).map(drop),
        "map-group" => group_id(value).map(drop),
        "map-users" | "map-groups" => Spec::parse(value).map(drop),
        "kill-child" => parse::signal(value).map(drop),
        "propagation" => propagation_named(value).map(drop),
        "setgroups" => setgroups_named(value).map(drop),
        "monotonic" => parse::offset(value, "failed to parse monotonic offset").map(drop),
        "boottime" => parse::offset(value, "failed to parse boottime offset").map(drop),
        _ => Ok(()),
    }
}

/// A user name, else a number (`--map-user`; util-linux `get_user`).
fn user_id(s: &str) -> anyhow::Result<u32> {
    match nix::unistd::User::from_name(s).ok().flatten() {
        Some(user) => Ok(user.uid.as_raw()),
        None => parse::id(s, "failed to parse uid"),
    }
}

/// A group name, else a number (`--map-group`; util-linux `get_group`).
fn group_id(s: &str) -> anyhow::Result<u32> {
    match nix::unistd::Group::from_name(s).ok().flatten() {
        Some(group) => Ok(group.gid.as_raw()),
        None => parse::id(s, "failed to parse gid"),
    }
}

/// The binary's whole life: unshare's command line read as getopt_long
/// reads it (usage errors in its words, exit 1), then [`run`].
pub fn main(args: impl IntoIterator<Item = OsString>) -> i32 {
    use std::io::Write;
    // Fail closed before anything, as common::cli::parse_from does.
    if nix::unistd::getuid() != nix::unistd::geteuid()
        || nix::unistd::getgid() != nix::unistd::getegid()
    {
        eprintln!("runshare: refusing to run set-user-ID or set-group-ID");
        return 1;
    }
    let text = match getopt::canonical(args) {
        Ok(getopt::Line::Run(args)) => return common::cli::main::<Cli>("runshare", 1, args, run),
        Ok(getopt::Line::Help) => Cli::command().render_help().to_string(),
        Ok(getopt::Line::Version) => Cli::command().render_version(),
        Err(getopt::Refusal::Usage(usage)) => {
            eprintln!("runshare: {usage}\nTry 'runshare --help' for more information.");
            return 1;
        }
        Err(getopt::Refusal::Value(err)) => {
            return i32::from(common::error::report("runshare", 1, Err(err)));
        }
    };
    // unshare's close_stdout: a help or version that could not be written
    // is a failure.
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("runshare: write error: {}", common::error::strerror(&e));
            1
        }
    }
}

/// Runs the command in its new namespaces; returns the exit code.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    let plan = Plan::new(cli)?;
    if plan.root_is_real_root() {
        eprintln!(
            "runshare: warning: root in the new user namespace is the real root \
             (uid 0 mapped to uid 0): no isolation from the host"
        );
    }
    plan.execute()
}

impl Plan {
    fn execute(self) -> anyhow::Result<u8> {
        // Descriptors inherited from the caller reach neither the command
        // nor newuidmap/newgidmap (runc CVE-2024-21626).
        common::process::cloexec_from(3).context("close_range failed")?;
        let unsharer = getpid();
        // After unshare(2) of a mount or user namespace, this process can no
        // longer bind into the old mount namespace: a helper forked now does.
        let bind_helper = if !self.persist.is_empty()
            && self
                .flags
                .intersects(CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWUSER)
        {
            match Helper::fork()? {
                Side::Helper(rx) => {
                    return helper(rx, || {
                        bind_all(&self.persist, unsharer).map(Rollback::commit)
                    })
                }
                Side::Parent(h) => Some(h),
            }
        } else {
            None
        };
        // Whole maps are written from outside, once, after the unshare: a
        // helper forked now waits for the word (no race with the unshare).
        let map_helper = if !self.uid_map.is_empty() || !self.gid_map.is_empty() {
            match Helper::fork()? {
                Side::Helper(rx) => {
                    drop(bind_helper);
                    return helper(rx, || self.write_maps(unsharer));
                }
                Side::Parent(h) => Some(h),
            }
        } else {
            None
        };

        if self.persist.iter().any(|(name, _)| *name == "mnt") {
            sys::unshare_bindable_mnt(self.flags)?;
        } else {
            sys::unshare(self.flags)?;
        }

        if let Some(h) = map_helper {
            match h.go()? {
                0 => {}
                failed => return Ok(failed),
            }
        }
        if let Some(offset) = self.boottime {
            set_time(libc::CLOCK_BOOTTIME, offset)?;
        }
        if let Some(offset) = self.monotonic {
            set_time(libc::CLOCK_MONOTONIC, offset)?;
        }

        if self.fork {
            return self.fork_and_wait(bind_helper);
        }
        if let Some(code) = self.persist_namespaces(bind_helper)? {
            return Ok(code);
        }
        self.enter()
    }

    /// Binds the namespaces onto their files: through the helper when
    /// there is one, else from here. Some(code) when the helper failed.
    fn persist_namespaces(&self, bind_helper: Option<Helper>) -> anyhow::Result<Option<u8>> {
        match bind_helper {
            Some(h) => Ok(Some(h.go()?).filter(|&c| c != 0)),
            None if !self.persist.is_empty() => {
                bind_all(&self.persist, getpid())?.commit();
                Ok(None)
            }
            None => Ok(None),
        }
    }

    /// `--fork`: the child enters and runs the command; this process waits
    /// and passes its end on.
    fn fork_and_wait(self, bind_helper: Option<Helper>) -> anyhow::Result<u8> {
        // unshare(1) ignores SIGINT and SIGTERM while it waits (the child,
        // in the same process group, gets them from the terminal anyway);
        // --forward-signals passes them on.
        let pass_on = [Signal::SIGINT, Signal::SIGTERM];
        let mask = common::process::block(&pass_on).context("sigprocmask block failed")?;
        let mut wait_for = SigSet::empty();
        wait_for.add(Signal::SIGCHLD);
        if self.forward_signals {
            wait_for = mask;
        }
        let parent_fd = match self.kill_child {
            Some(_) => Some(sys::pidfd_open(getpid()).context("pidfd_open failed")?),
            None => None,
        };
        // SAFETY: runshare is single-threaded, so the child may do anything.
        match unsafe { fork() }.context("fork failed")? {
            ForkResult::Child => {
                common::process::unblock(&mask).context("sigprocmask restore failed")?;
                drop(bind_helper);
                if let (Some(sig), Some(fd)) = (self.kill_child, parent_fd) {
                    if sys::parent_gone(sig, fd)? {
                        return Ok(1);
                    }
                }
                self.enter()
            }
            ForkResult::Parent { child } => {
                drop(parent_fd);
                match self.persist_namespaces(bind_helper) {
                    Ok(None) => {}
                    // The namespaces could not be kept: the child must not
                    // run on as if they were.
                    outcome => {
                        let _ = nix::sys::signal::kill(child, Signal::SIGKILL);
                        let _ = nix::sys::wait::waitpid(child, None);
                        return outcome.map(|c| c.unwrap_or(1));
                    }
                }
                let status =
                    common::process::supervise(child, &wait_for).context("waitpid failed")?;
                Ok(common::process::exit_code(status))
            }
        }
    }

    /// In the new namespaces: maps of one's own ID, setgroups, propagation,
    /// root and directory, /proc, credentials, then the command.
    fn enter(self) -> anyhow::Result<u8> {
        if let Some(inner) = self.own_uid {
            write_own_map("/proc/self/uid_map", inner, self.euid.as_raw())?;
        }
        if let Some(inner) = self.own_gid {
            // Linux 3.19+ (CVE-2014-8989): an unprivileged gid_map write
            // needs setgroups denied first, for good.
            set_groups(Setgroups::Deny)?;
            write_own_map("/proc/self/gid_map", inner, self.egid.as_raw())?;
        }
        if let Some(setgroups) = self.setgroups {
            set_groups(setgroups)?;
        }
        if self.flags.contains(CloneFlags::CLONE_NEWNS) && !self.propagation.is_empty() {
            mount(
                Some("none"),
                "/",
                None::<&str>,
                self.propagation,
                None::<&str>,
            )
            .context("cannot change root filesystem propagation")?;
        }
        let mut wd = self.wd.clone();
        if let Some(root) = &self.root {
            nix::unistd::chroot(root)
                .with_context(|| format!("cannot change root directory to '{}'", root.display()))?;
            wd.get_or_insert_with(|| "/".into());
        }
        if let Some(dir) = &wd {
            nix::unistd::chdir(dir)
                .with_context(|| format!("cannot chdir to '{}'", dir.display()))?;
            // runc CVE-2024-21626: /proc/self/fd/N of an inherited descriptor
            // is a way out of the new root; getcwd fails when the cwd is not
            // below the root.
            if self.root.is_some() && !nix::unistd::getcwd().is_ok_and(|p| p.is_absolute()) {
                bail!(
                    "cannot chdir to '{}': it is outside the new root",
                    dir.display()
                );
            }
        }
        if let Some(proc_dir) = &self.mount_proc {
            self.mount_proc(proc_dir)?;
        }
        if let Some(gid) = self.setgid {
            nix::unistd::setgroups(&[]).context("setgroups failed")?;
            nix::unistd::setgid(gid).context("setgid failed")?;
        }
        if let Some(uid) = self.setuid {
            nix::unistd::setuid(uid).context("setuid failed")?;
        }
        if self.keep_caps && self.flags.contains(CloneFlags::CLONE_NEWUSER) {
            common::caps::permitted_to_ambient()?;
        }
        let err = if self.argv.is_empty() {
            exec_shell()
        } else {
            common::process::exec(&self.argv)
        };
        let program = err.program.to_string_lossy().into_owned();
        Err(anyhow::Error::new(err).context(format!("failed to execute {program}")))
    }

    fn mount_proc(&self, dir: &Path) -> anyhow::Result<()> {
        // Without a new root and with another propagation than private,
        // the old /proc would pass the new mount on: make it private.
        if self.root.is_none() && self.propagation != (MsFlags::MS_REC | MsFlags::MS_PRIVATE) {
            match mount(
                Some("none"),
                dir,
                None::<&str>,
                MsFlags::MS_REC | MsFlags::MS_PRIVATE,
                None::<&str>,
            ) {
                Ok(()) | Err(nix::errno::Errno::EINVAL) => {}
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("cannot change {} filesystem propagation", dir.display())
                    })
                }
            }
        }
        mount(
            Some("proc"),
            dir,
            Some("proc"),
            MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV,
            None::<&str>,
        )
        .with_context(|| format!("mount {} failed", dir.display()))
    }

    /// In the map helper, from the parent namespace: the whole maps of
    /// `pid`, directly when privileged (or only one's own ID is mapped),
    /// else through newuidmap/newgidmap.
    fn write_maps(&self, pid: Pid) -> anyhow::Result<()> {
        let own = |map: &[Range], id: u32| matches!(map, [r] if r.outer == id && r.count == 1);
        for (map, file, helper, id) in [
            (&self.uid_map, "uid_map", "newuidmap", self.euid.as_raw()),
            (&self.gid_map, "gid_map", "newgidmap", self.egid.as_raw()),
        ] {
            if map.is_empty() {
                continue;
            }
            if self.euid.is_root() || own(map, id) {
                if file == "gid_map" && !self.euid.is_root() {
                    sys::write_proc(
                        Path::new(&format!("/proc/{pid}/setgroups")),
                        "deny",
                        "cannot open",
                        "write failed",
                    )?;
                }
                let text = idmap::render(map);
                let path = PathBuf::from(format!("/proc/{pid}/{file}"));
                if text.len() > 4096 {
                    bail!("{} too large for kernel 4k limit", path.display());
                }
                sys::write_proc(&path, &text, "failed to open", "failed to write")?;
            } else {
                new_idmap(helper, pid, map)?;
            }
        }
        Ok(())
    }
}

/// Runs `newuidmap PID INNER OUTER COUNT...` (or newgidmap) to its end.
fn new_idmap(helper: &str, pid: Pid, map: &[Range]) -> anyhow::Result<()> {
    let mut cmd = std::process::Command::new(helper);
    cmd.arg(pid.to_string());
    for r in map {
        cmd.args([
            r.inner.to_string(),
            r.outer.to_string(),
            r.count.to_string(),
        ]);
    }
    let status = cmd.status().map_err(|source| {
        anyhow::Error::new(common::error::Exec {
            program: helper.into(),
            source,
        })
        .context(format!("failed to execute {helper}"))
    })?;
    if !status.success() {
        bail!("{helper} failed: {status}");
    }
    Ok(())
}

/// Runs the helper's work when told to; its exit code.
fn helper(
    rx: std::os::fd::OwnedFd,
    work: impl FnOnce() -> anyhow::Result<()>,
) -> anyhow::Result<u8> {
    if !Side::wait(rx) {
        return Ok(1);
    }
    work().map(|()| 0)
}

/// Binds `/proc/PID/ns/*` onto each FILE; undone on drop unless committed.
fn bind_all(persist: &[(&str, PathBuf)], pid: Pid) -> anyhow::Result<Rollback> {
    let mut undo = Rollback::default();
    for (name, file) in persist {
        let src = PathBuf::from(format!("/proc/{pid}/ns/{name}"));
        mount(
            Some(&src),
            file,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .with_context(|| format!("mount {} on {} failed", src.display(), file.display()))?;
        let file = file.clone();
        undo.push(move || {
            let _ = umount2(&file, MntFlags::MNT_DETACH);
        });
    }
    Ok(undo)
}

/// `INNER OUTER 1` into one's own map, as util-linux `map_id` writes it.
fn write_own_map(path: &str, inner: u32, outer: u32) -> anyhow::Result<()> {
    sys::write_proc(
        Path::new(path),
        &format!("{inner} {outer} 1"),
        "cannot open",
        "write failed",
    )
}

/// `/proc/self/setgroups`; a kernel without it (before 3.19) is left alone.
fn set_groups(value: Setgroups) -> anyhow::Result<()> {
    let path = Path::new("/proc/self/setgroups");
    match sys::write_proc(path, value.word(), "cannot open", "write failed") {
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound)
            }) =>
        {
            Ok(())
        }
        other => other,
    }
}

/// An offset of the time namespace the children will enter: written
/// before the fork, as only children enter it.
fn set_time(clock: libc::clockid_t, offset: i64) -> anyhow::Result<()> {
    let path = Path::new("/proc/self/timens_offsets");
    sys::write_proc(
        path,
        &format!("{clock} {offset} 0"),
        "failed to open",
        "failed to write to",
    )
}

/// The default command: $SHELL, else the passwd shell, else /bin/sh, as a
/// login shell (`-NAME`) like util-linux `exec_shell`.
fn exec_shell() -> common::error::Exec {
    let shell: OsString = std::env::var_os("SHELL")
        .filter(|s| !s.is_empty())
        .or_else(|| {
            nix::unistd::User::from_uid(nix::unistd::geteuid())
                .ok()
                .flatten()
                .map(|u| u.shell.into_os_string())
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| "/bin/sh".into());
    common::process::exec_login_shell(shell)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(args: &[&str]) -> anyhow::Result<Plan> {
        let mut argv = vec!["runshare"];
        argv.extend_from_slice(args);
        Plan::new(Cli::try_parse_from(argv)?)
    }

    #[test]
    fn short_flags_cluster() {
        let p = plan(&["-muinpf", "/bin/true"]).unwrap();
        assert!(p.fork);
        assert_eq!(
            p.flags,
            CloneFlags::CLONE_NEWNS
                | CloneFlags::CLONE_NEWUTS
                | CloneFlags::CLONE_NEWIPC
                | CloneFlags::CLONE_NEWNET
                | CloneFlags::CLONE_NEWPID
        );
        assert_eq!(p.argv, vec![OsString::from("/bin/true")]);
    }

    #[test]
    fn options_stop_at_the_program() {
        let p = plan(&["-n", "ip", "-4", "a"]).unwrap();
        assert_eq!(p.argv, ["ip", "-4", "a"].map(OsString::from).to_vec());
        assert_eq!(p.flags, CloneFlags::CLONE_NEWNET);
    }

    #[test]
    fn optional_arguments_are_attached_only() {
        let p = plan(&["--mount", "x"]).unwrap();
        assert!(p.persist.is_empty());
        assert_eq!(p.argv, vec![OsString::from("x")]);
        let p = plan(&["--mount-proc", "x"]).unwrap();
        assert_eq!(p.mount_proc, Some("/proc".into()));
        assert!(p.flags.contains(CloneFlags::CLONE_NEWNS));
    }

    #[test]
    fn map_root_user_implies_user() {
        let p = plan(&["-r", "id"]).unwrap();
        assert_eq!(p.flags, CloneFlags::CLONE_NEWUSER);
        assert_eq!((p.own_uid, p.own_gid), (Some(0), Some(0)));
    }

    #[test]
    fn kill_child_and_forward_signals_imply_fork() {
        let p = plan(&["--kill-child=term", "true"]).unwrap();
        assert!(p.fork);
        assert_eq!(p.kill_child, Some(libc::SIGTERM));
        assert_eq!(
            plan(&["--kill-child", "true"]).unwrap().kill_child,
            Some(libc::SIGKILL)
        );
        assert!(plan(&["--forward-signals", "true"]).unwrap().fork);
    }

    #[test]
    fn bad_values_say_what_unshare_says() {
        let err = |args: &[&str]| common::error::one_line(&plan(args).unwrap_err());
        assert_eq!(err(&["-S", "abc"]), "failed to parse uid: 'abc'");
        assert_eq!(
            err(&["--propagation", "x"]),
            "unsupported propagation mode: x"
        );
        assert_eq!(
            err(&["--setgroups", "x"]),
            "unsupported --setgroups argument 'x'"
        );
        assert_eq!(err(&["--kill-child=FOO"]), "unknown signal: FOO");
        assert_eq!(
            err(&["--monotonic", "5"]),
            "options --monotonic and --boottime require unsharing of a time namespace (-t)"
        );
        assert_eq!(
            err(&["-r", "--setgroups", "allow"]),
            "options --setgroups=allow and --map-group are mutually exclusive"
        );
        assert_eq!(
            err(&["--map-users=0:100000:10", "--map-users=5:200000:10"]),
            "uid ranges 0:100000:10 and 5:200000:10 overlap inside the namespace"
        );
    }

    #[test]
    fn time_offsets_take_negative_numbers() {
        let p = plan(&["-T", "--monotonic", "-5", "--boottime=7", "true"]).unwrap();
        assert_eq!((p.monotonic, p.boottime), (Some(-5), Some(7)));
    }
}
