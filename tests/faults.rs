//! SECURITY.md, "Faults and leftovers": each tool killed by SIGKILL at
//! seeded random moments of its work (a delay drawn from 0 to 1.5 times
//! the length of a whole run, so every stage is hit), at least 200 times,
//! and then checked: nothing it made is left half made — no mount, named
//! netns, link, IPC object, temp file or process — or the next run of the
//! same command clears it and says so. Each test prints how many kill
//! points it tried and how many the tool survived, and its seed
//! (`BOXUTILS_FAULT_SEED` replays one). Everything runs in a sandbox of the
//! test's own (harness `in_sandbox`): private mounts, /run/netns, network
//! and IPC namespaces, /tmp.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{cmd, in_sandbox, needs_root, run, say, Machine, Ran};

mod kill;
use kill::kill_loop;

/// What `Ran` to expect from a command that must succeed.
fn ok(what: &str, ran: Ran) -> Result<Ran, String> {
    if ran.code == 0 {
        Ok(ran)
    } else {
        Err(format!(
            "{what}: exit {}: {}",
            ran.code,
            ran.stderr.trim_end()
        ))
    }
}

/// A round's verdict: fine, or all that is wrong on one line.
fn verdict(wrong: Vec<String>) -> Result<(), String> {
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(wrong.join("; "))
    }
}

/// A round's verdict once the machine is compared with `before` too.
fn settled(mut wrong: Vec<String>, before: &Machine) -> Result<(), String> {
    wrong.extend(before.changes("faults").err());
    verdict(wrong)
}

/// The mount points of the calling thread's mount namespace.
fn mounts_here() -> Vec<PathBuf> {
    std::fs::read_to_string("/proc/thread-self/mountinfo")
        .expect("mountinfo")
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(PathBuf::from)
        .collect()
}

fn mounts_on(path: &Path) -> usize {
    mounts_here().iter().filter(|m| *m == path).count()
}

fn detach_all(path: &Path) {
    while mounts_on(path) > 0 {
        nix::mount::umount2(path, nix::mount::MntFlags::MNT_DETACH)
            .unwrap_or_else(|e| panic!("umount {}: {e}", path.display()));
    }
}

/// True when `path` is an nsfs file bound there (a kept namespace).
fn is_namespace(path: &Path) -> bool {
    nix::sys::statfs::statfs(path)
        .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::NSFS_MAGIC)
}

#[test]
fn runshare_killed_while_keeping_namespaces() {
    if !needs_root!() {
        return;
    }
    in_sandbox(|| {
        let dir = PathBuf::from("/tmp/bxt-faults-runshare");
        let files: Vec<PathBuf> = ["uts", "ipc", "net"].iter().map(|n| dir.join(n)).collect();
        std::fs::create_dir_all(&dir).unwrap();
        for f in &files {
            std::fs::write(f, "").unwrap();
        }
        let args: Vec<String> = ["uts", "ipc", "net"]
            .iter()
            .zip(&files)
            .map(|(kind, f)| format!("--{kind}={}", f.display()))
            .collect();
        let before = Machine::now("faults");
        let command = || {
            let mut c = cmd("runshare");
            c.args(&args).arg("true");
            c
        };
        let mut partial = 0;
        kill_loop("runshare", command, |round| {
            // Each file keeps its namespace whole (bound once, to an nsfs
            // file) or is left as it was; nothing else is mounted and no
            // process stays.
            let mut wrong = Vec::new();
            let bound = files.iter().filter(|f| mounts_on(f) > 0).count();
            for f in &files {
                let n = mounts_on(f);
                if n > 1 || n == 1 && !is_namespace(f) {
                    wrong.push(format!("{}: {n} mounts", f.display()));
                }
            }
            if round.killed && bound != 0 && bound != files.len() {
                partial += 1;
            }
            for f in &files {
                detach_all(f);
            }
            settled(wrong, &before)
        });
        // Killed between two binds, some namespaces are kept and some not,
        // as with unshare: each whole, none half made. Said, not failed.
        say(&format!(
            "faults: runshare: {partial} kills came between two binds (some files kept, each whole)"
        ));
    });
}

