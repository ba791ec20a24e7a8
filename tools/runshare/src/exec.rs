//! Carrying out a [`Plan`]: helpers forked first, unshare(2), the time
//! offsets, the fork (`--fork`), persistence, then the plan's steps in the
//! new namespaces and the command.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use common::rollback::Rollback;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::CloneFlags;
use nix::sys::signal::Signal;
use nix::unistd::{getpid, Pid};

use crate::idmap::{self, Range};
use crate::plan::{Plan, Setgroups, Step};
use crate::sys::{self, Helper, Side};

impl Plan {
    /// Makes the namespaces and runs the command in them; returns only on
    /// failure or, with `--fork`, with the command's exit code.
    pub fn execute(self) -> anyhow::Result<u8> {
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

        if let Some((uid, gid)) = self.owner {
            // The kernel makes the effective IDs at unshare(2) the owner.
            nix::unistd::setegid(gid).context("cannot set the owner's gid")?;
            nix::unistd::seteuid(uid).context("cannot set the owner's uid")?;
        }
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
        let forward: &[Signal] = if self.forward_signals { &pass_on } else { &[] };
        let parent_fd = match self.kill_child {
            Some(_) => Some(sys::pidfd_open(getpid()).context("pidfd_open failed")?),
            None => None,
        };
        // The child borrows what it needs: it shares this process's memory
        // until it execs (common::process::spawn_supervised).
        let child = common::process::spawn_supervised(&pass_on, forward, || {
            let gone = match (self.kill_child, &parent_fd) {
                (Some(sig), Some(fd)) => sys::parent_gone(sig, fd.as_fd()),
                _ => Ok(false),
            };
            let entered = gone.and_then(|gone| if gone { Ok(1) } else { self.enter() });
            common::error::report("runshare", 1, entered)
        })?;
        drop(parent_fd);
        match self.persist_namespaces(bind_helper) {
            Ok(None) => child.wait(),
            // The namespaces could not be kept: the child must not run on
            // as if they were.
            outcome => {
                child.kill();
                outcome.map(|c| c.unwrap_or(1))
            }
        }
    }

    /// In the new namespaces: the plan's steps, then the command.
    fn enter(&self) -> anyhow::Result<u8> {
        for step in &self.steps {
            take(step)?;
        }
        Err(common::process::exec_or_shell(&self.argv))
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

/// One step of the plan, with unshare's words when it fails.
fn take(step: &Step) -> anyhow::Result<()> {
    match step {
        Step::MapOwnUid { inner, outer } => write_own_map("/proc/self/uid_map", *inner, *outer),
        Step::Setgroups(value) => set_groups(*value),
        Step::MapOwnGid { inner, outer } => write_own_map("/proc/self/gid_map", *inner, *outer),
        Step::Propagation(flags) => mount(Some("none"), "/", None::<&str>, *flags, None::<&str>)
            .context("cannot change root filesystem propagation"),
        Step::MountBinfmt(dir) => mount(
            Some("binfmt_misc"),
            dir,
            Some("binfmt_misc"),
            MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV,
            None::<&str>,
        )
        .with_context(|| format!("mount {} failed", dir.display())),
        Step::LoadInterp { binfmt, definition } => load_interp(binfmt, definition),
        Step::Chroot(root) => nix::unistd::chroot(root)
            .with_context(|| format!("cannot change root directory to '{}'", root.display())),
        Step::Chdir { dir, inside_root } => {
            nix::unistd::chdir(dir)
                .with_context(|| format!("cannot chdir to '{}'", dir.display()))?;
            // runc CVE-2024-21626: /proc/self/fd/N of an inherited
            // descriptor is a way out of the new root; getcwd fails when
            // the cwd is not below the root.
            if *inside_root && !nix::unistd::getcwd().is_ok_and(|p| p.is_absolute()) {
                bail!(
                    "cannot chdir to '{}': it is outside the new root",
                    dir.display()
                );
            }
            Ok(())
        }
        Step::MountProc { dir, private } => mount_proc(dir, *private),
        Step::Setgid(gid) => {
            nix::unistd::setgroups(&[]).context("setgroups failed")?;
            nix::unistd::setgid(*gid).context("setgid failed")
        }
        Step::Setuid(uid) => nix::unistd::setuid(*uid).context("setuid failed"),
        Step::KeepCaps => common::caps::permitted_to_ambient(),
        Step::ClearEnv { keep } => {
            for (name, _) in std::env::vars_os() {
                if !keep.contains(&name) {
                    std::env::remove_var(name);
                }
            }
            Ok(())
        }
    }
}

fn mount_proc(dir: &Path, private: bool) -> anyhow::Result<()> {
    if private {
        match mount(
            Some("none"),
            dir,
            None::<&str>,
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            None::<&str>,
        ) {
            // A custom DIR most likely has no proc mount yet (util-linux).
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

/// Writes a binfmt_misc definition to `DIR/register` (util-linux
/// `load_interp`).
fn load_interp(binfmt: &Path, definition: &std::ffi::OsStr) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::ffi::OsStrExt;
    let register = binfmt.join("register");
    let mut file = std::fs::File::options()
        .write(true)
        .open(&register)
        .with_context(|| format!("cannot open {}", register.display()))?;
    file.write_all(definition.as_bytes())
        .with_context(|| format!("write failed {}", register.display()))
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
