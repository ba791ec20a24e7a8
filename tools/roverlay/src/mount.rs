//! `mount` and `umount`: an overlay made by descriptor with the new mount
//! API, one lower layer at a time, and taken down only if it is one.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use common::mount::{open_path, FsContext, Refused};
use nix::errno::Errno;

use crate::MountArgs;

/// overlayfs takes at most this many lower layers (OVL_MAX_STACK).
const MAX_LAYERS: usize = 500;

/// mount(2) hands the filesystem one page of options.
const PAGE: usize = 4096;

/// What `roverlay mount` will do, checked before anything is opened.
#[derive(Debug, PartialEq)]
pub struct Plan {
    /// Top first.
    pub lowers: Vec<PathBuf>,
    /// The upper dir and its work dir.
    pub upper: Option<(PathBuf, PathBuf)>,
    /// Overlay's own options, `key` or `key=value`, in order.
    pub options: Vec<(String, Option<String>)>,
    /// `MOUNT_ATTR_*` flags of the mount.
    pub attrs: u64,
    pub merged: PathBuf,
}

/// Overlay options passed through, and whether each takes a value.
const OVERLAY_OPTIONS: &[(&str, bool)] = &[
    ("index", true),
    ("redirect_dir", true),
    ("metacopy", true),
    ("xino", true),
    ("nfs_export", true),
    ("uuid", true),
    ("volatile", false),
    ("userxattr", false),
];

/// Per-mount flags (mount(8) words) and their `MOUNT_ATTR_*` bits.
const MOUNT_FLAGS: &[(&str, u64)] = &[
    ("rw", 0),
    ("ro", libc::MOUNT_ATTR_RDONLY),
    ("nosuid", libc::MOUNT_ATTR_NOSUID),
    ("nodev", libc::MOUNT_ATTR_NODEV),
    ("noexec", libc::MOUNT_ATTR_NOEXEC),
    ("noatime", libc::MOUNT_ATTR_NOATIME),
    ("relatime", libc::MOUNT_ATTR_RELATIME),
    ("nodiratime", libc::MOUNT_ATTR_NODIRATIME),
];

impl Plan {
    pub fn new(args: MountArgs) -> anyhow::Result<Plan> {
        let lowers: Vec<PathBuf> = args
            .lower
            .iter()
            .flat_map(|l| crate::split_layers(l))
            .collect();
        if lowers.iter().any(|l| l.as_os_str().is_empty()) {
            bail!("--lower: an empty directory name");
        }
        if lowers.len() > MAX_LAYERS {
            bail!(
                "--lower: {} layers, overlay takes at most {MAX_LAYERS}",
                lowers.len()
            );
        }
        let upper = match (args.upper, args.work) {
            (Some(upper), Some(work)) => Some((upper, work)),
            (None, None) => None,
            (Some(_), None) => bail!("--upper needs --work"),
            (None, Some(_)) => bail!("--work needs --upper"),
        };
        let mut options = Vec::new();
        let mut attrs = 0;
        for word in args.options.iter().flat_map(|o| o.split(',')) {
            let (key, value) = match word.split_once('=') {
                Some((k, v)) => (k, Some(v.to_string())),
                None => (word, None),
            };
            if let Some(&(_, bit)) = MOUNT_FLAGS.iter().find(|(f, _)| *f == word) {
                attrs |= bit;
            } else if let Some(&(_, valued)) = OVERLAY_OPTIONS.iter().find(|(o, _)| *o == key) {
                if valued != value.is_some() {
                    let how = if valued { "needs" } else { "takes no" };
                    bail!("option '{key}' {how} value");
                }
                options.push((key.to_string(), value));
            } else if matches!(key, "lowerdir" | "upperdir" | "workdir" | "lowerdir+") {
                bail!("option '{key}': give the layers with --lower, --upper and --work");
            } else if !word.is_empty() {
                bail!("unknown option '{word}'");
            }
        }
        // Metacopy follows redirects that a crafted layer can carry
        // (overlayfs.rst): only when asked, whatever the kernel's default.
        if !options.iter().any(|(k, _)| k == "metacopy") {
            options.push(("metacopy".into(), Some("off".into())));
        }
        if upper.is_none() {
            // The kernel's rule, which it logs only to dmesg.
            if lowers.len() < 2 {
                bail!("a read-only overlay (no --upper) needs at least 2 lower dirs");
            }
            attrs |= libc::MOUNT_ATTR_RDONLY;
        }
        Ok(Plan {
            lowers,
            upper,
            options,
            attrs,
            merged: args.merged,
        })
    }
}

/// A directory opened once, by which it is then mounted or checked.
struct Dir {
    what: &'static str,
    path: PathBuf,
    fd: OwnedFd,
}