/// The netns files of the sandbox's /run/netns.
fn netns_files() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir("/run/netns")
        .map(|d| {
            d.filter_map(|e| Some(e.ok()?.file_name().to_str()?.to_string()))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// A named netns that is whole: the file holds a network namespace.
fn whole_netns(name: &str) -> bool {
    is_namespace(&Path::new("/run/netns").join(name))
}

/// After a killed `netns add`: each file is whole, or an empty file that
/// the next `netns add` of that name removes and says so.
fn netns_left_whole(names: &[&str]) -> Vec<String> {
    let mut wrong = Vec::new();
    for name in netns_files() {
        if !names.contains(&name.as_str()) {
            wrong.push(format!("/run/netns/{name}: not ours"));
            continue;
        }
        if whole_netns(&name) {
            continue;
        }
        let meta = std::fs::metadata(format!("/run/netns/{name}")).unwrap();
        let again = run(cmd("rvethpair").args(["netns", "add", &name]));
        let said = format!(
            "rvethpair: warning: removed /run/netns/{name}: an empty file left by an interrupted netns add\n"
        );
        if meta.len() != 0 || again.code != 0 || again.stderr != said || !whole_netns(&name) {
            wrong.push(format!(
                "/run/netns/{name} half made, and the next add: {again:?}"
            ));
        }
    }
    wrong
}

/// Makes /run/netns the shared bind mount of itself that the first `netns
/// add` makes (and iproute2's), so that it is there before a snapshot.
fn netns_ready() {
    ok(
        "netns add",
        run(cmd("rvethpair").args(["netns", "add", "bxready"])),
    )
    .unwrap();
    netns_clear().unwrap();
}

/// Deletes every named netns of the sandbox (links inside go with them).
fn netns_clear() -> Result<(), String> {
    let names = netns_files();
    if names.is_empty() {
        return Ok(());
    }
    let mut c = cmd("rvethpair");
    c.args(["netns", "del"]).args(&names);
    ok("netns del", run(&mut c)).map(drop)
}

#[test]
fn rvethpair_killed_while_adding_namespaces() {
    if !needs_root!() {
        return;
    }
    in_sandbox(|| {
        let names = ["bxa", "bxb", "bxc", "bxd"];
        netns_ready();
        let before = Machine::now("faults");
        kill_loop(
            "rvethpair-netns",
            || {
                let mut c = cmd("rvethpair");
                c.args(["netns", "add"]).args(names);
                c
            },
            |_| {
                let mut wrong = netns_left_whole(&names);
                wrong.extend(netns_clear().err());
                settled(wrong, &before)
            },
        );
    });
}

#[test]
fn rvethpair_killed_in_a_batch() {
    if !needs_root!() {
        return;
    }
    in_sandbox(|| {
        let batch = PathBuf::from("/tmp/bxt-faults-batch");
        std::fs::write(
            &batch,
            "netns add bxred bxblue\n\
             add v0 v1 --netns bxred --peer-netns bxblue --addr 10.200.7.1/30 --peer-addr 10.200.7.2/30\n\
             add w0 w1 --netns bxred --peer-netns bxblue --addr 10.200.7.5/30 --peer-addr 10.200.7.6/30\n",
        )
        .unwrap();
        netns_ready();
        let before = Machine::now("faults");
        let add_again = [
            "add v0 v1 --netns bxred --peer-netns bxblue --addr 10.200.7.1/30 --peer-addr 10.200.7.2/30",
            "add w0 w1 --netns bxred --peer-netns bxblue --addr 10.200.7.5/30 --peer-addr 10.200.7.6/30",
        ];
        kill_loop(
            "rvethpair-batch",
            || {
                let mut c = cmd("rvethpair");
                c.arg("batch").arg(&batch);
                c
            },
            |_| {
                let mut wrong = netns_left_whole(&["bxred", "bxblue"]);
                // Nothing in the sandbox's own namespace but lo.
                let here = Machine::now("faults");
                if here.links != before.links {
                    wrong.push(format!("links here: {:?}", here.links));
                }
                // Each pair: whole (the same add is refused: it exists),
                // absent (the add makes it), or half made (the add removes
                // it, says so, and makes it).
                if whole_netns("bxred") && whole_netns("bxblue") {
                    for line in add_again {
                        let args: Vec<&str> = line.split(' ').collect();
                        let again = run(cmd("rvethpair").args(&args));
                        let fine = again.code == 0
                            && (again.stderr.is_empty()
                                || again.stderr.starts_with("rvethpair: warning: removed"))
                            || again.code == 1 && again.stderr.contains("exists");
                        if !fine {
                            wrong.push(format!("{line}: {again:?}"));
                        }
                    }
                }
                wrong.extend(netns_clear().err());
                settled(wrong, &before)
            },
        );
    });
}

#[test]
fn ripcmk_killed_leaves_at_most_what_it_was_asked_for() {
    if !needs_root!() {
        return;
    }
    in_sandbox(|| {
        let before = Machine::now("faults");
        let mut unannounced = 0;
        kill_loop(
            "ripcmk",
            || {
                let mut c = cmd("ripcmk");
                c.args(["-M", "64K", "-S", "4", "-Q"]);
                c
            },
            |round| {
                // At most one object of each kind asked for; every id it
                // printed is there. ripcmk prints all its ids at once,
                // after the last object is made: a kill before that leaves
                // what it made unannounced (as ipcmk; docs/SECURITY.md), a kill
                // after it leaves nothing unannounced.
                let now = Machine::now("faults");
                let mut wrong = Vec::new();
                let made: Vec<&String> = now.sysv.difference(&before.sysv).collect();
                let ids = |kind: &str| made.iter().filter(|o| o.starts_with(kind)).count();
                if ids("shm") > 1 || ids("msg") > 1 || ids("sem") > 1 {
                    wrong.push(format!("more objects than asked: {made:?}"));
                }
                for line in round.stdout.lines() {
                    let id = line.rsplit(' ').next().unwrap_or_default();
                    if !made.iter().any(|o| o.ends_with(&format!(" id {id}"))) {
                        wrong.push(format!("announced {line:?}, and it is not there"));
                    }
                }
                for object in &made {
                    let id = object.rsplit(' ').next().unwrap_or_default();
                    if !round
                        .stdout
                        .lines()
                        .any(|l| l.rsplit(' ').next() == Some(id))
                    {
                        unannounced += 1;
                        if !round.stdout.is_empty() {
                            wrong.push(format!("{object} made, not in {:?}", round.stdout));
                        }
                    }
                    let kind = match object.split(' ').next() {
                        Some("shm") => "-m",
                        Some("msg") => "-q",
                        _ => "-s",
                    };
                    let rm = run(Command::new("ipcrm").args([kind, id]));
                    if rm.code != 0 {
                        wrong.push(format!("ipcrm {kind} {id}: {}", rm.stderr));
                    }
                }
                settled(wrong, &before)
            },
        );
        say(&format!(
            "faults: ripcmk: {unannounced} objects were made but killed before their id was printed"
        ));
    });
}

/// Files of `dir` with their type and size.
fn shape(dir: &Path) -> Vec<(PathBuf, u32, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let meta = std::fs::symlink_metadata(e.path()).unwrap();
            out.push((
                e.path().strip_prefix(dir).unwrap().to_path_buf(),
                meta.mode() & 0o170000,
                if meta.is_file() { meta.size() } else { 0 },
            ));
            if meta.is_dir() {
                stack.push(e.path());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn rchroot_install_killed_is_finished_by_the_next_run() {
    if !needs_root!() {
        return;
    }
    in_sandbox(|| {
        let programs = ["/bin/sh", "/bin/ls", "/bin/true"];
        let reference = PathBuf::from("/tmp/bxt-faults-reference");
        let newroot = PathBuf::from("/tmp/bxt-faults-install");
        for d in [&reference, &newroot] {
            std::fs::create_dir(d).unwrap();
        }
        ok(
            "install",
            run(cmd("rchroot")
                .arg("--install")
                .arg(&reference)
                .args(programs)),
        )
        .unwrap();
        let want = shape(&reference);
        let before = Machine::now("faults");
        let install = || {
            let mut c = cmd("rchroot");
            c.arg("--install").arg(&newroot).args(programs);
            c
        };
        kill_loop("rchroot-install", install, |round| {
            let mut wrong = Vec::new();
            if round.killed {
                // The next run brings every file to the whole copy and
                // leaves no temp file of the killed one.
                match ok("the next install", run(&mut install())) {
                    Ok(r) if !r.stderr.is_empty() => wrong.push(format!("says {:?}", r.stderr)),
                    Ok(_) => {}
                    Err(e) => wrong.push(e),
                }
            }
            let got = shape(&newroot);
            if got != want {
                wrong.push(format!(
                    "the tree differs from a whole install: {:?}",
                    got.iter().filter(|f| !want.contains(f)).collect::<Vec<_>>()
                ));
            }
            // The files of the tree are the test's; the rest must not move.
            let mut now = Machine::now("faults");
            now.tmp
                .retain(|p| !p.starts_with(&newroot.display().to_string()));
            let mut then = before.clone();
            then.tmp
                .retain(|p| !p.starts_with(&newroot.display().to_string()));
            if now != then {
                wrong.push(format!(
                    "the machine changed: {:?}",
                    now.tmp.difference(&then.tmp).collect::<Vec<_>>()
                ));
            }
            // Start again from an empty root half of the time.
            if round.killed && fastrand::bool() {
                std::fs::remove_dir_all(&newroot).unwrap();
                std::fs::create_dir(&newroot).unwrap();
            }
            verdict(wrong)
        });
    });
}

#[test]
fn rchroot_pivot_killed_leaves_no_mount() {
    if !needs_root!() {
        return;
    }
    in_sandbox(|| {
        let newroot = PathBuf::from("/tmp/bxt-faults-pivot");
        std::fs::create_dir_all(newroot.join("proc")).unwrap();
        ok(
            "install",
            run(cmd("rchroot")
                .arg("--install")
                .arg(&newroot)
                .arg("/bin/true")),
        )
        .unwrap();
        let before = Machine::now("faults");
        kill_loop(
            "rchroot-pivot",
            || {
                let mut c = cmd("rchroot");
                c.args(["--pivot", "--mount-proc"])
                    .arg(&newroot)
                    .arg("/bin/true");
                c
            },
            // Its mounts are in a namespace of its own, which dies with it.
            |_| before.changes("faults"),
        );
    });
}

#[test]
fn rnsenter_killed_leaves_nothing() {
    if !needs_root!() {
        return;
    }
    in_sandbox(|| {
        ok(
            "netns add",
            run(cmd("rvethpair").args(["netns", "add", "bxenter"])),
        )
        .unwrap();
        // A process whose namespaces rnsenter enters, PID one included.
        let target = crate::harness::Process::sleeping(
            Command::new("unshare").args(["-fpu", "--mount-proc", "sleep", "600"]),
            true,
        );
        let pid = target.pid.to_string();
        let before = Machine::now("faults");
        kill_loop(
            "rnsenter",
            || {
                let mut c = cmd("rnsenter");
                c.args(["--net=bxenter", "-t", &pid, "-p", "-u", "-m", "true"]);
                c
            },
            |_| before.changes("faults"),
        );
        drop(target);
        netns_clear().unwrap();
    });
}
