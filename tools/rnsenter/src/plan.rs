//! What rnsenter will do, decided from the command line before anything
//! is opened: which namespaces from where, directories, ids.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use anyhow::bail;
use common::ns::Kind;

use crate::{Cli, Id};

/// Where a namespace, root or working directory comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum From {
    /// The target process's (/proc/PID/...).
    Target,
    /// A path as given on the command line (a namespace name is resolved when opened).
    Path(PathBuf),
}

/// What rnsenter will do, decided before anything is opened.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    pub target: Option<i32>,
    /// The namespaces named by options, in command-line option order.
    pub namespaces: Vec<(Kind, From)>,
    /// -a: every other namespace of the target that can be entered.
    pub all: bool,
    pub user_parent: bool,
    pub root: Option<From>,
    pub wd: Option<From>,
    pub wdns: Option<PathBuf>,
    pub env: bool,
    pub uid: Option<Id>,
    pub gid: Option<Id>,
    pub preserve_credentials: bool,
    pub keep_caps: bool,
    pub no_fork: bool,
    pub join_cgroup: bool,
    /// -N: the socket of the target whose network namespace to enter.
    pub net_socket: Option<i32>,
    /// -Z: run in the target's SELinux context (when SELinux is on).
    pub follow_context: bool,
    pub command: Vec<OsString>,
}

fn from(value: Option<PathBuf>) -> From {
    value.map_or(From::Target, From::Path)
}

/// util-linux 2.41 reads `-w=DIR` and `-W=DIR` as DIR (getopt hands the
/// `=` on with an attached argument).
fn without_equals(dir: PathBuf) -> PathBuf {
    match dir.as_os_str().as_bytes().strip_prefix(b"=") {
        Some(rest) => PathBuf::from(std::ffi::OsStr::from_bytes(rest)),
        None => dir,
    }
}

impl Plan {
    pub fn new(cli: Cli) -> anyhow::Result<Plan> {
        let named = [
            (Kind::Mnt, cli.mount),
            (Kind::Uts, cli.uts),
            (Kind::Ipc, cli.ipc),
            (Kind::Net, cli.net),
            (Kind::Pid, cli.pid),
            (Kind::Cgroup, cli.cgroup),
            (Kind::User, cli.user),
            (Kind::Time, cli.time),
        ];
        let mut namespaces = Vec::new();
        for (kind, value) in named {
            if let Some(value) = value {
                namespaces.push((kind, from(value)));
            }
        }
        // Entering nothing (only -r, -w, or not even those) runs the command
        // as nsenter 2.38 does; 2.41 refuses it ("no namespace specified").
        if cli.wd.is_some() && cli.wdns.is_some() {
            // util-linux err_exclusive_options, in nsenter's words.
            bail!("mutually exclusive arguments: --wdns --wd");
        }
        let plan = Plan {
            target: cli.target,
            namespaces,
            all: cli.all,
            user_parent: cli.user_parent,
            root: cli.root.map(from),
            wd: cli.wd.map(|wd| from(wd.map(without_equals))),
            wdns: cli.wdns.flatten().map(without_equals),
            env: cli.env,
            uid: cli.setuid,
            gid: cli.setgid,
            preserve_credentials: cli.preserve_credentials,
            keep_caps: cli.keep_caps,
            no_fork: cli.no_fork,
            join_cgroup: cli.join_cgroup,
            net_socket: cli.net_socket,
            follow_context: cli.follow_context,
            command: cli.command,
        };
        if plan.target.is_none() {
            if let Some(what) = plan.needs_target() {
                bail!("no target PID specified for {what}");
            }
        }
        Ok(plan)
    }