impl Dir {
    fn open(what: &'static str, path: &Path) -> anyhow::Result<Dir> {
        let shown = || format!("cannot open {what} '{}'", path.display());
        let fd = open_path(path).with_context(shown)?;
        let st = nix::sys::stat::fstat(&fd).with_context(shown)?;
        match st.st_mode & libc::S_IFMT {
            libc::S_IFDIR => {}
            libc::S_IFLNK => bail!(
                "{what} '{}' is a symbolic link (it must be a directory)",
                path.display()
            ),
            _ => bail!("{what} '{}' is not a directory", path.display()),
        }
        Ok(Dir {
            what,
            path: path.to_path_buf(),
            fd,
        })
    }

    /// `/proc/self/fd/N`: the same directory, whatever happens to the path.
    fn proc_path(&self) -> String {
        format!("/proc/self/fd/{}", self.fd.as_raw_fd())
    }
}

/// The mount id and device of `fd`, and whether it is a mount's root (statx).
pub fn mount_of(fd: BorrowedFd<'_>) -> nix::Result<(u64, u64, bool)> {
    // SAFETY: statx is plain data; all zeroes is a valid value.
    let mut stx: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: a valid descriptor, an empty NUL-terminated path and a
    // pointer to a statx the kernel fills.
    let rc = unsafe {
        libc::statx(
            fd.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH,
            libc::STATX_MNT_ID,
            &mut stx,
        )
    };
    Errno::result(rc)?;
    let dev = libc::makedev(stx.stx_dev_major, stx.stx_dev_minor);
    let root = stx.stx_attributes & libc::STATX_ATTR_MOUNT_ROOT as u64 != 0;
    Ok((stx.stx_mnt_id, dev, root))
}

/// Upper and work on one mount, work empty: overlay's rules, checked so
/// that the message says which one broke.
fn check_upper(upper: &Dir, work: &Dir) -> anyhow::Result<()> {
    let (u, w) = (upper.path.display(), work.path.display());
    let (umnt, udev, _) = mount_of(upper.fd.as_fd()).with_context(|| format!("cannot stat {u}"))?;
    let (wmnt, wdev, _) = mount_of(work.fd.as_fd()).with_context(|| format!("cannot stat {w}"))?;
    if udev != wdev {
        bail!("upper dir '{u}' and work dir '{w}' are not on one filesystem");
    }
    if umnt != wmnt {
        bail!("upper dir '{u}' and work dir '{w}' are not on one mount");
    }
    let listed = nix::fcntl::openat(
        work.fd.as_fd(),
        ".",
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_DIRECTORY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .and_then(nix::dir::Dir::from_fd)
    .with_context(|| format!("cannot read work dir '{w}'"))?;
    for entry in listed {
        let entry = entry.with_context(|| format!("cannot read work dir '{w}'"))?;
        let name = entry.file_name().to_string_lossy();
        let dir = entry.file_type() == Some(nix::dir::Type::Directory);
        // What overlay itself leaves in a work dir it used before.
        let own = dir && matches!(&*name, "." | ".." | "work" | "index");
        if !own {
            bail!("work dir '{w}' is not empty (it holds '{name}')");
        }
    }
    Ok(())
}

/// Whether this process is in a user namespace other than the initial one.
pub fn in_user_namespace() -> bool {
    let map = std::fs::read_to_string("/proc/self/uid_map").unwrap_or_default();
    map.split_whitespace().collect::<Vec<_>>() != ["0", "0", "4294967295"]
}

/// How layers reach the kernel, the best this kernel takes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Via {
    /// `lowerdir+`, `upperdir`, `workdir` by descriptor (Linux 6.13).
    Fd,
    /// `lowerdir+` as /proc/self/fd/N (Linux 6.8).
    ProcPath,
}

