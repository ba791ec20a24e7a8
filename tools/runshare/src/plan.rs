//! What runshare will do, decided and checked before anything is touched:
//! the namespaces, the helpers' work (persistence binds, whole maps) and
//! the privileged steps in the new namespaces, in the order they run.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::bail;
use common::ns::Kind;
use nix::mount::MsFlags;
use nix::sched::CloneFlags;
use nix::unistd::{Gid, Uid};

use crate::checks::{
    check_persist, check_proc_target, owner_named, propagation_named, setgroups_named,
};
use crate::idmap::{self, Range};
use crate::{parse, Cli};

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

/// Where `--mount-binfmt` and `--load-interp` mount binfmt_misc by default.
const BINFMT_MISC: &str = "/proc/sys/fs/binfmt_misc";

/// `/proc/self/setgroups` as `--setgroups` sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setgroups {
    Allow,
    Deny,
}

impl Setgroups {
    pub fn word(self) -> &'static str {
        match self {
            Setgroups::Allow => "allow",
            Setgroups::Deny => "deny",
        }
    }
}

/// One privileged step in the new namespaces, as unshare takes them: maps
/// of one's own IDs, setgroups, propagation, binfmt_misc, root and
/// directory, /proc, binfmt_misc, group, user, capabilities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `INNER OUTER 1` into /proc/self/uid_map.
    MapOwnUid {
        inner: u32,
        outer: u32,
    },
    /// /proc/self/setgroups.
    Setgroups(Setgroups),
    /// `INNER OUTER 1` into /proc/self/gid_map (after setgroups deny).
    MapOwnGid {
        inner: u32,
        outer: u32,
    },
    /// Propagation of `/`, recursively.
    Propagation(MsFlags),
    /// A binfmt_misc filesystem on the directory.
    MountBinfmt(PathBuf),
    /// A definition written to `DIR/register`.
    LoadInterp {
        binfmt: PathBuf,
        definition: OsString,
    },
    Chroot(PathBuf),
    /// `inside_root`: refuse a directory that getcwd finds outside the new
    /// root (runc CVE-2024-21626).
    Chdir {
        dir: PathBuf,
        inside_root: bool,
    },
    /// proc on the directory; `private` first makes the old mount there
    /// private, so that the new one is not passed on.
    MountProc {
        dir: PathBuf,
        private: bool,
    },
    /// No supplementary groups, then the gid.
    Setgid(Gid),
    Setuid(Uid),
    /// Permitted capabilities made ambient, to survive exec.
    KeepCaps,
    /// The environment emptied but for the variables named (`--clear-env`:
    /// none; `--whitelist-env`).
    ClearEnv {
        keep: Vec<OsString>,
    },
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
    /// Whole maps, written by a helper left in the parent namespace.
    pub uid_map: Vec<Range>,
    pub gid_map: Vec<Range>,
    pub monotonic: Option<i64>,
    pub boottime: Option<i64>,
    /// `--owner`: the effective IDs taken just before unshare(2).
    pub owner: Option<(Uid, Gid)>,
    /// What the process does in its new namespaces before the command.
    pub steps: Vec<Step>,
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
        // util-linux: --load-interp implies --mount-binfmt, whose default
        // directory is below a /proc mounted first.
        let binfmt = match (&cli.mount_binfmt, &cli.load_interp) {
            (Some(Some(dir)), _) => Some(dir.clone()),
            (Some(None), _) | (None, Some(_)) => Some(PathBuf::from(BINFMT_MISC)),
            (None, None) => None,
        };
        let mut mount_proc = cli
            .mount_proc
            .clone()
            .map(|dir| dir.unwrap_or_else(|| "/proc".into()));
        if binfmt.as_deref() == Some(Path::new(BINFMT_MISC)) {
            mount_proc.get_or_insert_with(|| "/proc".into());
        }
        if mount_proc.is_some() {
            flags |= CloneFlags::CLONE_NEWNS;
        }
        if binfmt.is_some() {
            flags |= CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWUSER;
        }

        let (mut own_uid, mut own_gid, mut uid_map, mut gid_map) =
            idmap::from_cli(&cli, euid, egid)?;
        let owner = cli.owner.as_deref().map(owner_named).transpose()?;
        if owner.is_some() {
            // Once the process has taken the owner's IDs, its own maps are
            // written by the helper (as util-linux does).
            let single = |inner: Option<u32>, outer: Uid| {
                inner.map(|inner| Range {
                    inner,
                    outer: outer.as_raw(),
                    count: 1,
                })
            };
            uid_map.extend(single(own_uid.take(), euid));
            gid_map.extend(single(own_gid.take(), Uid::from_raw(egid.as_raw())));
        }
        // Every map option makes the user namespace, whatever it maps
        // (util-linux sets the flag as it reads each one).
        if cli.map_root_user
            || owner.is_some()
            || cli.map_current_user
            || cli.map_user.is_some()
            || cli.map_group.is_some()
            || cli.map_auto
            || cli.map_subids
            || !cli.map_users.is_empty()
            || !cli.map_groups.is_empty()
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

        let mut steps = Vec::new();
        if let Some(inner) = own_uid {
            steps.push(Step::MapOwnUid {
                inner,
                outer: euid.as_raw(),
            });
        }
        if let Some(inner) = own_gid {
            // Linux 3.19+ (CVE-2014-8989): an unprivileged gid_map write
            // needs setgroups denied first, for good.
            steps.push(Step::Setgroups(Setgroups::Deny));
            steps.push(Step::MapOwnGid {
                inner,
                outer: egid.as_raw(),
            });
        }
        steps.extend(setgroups.map(Step::Setgroups));
        if flags.contains(CloneFlags::CLONE_NEWNS) && !propagation.is_empty() {
            steps.push(Step::Propagation(propagation));
        }
        // A definition with the F flag opens its interpreter when it is
        // registered: before the chroot, from the old root (util-linux).
        let fixed = cli.load_interp.as_ref().is_some_and(|d| is_fixed(d));
        let early_interp = fixed && cli.root.is_some();
        if let (true, Some(definition)) = (early_interp, &cli.load_interp) {
            steps.push(Step::MountBinfmt(BINFMT_MISC.into()));
            steps.push(Step::LoadInterp {
                binfmt: BINFMT_MISC.into(),
                definition: definition.clone(),
            });
        }
        let mut wd = cli.wd;
        if let Some(root) = &cli.root {
            steps.push(Step::Chroot(root.clone()));
            wd.get_or_insert_with(|| "/".into());
        }
        if let Some(dir) = wd {
            steps.push(Step::Chdir {
                dir,
                inside_root: cli.root.is_some(),
            });
        }
        if let Some(dir) = mount_proc {
            // Without a new root and with another propagation than
            // private, the old /proc would pass the new mount on.
            let private =
                cli.root.is_none() && propagation != (MsFlags::MS_REC | MsFlags::MS_PRIVATE);
            steps.push(Step::MountProc { dir, private });
        }
        if let Some(dir) = binfmt {
            steps.push(Step::MountBinfmt(dir.clone()));
            if let (false, Some(definition)) = (early_interp, cli.load_interp) {
                steps.push(Step::LoadInterp {
                    binfmt: dir,
                    definition,
                });
            }
        }
        if let Some(gid) = setgid {
            steps.push(Step::Setgid(gid));
        }
        if let Some(uid) = setuid {
            steps.push(Step::Setuid(uid));
        }
        if cli.keep_caps && flags.contains(CloneFlags::CLONE_NEWUSER) {
            steps.push(Step::KeepCaps);
        }
        if let Some(list) = &cli.whitelist_env {
            use std::os::unix::ffi::OsStrExt;
            let keep = list.as_bytes().split(|&b| b == b',');
            let keep = keep.map(|name| std::ffi::OsStr::from_bytes(name).to_os_string());
            steps.push(Step::ClearEnv {
                keep: keep.collect(),
            });
        } else if cli.clear_env {
            steps.push(Step::ClearEnv { keep: Vec::new() });
        }

        Ok(Plan {
            flags,
            persist,
            fork: cli.fork || kill_child.is_some() || cli.forward_signals,
            kill_child,
            forward_signals: cli.forward_signals,
            uid_map,
            gid_map,
            monotonic,
            boottime,
            owner: owner.map(|(u, g)| (Uid::from_raw(u), Gid::from_raw(g))),
            steps,
            argv: cli.command,
            euid,
            egid,
        })
    }
}

