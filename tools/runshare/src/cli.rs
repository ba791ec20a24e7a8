//! The command line (clap, as `runshare::getopt` hands it over) and the
//! man page text beside it.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{CommandFactory, Parser};
use common::getopt::{text, Direct, Parsed};

/// Run a program with some namespaces unshared from the parent.
#[derive(Parser, Debug, Default, PartialEq)]
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

    /// Mount a binfmt_misc filesystem on DIR (default /proc/sys/fs/binfmt_misc, with /proc mounted first) (implies --user and --mount).
    #[arg(long, value_name = "DIR", num_args = 0..=1, require_equals = true, value_parser = path())]
    pub mount_binfmt: Option<Option<PathBuf>>,

    /// Register the binfmt_misc definition DEF (:name:type:offset:magic:mask:interpreter:flags) in the namespace (implies --mount-binfmt).
    #[arg(short = 'l', long, value_name = "DEF")]
    pub load_interp: Option<OsString>,

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

    /// Map the first subordinate user and group ranges of /etc/subuid and /etc/subgid to the same IDs inside (implies --user).
    #[arg(long)]
    pub map_subids: bool,

    /// Map COUNT users from OUTER to INNER; also OUTER,INNER,COUNT, `auto`, `subids` and `all` (implies --user).
    #[arg(long, value_name = "INNER:OUTER:COUNT")]
    pub map_users: Vec<String>,

    /// Map COUNT groups from OUTER to INNER; also OUTER,INNER,COUNT, `auto`, `subids` and `all` (implies --user).
    #[arg(long, value_name = "INNER:OUTER:COUNT")]
    pub map_groups: Vec<String>,

    /// Make the user namespace owned by UID:GID (numbers or names) of this namespace rather than by the caller: root makes one for another user (implies --user).
    #[arg(long, value_name = "UID:GID")]
    pub owner: Option<String>,

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

    /// Run the command with an empty environment (the default shell then comes from the passwd entry).
    #[arg(long)]
    pub clear_env: bool,

    /// Run the command with only the environment variables named in the comma-separated LIST.
    #[arg(long, value_name = "LIST")]
    pub whitelist_env: Option<OsString>,

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

/// Every line unshare's getopt reads, read without clap (`checks` and
/// `plan` judge the values); only a value that is not UTF-8 where clap
/// wants a string is left to it.
impl Direct for Cli {
    fn direct(parsed: &Parsed) -> Option<Cli> {
        let mut cli = Cli::default();
        for (name, value) in &parsed.options {
            let path = || value.clone().map(PathBuf::from);
            // Outer `None`: not UTF-8.
            let string = || match value {
                Some(value) => text(value).map(Some),
                None => Some(None),
            };
            match *name {
                "mount" => cli.mount = Some(path()),
                "uts" => cli.uts = Some(path()),
                "ipc" => cli.ipc = Some(path()),
                "net" => cli.net = Some(path()),
                "pid" => cli.pid = Some(path()),
                "user" => cli.user = Some(path()),
                "cgroup" => cli.cgroup = Some(path()),
                "time" => cli.time = Some(path()),
                "mount-proc" => cli.mount_proc = Some(path()),
                "mount-binfmt" => cli.mount_binfmt = Some(path()),
                "load-interp" => cli.load_interp = value.clone(),
                "propagation" => cli.propagation = string()?,
                "root" => cli.root = path(),
                "wd" => cli.wd = path(),
                "setuid" => cli.setuid = string()?,
                "setgid" => cli.setgid = string()?,
                "map-user" => cli.map_user = string()?,
                "map-group" => cli.map_group = string()?,
                "map-root-user" => cli.map_root_user = true,
                "map-current-user" => cli.map_current_user = true,
                "map-auto" => cli.map_auto = true,
                "map-subids" => cli.map_subids = true,
                "map-users" => cli.map_users.extend(string()?),
                "map-groups" => cli.map_groups.extend(string()?),
                "owner" => cli.owner = string()?,
                "fork" => cli.fork = true,
                "kill-child" => cli.kill_child = Some(string()?),
                "forward-signals" => cli.forward_signals = true,
                "setgroups" => cli.setgroups = string()?,
                "keep-caps" => cli.keep_caps = true,
                "clear-env" => cli.clear_env = true,
                "whitelist-env" => cli.whitelist_env = value.clone(),
                "monotonic" => cli.monotonic = string()?,
                "boottime" => cli.boottime = string()?,
                _ => return None,
            }
        }
        cli.command = parsed.operands.clone();
        Some(cli)
    }
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
                 (user.max_user_namespaces, AppArmor, a missing capability). A map of \
                 COUNT 0 (--map-users=0,65534,0) is refused: it would map nothing.\n\n\
                 With --owner, runshare (as root) takes the owner's effective IDs just \
                 before unshare(2), so that the kernel records them as the user namespace's \
                 owner (the user who holds its capabilities and may setns(2) into it); the \
                 maps, also those of --map-root-user and the like, are written from outside \
                 by a helper that stays root, and namespaces kept with --TYPE=FILE are bound \
                 by one too.\n\n\
                 Run as root, --map-root-user maps root in the new user namespace to the \
                 real root (uid 0 to uid 0): the command is not isolated from the host by \
                 its user namespace. runshare says nothing about it, as unshare.\n\n\
                 The command keeps the terminal, every descriptor and signal disposition \
                 runshare was given (a SIGPIPE or SIGCHLD ignored by the caller stays \
                 ignored; unshare resets SIGCHLD to default) and \
                 the signal mask, as with unshare; runshare's own descriptors (namespace \
                 files, pipes, pidfds) are closed on exec and never reach it.\n\n\
                 The command line is read as unshare's getopt_long reads it: options end \
                 at the program; the short namespace options take no FILE (-m=FILE is an \
                 error: use --mount=FILE); a long option may be shortened while it stays \
                 unambiguous among unshare's options (--fo is --fork); an option given \
                 twice counts with its last value, but a namespace option without FILE \
                 keeps an earlier FILE, and --map-users and --map-groups add up.",
            ),
            (
                "EXIT STATUS",
                "1 if runshare itself fails (also when its output cannot be written: \
                 `write error`), 126 if the program is found but cannot be run, \
                 127 if it is not found, else the exit status of the program; a program \
                 killed by a signal makes runshare end by the same signal.",
            ),
            (
                "EXAMPLES",
                "  runshare -fp --mount-proc ps -eo pid,comm\n\
                 \x20 runshare -U --map-root-user id -u\n\
                 \x20 runshare --whitelist-env=PATH,TERM -r env\n\
                 \x20 runshare --map-subids --map-root-user cat /proc/self/uid_map\n\
                 \x20 runshare -r --load-interp ':qemu-arm:M::\\x7fELF\\x01::/usr/bin/qemu-arm-static:OCF' ./arm-prog\n\
                 \x20 touch /root/uts; runshare --uts=/root/uts hostname x; nsenter --uts=/root/uts hostname",
            ),
            ("SEE ALSO", "unshare(1), unshare(2), nsenter(1), user_namespaces(7)"),
        ],
    }]
}