pub fn mount(plan: &Plan) -> anyhow::Result<()> {
    let mut lowers = Vec::with_capacity(plan.lowers.len());
    for l in &plan.lowers {
        lowers.push(Dir::open("lower dir", l)?);
    }
    let upper = match &plan.upper {
        Some((u, w)) => {
            let (upper, work) = (Dir::open("upper dir", u)?, Dir::open("work dir", w)?);
            check_upper(&upper, &work)?;
            Some((upper, work))
        }
        None => None,
    };
    let merged = Dir::open("mount point", &plan.merged)?;
    let userxattr = in_user_namespace() && !plan.options.iter().any(|(k, _)| k == "userxattr");
    let fail = || format!("cannot mount overlay on '{}'", plan.merged.display());
    let fs = FsContext::open("overlay").with_context(fail)?;
    fs.set_string("source", "overlay").with_context(fail)?;
    let mut via = Via::Fd;
    for (i, layer) in lowers.iter().enumerate() {
        let added = match via {
            Via::Fd => fs.set_fd("lowerdir+", layer.fd.as_fd()),
            Via::ProcPath => fs.set_string("lowerdir+", &layer.proc_path()),
        };
        match added {
            Ok(()) => {}
            // Linux 6.8 to 6.12 take lowerdir+ only as a path.
            Err(e) if i == 0 && e.errno == Errno::EINVAL => {
                via = Via::ProcPath;
                match fs.set_string("lowerdir+", &layer.proc_path()) {
                    Ok(()) => {}
                    Err(e) if e.said.as_deref().is_some_and(unknown_lowerdir_plus) => {
                        drop(fs);
                        return legacy(plan, &lowers, upper.as_ref(), &merged, userxattr);
                    }
                    Err(e) => return Err(layer_refused(e, layer)).with_context(fail),
                }
            }
            Err(e) => return Err(layer_refused(e, layer)).with_context(fail),
        }
    }
    if let Some((upper, work)) = &upper {
        for (key, dir) in [("upperdir", upper), ("workdir", work)] {
            match via {
                Via::Fd => fs.set_fd(key, dir.fd.as_fd()),
                Via::ProcPath => fs.set_string(key, &dir.proc_path()),
            }
            .map_err(|e| layer_refused(e, dir))
            .with_context(fail)?;
        }
    }
    for (key, value) in &plan.options {
        match value {
            Some(v) => fs.set_string(key, v),
            None => fs.set_flag(key),
        }
        .with_context(|| format!("option '{key}'"))
        .with_context(fail)?;
    }
    if userxattr {
        fs.set_flag("userxattr").with_context(fail)?;
    }
    let tree = fs.mount(plan.attrs).with_context(fail)?;
    common::mount::move_mount(tree.as_fd(), merged.fd.as_fd()).with_context(fail)
}

/// The kernel's text for a key it does not know (before Linux 6.8).
fn unknown_lowerdir_plus(said: &str) -> bool {
    said.contains("Unknown parameter")
}

/// A refusal of one layer, naming it.
fn layer_refused(e: Refused, dir: &Dir) -> anyhow::Error {
    anyhow::Error::new(e).context(format!("{} '{}'", dir.what, dir.path.display()))
}

/// Kernels before 6.8: mount(2) with the layers named by descriptor
/// number relative to /proc/self/fd, the shortest names there are.
fn legacy(
    plan: &Plan,
    lowers: &[Dir],
    upper: Option<&(Dir, Dir)>,
    merged: &Dir,
    userxattr: bool,
) -> anyhow::Result<()> {
    let fail = || format!("cannot mount overlay on '{}'", plan.merged.display());
    let fds: Vec<i32> = lowers.iter().map(|d| d.fd.as_raw_fd()).collect();
    let upper_fds = upper.map(|(u, w)| (u.fd.as_raw_fd(), w.fd.as_raw_fd()));
    let mut options = plan.options.clone();
    if userxattr {
        options.push(("userxattr".into(), None));
    }
    let data = legacy_data(&fds, upper_fds, &options).with_context(fail)?;
    let mut flags = nix::mount::MsFlags::empty();
    for (bit, flag) in [
        (libc::MOUNT_ATTR_RDONLY, nix::mount::MsFlags::MS_RDONLY),
        (libc::MOUNT_ATTR_NOSUID, nix::mount::MsFlags::MS_NOSUID),
        (libc::MOUNT_ATTR_NODEV, nix::mount::MsFlags::MS_NODEV),
        (libc::MOUNT_ATTR_NOEXEC, nix::mount::MsFlags::MS_NOEXEC),
        (libc::MOUNT_ATTR_NOATIME, nix::mount::MsFlags::MS_NOATIME),
        (
            libc::MOUNT_ATTR_NODIRATIME,
            nix::mount::MsFlags::MS_NODIRATIME,
        ),
    ] {
        if plan.attrs & bit != 0 {
            flags |= flag;
        }
    }
    nix::unistd::chdir("/proc/self/fd").with_context(fail)?;
    nix::mount::mount(
        Some("overlay"),
        merged.proc_path().as_str(),
        Some("overlay"),
        flags,
        Some(data.as_str()),
    )
    .with_context(fail)
}

/// The mount(2) options for layers known by descriptor number; refused
/// when they do not fit in a page.
fn legacy_data(
    lowers: &[i32],
    upper: Option<(i32, i32)>,
    options: &[(String, Option<String>)],
) -> anyhow::Result<String> {
    let names: Vec<String> = lowers.iter().map(i32::to_string).collect();
    let mut words = vec![format!("lowerdir={}", names.join(":"))];
    if let Some((u, w)) = upper {
        words.push(format!("upperdir={u},workdir={w}"));
    }
    for (key, value) in options {
        words.push(match value {
            Some(v) => format!("{key}={v}"),
            None => key.clone(),
        });
    }
    let data = words.join(",");
    if data.len() >= PAGE {
        bail!(
            "this kernel has no lowerdir+ (Linux 6.8), and {} layers need {} bytes of \
             mount options, more than the {} that fit in a page",
            lowers.len(),
            data.len(),
            PAGE - 1
        );
    }
    Ok(data)
}