/// util-linux `is_fixed`: the flags after the last `:` include F.
fn is_fixed(definition: &std::ffi::OsStr) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let bytes = definition.as_bytes();
    bytes
        .iter()
        .rposition(|&b| b == b':')
        .is_some_and(|i| bytes[i..].contains(&b'F'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

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
        assert!(p.steps.contains(&Step::MountProc {
            dir: "/proc".into(),
            private: false
        }));
        assert!(p.flags.contains(CloneFlags::CLONE_NEWNS));
    }

    #[test]
    fn map_root_user_implies_user() {
        let p = plan(&["-r", "id"]).unwrap();
        assert_eq!(p.flags, CloneFlags::CLONE_NEWUSER);
        let (uid, gid) = (p.euid.as_raw(), p.egid.as_raw());
        assert_eq!(
            p.steps,
            [
                Step::MapOwnUid {
                    inner: 0,
                    outer: uid
                },
                Step::Setgroups(Setgroups::Deny),
                Step::MapOwnGid {
                    inner: 0,
                    outer: gid
                },
            ]
        );
    }

    /// Every map option makes the user namespace, also one that maps no
    /// one of its own (`--map-user=-1`); a map of count 0 is refused.
    #[test]
    fn map_options_always_make_the_user_namespace() {
        for args in [
            &["--map-users=0:100000:10", "true"][..],
            &["--map-groups=100000,0,10", "true"],
            &["--map-user=-1", "true"],
            &["--map-group=-1", "true"],
            &["-c", "true"],
        ] {
            let p = plan(args).unwrap();
            assert!(p.flags.contains(CloneFlags::CLONE_NEWUSER), "{args:?}");
        }
        let err = |args: &[&str]| common::error::one_line(&plan(args).unwrap_err());
        assert_eq!(
            err(&["--map-users=0,65534,0", "id"]),
            "invalid mapping '0,65534,0': a count of 0 maps nothing"
        );
        assert_eq!(
            err(&["--map-groups=0:65534:0", "id"]),
            "invalid mapping '0:65534:0': a count of 0 maps nothing"
        );
    }

    /// The privileged steps run in unshare's order: maps, setgroups,
    /// propagation, root, directory, /proc, binfmt_misc, group, user,
    /// capabilities, environment — whatever the order of the options.
    #[test]
    fn privileged_steps_come_in_unshares_order() {
        let p = plan(&[
            "--whitelist-env=PATH,TERM",
            "--keep-caps",
            "-S1",
            "-G2",
            "--mount-binfmt=/b",
            "--load-interp=:x:E::x::/i:",
            "--mount-proc=/proc",
            "-w/tmp",
            "-R/",
            "--propagation=slave",
            "--setgroups=deny",
            "--map-user=7",
            "--map-group=8",
            "-m",
            "true",
        ])
        .unwrap();
        let (uid, gid) = (p.euid.as_raw(), p.egid.as_raw());
        assert_eq!(
            p.steps,
            [
                Step::MapOwnUid {
                    inner: 7,
                    outer: uid
                },
                Step::Setgroups(Setgroups::Deny),
                Step::MapOwnGid {
                    inner: 8,
                    outer: gid
                },
                Step::Setgroups(Setgroups::Deny),
                Step::Propagation(MsFlags::MS_REC | MsFlags::MS_SLAVE),
                Step::Chroot("/".into()),
                Step::Chdir {
                    dir: "/tmp".into(),
                    inside_root: true
                },
                Step::MountProc {
                    dir: "/proc".into(),
                    private: false
                },
                Step::MountBinfmt("/b".into()),
                Step::LoadInterp {
                    binfmt: "/b".into(),
                    definition: ":x:E::x::/i:".into()
                },
                Step::Setgid(Gid::from_raw(2)),
                Step::Setuid(Uid::from_raw(1)),
                Step::KeepCaps,
                Step::ClearEnv {
                    keep: vec!["PATH".into(), "TERM".into()]
                },
            ]
        );
    }

    /// With --owner the process gives up its IDs before unshare(2): the
    /// maps of its own IDs become whole maps, written by the helper.
    #[test]
    fn owner_moves_own_maps_to_the_helper() {
        let p = plan(&["--owner=7:8", "-r", "true"]).unwrap();
        assert_eq!(p.owner, Some((Uid::from_raw(7), Gid::from_raw(8))));
        assert!(p.flags.contains(CloneFlags::CLONE_NEWUSER));
        assert!(p.steps.is_empty(), "{:?}", p.steps);
        let one = |outer: u32| Range {
            inner: 0,
            outer,
            count: 1,
        };
        assert_eq!(p.uid_map, [one(p.euid.as_raw())]);
        assert_eq!(p.gid_map, [one(p.egid.as_raw())]);
    }

    /// --load-interp implies --mount-binfmt, whose default directory needs
    /// /proc; a definition with the F flag is loaded before the chroot.
    #[test]
    fn load_interp_mounts_binfmt_misc_under_proc() {
        let p = plan(&["-l", ":x:E::x::/i:", "true"]).unwrap();
        assert!(p
            .flags
            .contains(CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWUSER));
        let binfmt = PathBuf::from(BINFMT_MISC);
        assert_eq!(
            p.steps,
            [
                Step::Propagation(MsFlags::MS_REC | MsFlags::MS_PRIVATE),
                Step::MountProc {
                    dir: "/proc".into(),
                    private: false
                },
                Step::MountBinfmt(binfmt.clone()),
                Step::LoadInterp {
                    binfmt: binfmt.clone(),
                    definition: ":x:E::x::/i:".into()
                },
            ]
        );
        let p = plan(&["-R/", "-l", ":x:E::x::/i:OCF", "true"]).unwrap();
        assert_eq!(
            p.steps[1..4],
            [
                Step::MountBinfmt(binfmt.clone()),
                Step::LoadInterp {
                    binfmt: binfmt.clone(),
                    definition: ":x:E::x::/i:OCF".into()
                },
                Step::Chroot("/".into()),
            ]
        );
        assert_eq!(p.steps.last(), Some(&Step::MountBinfmt(binfmt)));
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