    /// The first thing asked for that only a target process can give.
    fn needs_target(&self) -> Option<String> {
        let user_given = self
            .namespaces
            .iter()
            .any(|(k, f)| *k == Kind::User && *f != From::Target);
        let uses = [
            (self.all, "--all"),
            (self.user_parent && !user_given, "--user-parent"),
            (self.root == Some(From::Target), "--root"),
            (self.wd == Some(From::Target), "--wd"),
            (self.env, "--env"),
            (self.uid == Some(Id::Follow), "--setuid follow"),
            (self.gid == Some(Id::Follow), "--setgid follow"),
            (self.join_cgroup, "--join-cgroup"),
            (self.net_socket.is_some(), "--net-socket"),
        ];
        self.namespaces
            .iter()
            .find(|(_, f)| *f == From::Target)
            .map(|(k, _)| format!("the {} namespace", k.name()))
            .or_else(|| {
                uses.iter()
                    .find(|(used, _)| *used)
                    .map(|(_, o)| o.to_string())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GETOPT;
    use clap::Parser;

    fn plan(args: &[&str]) -> anyhow::Result<Plan> {
        let argv = std::iter::once("rnsenter").chain(args.iter().copied());
        Plan::new(Cli::try_parse_from(
            GETOPT.argv(argv.map(Into::into)).unwrap(),
        )?)
    }

    #[test]
    fn options_are_read_as_getopt_reads_them() {
        // `-mu` is -m with FILE "u"; the program ends the options.
        let p = plan(&["-at42", "-mu", "-n/run/x", "ls", "-n"]).unwrap();
        assert_eq!((p.all, p.target), (true, Some(42)));
        assert!(p.namespaces.contains(&(Kind::Mnt, From::Path("u".into()))));
        assert!(p
            .namespaces
            .contains(&(Kind::Net, From::Path("/run/x".into()))));
        assert_eq!(p.command, ["ls", "-n"]);
        // A required value is taken whatever it looks like.
        let err = plan(&["--targ", "7", "-n", "-S", "-1", "true"]).unwrap_err();
        assert!(err.to_string().contains("'-1' is not a number"), "{err}");
    }

    #[test]
    fn options_take_attached_files_only() {
        let p = plan(&["-t", "7", "--net=/run/netns/RED", "-m", "ls", "-l"]).unwrap();
        assert_eq!(
            p.namespaces,
            vec![
                (Kind::Mnt, From::Target),
                (Kind::Net, From::Path("/run/netns/RED".into()))
            ]
        );
        assert_eq!(p.command, ["ls", "-l"]);
        let p = plan(&["-n", "RED"]).unwrap_err();
        assert_eq!(
            p.to_string(),
            "no target PID specified for the net namespace"
        );
    }

    #[test]
    fn nothing_to_enter_runs_the_command_as_2_38_does() {
        for args in [
            &["-t", "1", "true"][..],
            &["-t", "1", "-r", "-w", "pwd"],
            &["true"],
        ] {
            let p = plan(args).unwrap();
            assert!(p.namespaces.is_empty() && !p.all, "{args:?}");
        }
        let p = plan(&["-t", "1", "-r", "-w"]).unwrap();
        assert_eq!((p.root, p.wd), (Some(From::Target), Some(From::Target)));
    }

    #[test]
    fn the_last_target_counts() {
        let p = plan(&["-t", "1", "--target=2", "-t3", "-n", "true"]).unwrap();
        assert_eq!(p.target, Some(3));
        let p = plan(&["-n/a", "-n/b", "true"]).unwrap();
        assert_eq!(p.namespaces, [(Kind::Net, From::Path("/b".into()))]);
    }

    #[test]
    fn wdns_takes_the_next_word_when_short() {
        // nsenter 2.38: -W DIR; --wdns DIR is --wdns and the program DIR.
        let p = plan(&["-t", "1", "-m", "-W", "/tmp", "pwd"]).unwrap();
        assert_eq!(
            (p.wdns, &p.command[..]),
            (Some("/tmp".into()), &["pwd".into()][..])
        );
        let p = plan(&["-t", "1", "-m", "-W/tmp", "pwd"]).unwrap();
        assert_eq!(p.wdns, Some("/tmp".into()));
        let p = plan(&["-t", "1", "-m", "--wdns", "/tmp"]).unwrap();
        assert_eq!((p.wdns, &p.command[..]), (None, &["/tmp".into()][..]));
        // util-linux 2.41 drops the `=` of -W=DIR and -w=DIR.
        let p = plan(&["-t", "1", "-m", "-W=/tmp", "-n"]).unwrap();
        assert_eq!(p.wdns, Some("/tmp".into()));
        let p = plan(&["-t", "1", "-m", "-w=/srv"]).unwrap();
        assert_eq!(p.wd, Some(From::Path("/srv".into())));
        let err = GETOPT.argv(["rnsenter", "-m", "-W"].map(Into::into));
        assert_eq!(err, Err("option requires an argument -- 'W'".to_string()));
    }

    #[test]
    fn net_socket_and_follow_context() {
        let p = plan(&["-t", "1", "-N", "3", "-Z", "true"]).unwrap();
        assert_eq!((p.net_socket, p.follow_context), (Some(3), true));
        let p = plan(&["--target=1", "--net-socket=4", "--follow-context"]).unwrap();
        assert_eq!((p.net_socket, p.follow_context), (Some(4), true));
        let err = plan(&["-N", "3", "true"]).unwrap_err();
        assert_eq!(err.to_string(), "no target PID specified for --net-socket");
        assert!(plan(&["-t", "1", "-N", "-1"]).is_err());
        assert!(plan(&["-t", "1", "-N", "x"]).is_err());
        // -Z needs a target only when SELinux is on, as in nsenter.
        assert!(plan(&["-Z", "true"]).is_ok());
    }

    #[test]
    fn target_only_options_need_a_target() {
        let err = plan(&["--net=RED", "-r", "true"]).unwrap_err();
        assert_eq!(err.to_string(), "no target PID specified for --root");
        let err = plan(&["--net=RED", "-S", "follow"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no target PID specified for --setuid follow"
        );
        assert!(plan(&["--user=/x", "--user-parent"]).is_ok());
        assert!(plan(&["--net=RED", "-S", "0", "-r=/x"]).is_ok());
    }

    #[test]
    fn ids_are_numbers_or_follow() {
        let p = plan(&["-t", "1", "-U", "-S", "follow", "-G", "5"]).unwrap();
        assert_eq!((p.uid, p.gid), (Some(Id::Follow), Some(Id::Fixed(5))));
        assert!(plan(&["-t", "1", "-U", "-S", "root"]).is_err());
    }

    #[test]
    fn wd_and_wdns_exclude_each_other() {
        let err = plan(&["-t", "1", "-m", "-w", "-W=/tmp"]).unwrap_err();
        assert_eq!(err.to_string(), "mutually exclusive arguments: --wdns --wd");
        let p = plan(&["-t", "1", "-m", "--wdns=/tmp"]).unwrap();
        assert_eq!(p.wdns, Some(PathBuf::from("/tmp")));
    }

    #[test]
    fn empty_file_is_a_usage_error() {
        let err = Cli::try_parse_from(["rnsenter", "--net=", "true"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::InvalidValue);
    }
}