/// Unmounts the overlay on `merged`, and nothing else.
pub fn umount(merged: &Path, lazy: bool) -> anyhow::Result<()> {
    let shown = merged.display();
    let fd = open_path(merged).with_context(|| format!("cannot open '{shown}'"))?;
    let (id, _, root) = mount_of(fd.as_fd()).with_context(|| format!("cannot stat '{shown}'"))?;
    if !root {
        bail!("'{shown}' is not a mount point");
    }
    let mounts = common::mountinfo::own()?;
    let fstype = mounts
        .iter()
        .find(|m| u64::from(m.id) == id)
        .map_or("unknown", |m| m.fstype.as_str());
    if fstype != "overlay" {
        bail!("'{shown}' is not an overlay (it is {fstype})");
    }
    // The descriptor would keep the mount busy: the path, not followed,
    // names what was just checked.
    drop(fd);
    let mut flags = nix::mount::MntFlags::UMOUNT_NOFOLLOW;
    if lazy {
        flags |= nix::mount::MntFlags::MNT_DETACH;
    }
    nix::mount::umount2(merged, flags).with_context(|| format!("cannot unmount '{shown}'"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn plan(args: &[&str]) -> anyhow::Result<Plan> {
        let mut argv = vec!["roverlay", "mount"];
        argv.extend(args);
        match crate::Cli::try_parse_from(argv)?.command {
            crate::Command::Mount(m) => Plan::new(m),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn layers_top_first_read_only_without_upper_and_no_metacopy() {
        let p = plan(&["--lower", "a:b", "--lower", "c", "m"]).unwrap();
        assert_eq!(p.lowers, [PathBuf::from("a"), "b".into(), "c".into()]);
        assert_eq!(p.attrs, libc::MOUNT_ATTR_RDONLY);
        assert_eq!(p.options, [("metacopy".into(), Some("off".into()))]);
    }

    #[test]
    fn options_pass_through_and_flags_become_attributes() {
        let p = plan(&[
            "--lower=a",
            "--upper=u",
            "--work=w",
            "-o",
            "index=on,volatile,nosuid,metacopy=on",
            "-o",
            "xino=auto",
            "m",
        ])
        .unwrap();
        assert_eq!(p.attrs, libc::MOUNT_ATTR_NOSUID);
        assert_eq!(
            p.options,
            [
                ("index".into(), Some("on".into())),
                ("volatile".into(), None),
                ("metacopy".into(), Some("on".into())),
                ("xino".into(), Some("auto".into())),
            ]
        );
    }

    #[test]
    fn bad_plans_are_refused_with_the_reason() {
        for (args, why) in [
            (&["--lower=a", "--upper=u", "m"][..], "--upper needs --work"),
            (&["--lower=a", "--work=w", "m"], "--work needs --upper"),
            (&["--lower=a::b", "m"], "--lower: an empty directory name"),
            (
                &["--lower=a", "m"],
                "a read-only overlay (no --upper) needs at least 2 lower dirs",
            ),
            (
                &["--lower=a:b", "-o", "bogus", "m"],
                "unknown option 'bogus'",
            ),
            (
                &["--lower=a", "-o", "index", "m"],
                "option 'index' needs value",
            ),
            (
                &["--lower=a:b", "-o", "lowerdir=x", "m"],
                "option 'lowerdir': give the layers with --lower, --upper and --work",
            ),
        ] {
            assert_eq!(plan(args).unwrap_err().to_string(), why, "{args:?}");
        }
        let many = vec!["x"; 501].join(":");
        assert!(plan(&["--lower", &many, "m"]).is_err());
    }

    #[test]
    fn legacy_options_fit_500_layers_by_number_but_not_more_than_a_page() {
        let fds: Vec<i32> = (3..503).collect();
        let data = legacy_data(&fds, Some((503, 504)), &[("volatile".into(), None)]).unwrap();
        assert!(data.starts_with("lowerdir=3:4:5:"), "{data}");
        assert!(data.ends_with(":502,upperdir=503,workdir=504,volatile"));
        let fds: Vec<i32> = (10000..11000).collect();
        let err = legacy_data(&fds, None, &[]).unwrap_err().to_string();
        assert!(err.contains("no lowerdir+"), "{err}");
    }
}
