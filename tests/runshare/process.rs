//! What the command gets and how runshare ends: descriptors, signal
//! dispositions, exit codes, time offsets, --kill-child, --forward-signals.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{
    as_nobody, as_nobody_possible, as_unshare, both, ended, says_like_unshare, sh,
    succeeds_like_unshare,
};
use crate::harness::{
    anchor, children, cmd, eventually, in_mountns, needs, needs_root, nobody, run, tempdir,
    test_name, unique, Mounted,
};

/// The command gets the caller's descriptors (fd 7 here), as with
/// unshare, and none of runshare's own: the helpers' pipes, the pidfd of
/// --kill-child, the persistence binds' files are all close-on-exec.
#[test]
fn command_gets_the_callers_descriptors_and_none_of_its_own() {
    if !needs_root!() {
        return;
    }
    let dir = tempdir("fds");
    let uts = dir.path().join("uts");
    std::fs::write(&uts, "").unwrap();
    let keep = format!("--uts={}", uts.display());
    // The shell's own descriptors (7, and whatever the test runner left
    // open), then the command's.
    let script = |tool: &str, opts: &str| {
        format!(
            "exec 7</etc/hostname; ls /proc/$$/fd; echo -; \
             exec {tool} {opts} sh -c 'ls /proc/$$/fd'"
        )
    };
    for opts in [
        "-f",
        "",
        "--kill-child --map-users=1:100000:10 -r",
        &format!("-m {keep}"),
    ] {
        let ran = sh(&script("\"$R\"", opts));
        let (caller, command) = ran.stdout.split_once("-\n").unwrap();
        assert!(caller.lines().any(|fd| fd == "7"), "{caller}");
        assert_eq!(command, caller, "{opts}: {}", ran.stderr);
        let _ = nix::mount::umount2(&uts, nix::mount::MntFlags::MNT_DETACH);
    }
    for opts in ["-f", "-fp --mount-proc"] {
        assert_eq!(
            sh(&script("\"$R\"", opts)),
            sh(&script("unshare", opts)),
            "{opts}"
        );
    }
}

/// `trap '' PIPE` (and a blocked signal) reach the command as exec(2)
/// leaves them for unshare: std's Command::exec would reset both.
#[test]
fn ignored_and_blocked_signals_reach_the_command_like_unshare() {
    use std::os::unix::process::CommandExt;
    let status = |tool: Command, ignore: bool| {
        let mut c = tool;
        c.args(["cat", "/proc/self/status"]);
        // SAFETY: signal and sigprocmask in the child before exec; no allocation.
        unsafe {
            c.pre_exec(move || {
                if ignore {
                    libc::signal(libc::SIGPIPE, libc::SIG_IGN);
                    let mut set = std::mem::zeroed::<libc::sigset_t>();
                    libc::sigemptyset(&mut set);
                    libc::sigaddset(&mut set, libc::SIGUSR2);
                    libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
                }
                Ok(())
            });
        }
        let ran = run(&mut c);
        assert_eq!(ran.code, 0, "{}", ran.stderr);
        ran.stdout
            .lines()
            .filter(|l| l.starts_with("SigIgn") || l.starts_with("SigBlk"))
            .map(String::from)
            .collect::<Vec<_>>()
    };
    for opts in [&[][..], &["-f"][..]] {
        for ignore in [true, false] {
            let mut ours = cmd("runshare");
            ours.args(opts);
            let mut theirs = anchor("unshare");
            theirs.args(opts);
            let (ours, theirs) = (status(ours, ignore), status(theirs, ignore));
            // Signal N is bit N-1: SIGPIPE 13, SIGUSR2 12.
            let has = |name: &str, sig: i32| {
                let line = ours.iter().find(|l| l.starts_with(name)).unwrap();
                let mask = line.split_whitespace().nth(1).unwrap();
                u64::from_str_radix(mask, 16).unwrap() & (1 << (sig - 1)) != 0
            };
            assert_eq!(has("SigIgn", libc::SIGPIPE), ignore, "{opts:?} {ours:?}");
            assert_eq!(has("SigBlk", libc::SIGUSR2), ignore, "{opts:?} {ours:?}");
            assert_eq!(ours, theirs, "{opts:?}");
        }
    }
}

#[test]
fn wd_outside_the_new_root_is_refused() {
    // runc CVE-2024-21626: -w /proc/self/fd/N of an inherited descriptor.
    if !needs_root!() || !needs!("busybox") {
        return;
    }
    let dir = tempdir("wd-escape");
    let newroot = dir.path().to_path_buf();
    let ran = in_mountns(move || {
        std::fs::create_dir_all(newroot.join("bin")).unwrap();
        std::fs::create_dir_all(newroot.join("proc")).unwrap();
        crate::harness::copy_exe(Path::new("/bin/busybox"), &newroot.join("bin/busybox"));
        nix::mount::mount(
            Some("proc"),
            &newroot.join("proc"),
            Some("proc"),
            nix::mount::MsFlags::empty(),
            None::<&str>,
        )
        .unwrap();
        let _proc = Mounted(newroot.join("proc"));
        sh(&format!(
            "exec 9</tmp; exec \"$R\" -R {} -w /proc/self/fd/9 /bin/busybox pwd",
            newroot.display()
        ))
    });
    assert_eq!(ran.code, 1, "{}", ran.stdout);
    assert_eq!(
        ran.stderr,
        "runshare: cannot chdir to '/proc/self/fd/9': it is outside the new root\n"
    );
    assert_eq!(ran.stdout, "");
}

#[test]
fn child_killed_by_sigkill_gives_137() {
    // The 2.40 contract; unshare 2.38.1 -f fails here ("sigprocmask unblock
    // failed", 1), so only the form without -f is compared.
    let script = |tool: &str, opts: &str| format!("{tool} {opts} sh -c 'kill -9 $$'; echo $?");
    assert_eq!(sh(&script("\"$R\"", "-f")).stdout, "137\n");
    let ours = sh(&script("\"$R\"", ""));
    assert_eq!(ours.stdout, "137\n");
    assert_eq!(ours.stdout, sh(&script("unshare", "")).stdout);
}

#[test]
fn exec_failures_give_126_and_127_like_unshare() {
    let (ours, _) = says_like_unshare(
        &["/nonexistent/bxt"],
        "runshare: failed to execute /nonexistent/bxt: No such file or directory\n",
    );
    assert_eq!(ours.code, 127);
    let (ours, theirs) = both(&["/etc/passwd"]);
    assert_eq!((ours.code, theirs.code), (126, 126));
    assert_eq!(as_unshare(&ours.stderr), theirs.stderr);
}

#[test]
fn exit_status_and_arguments_pass_through_like_unshare() {
    let (ours, theirs) = both(&["sh", "-c", "echo \"$@\"; exit 3", "x", "-4", "a"]);
    assert_eq!((ours.code, ours.stdout.as_str()), (3, "-4 a\n"));
    assert_eq!(ours, theirs);
}

#[test]
fn time_offsets_like_unshare() {
    if !needs_root!() {
        return;
    }
    let args = [
        "-Tf",
        "--monotonic",
        "100",
        "--boottime=-7",
        "cat",
        "/proc/self/timens_offsets",
    ];
    let ours = succeeds_like_unshare(&args, "");
    assert!(
        ours.stdout.contains("monotonic         100"),
        "{}",
        ours.stdout
    );
    let (ours, theirs) = both(&["--monotonic", "5", "true"]);
    assert_eq!(ours.code, 1);
    assert_eq!(as_unshare(&ours.stderr), theirs.stderr);
}

#[test]
fn kill_child_kills_the_child_when_runshare_dies() {
    if !needs_root!() {
        return;
    }
    for (opts, dies) in [
        (&["--kill-child"][..], true),
        (&["--kill-child=term"][..], true),
        (&["-f"][..], false),
    ] {
        let mut tool = crate::harness::Spawned::new(
            cmd("runshare")
                .args(opts)
                .args(["sleep", "1000"])
                .stdin(Stdio::null()),
        );
        let pid = tool.id();
        let mut child = 0;
        assert!(eventually(|| {
            child = children(pid).first().copied().unwrap_or(0);
            child != 0
                && std::fs::read_link(format!("/proc/{child}/exe"))
                    .is_ok_and(|e| e.ends_with("sleep"))
        }));
        tool.kill().unwrap();
        tool.wait().unwrap();
        if dies {
            assert!(
                eventually(|| ended(child)),
                "child {child} outlived runshare"
            );
        } else {
            // Without --kill-child the child runs on: end it ourselves.
            std::thread::sleep(Duration::from_millis(100));
            assert!(!ended(child));
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(child as i32),
                nix::sys::signal::Signal::SIGKILL,
            )
            .unwrap();
        }
    }
}

#[test]
fn forward_signals_passes_sigterm_to_the_child() {
    if !needs_root!() {
        return;
    }
    let name = unique("fwd");
    let mut tool = crate::harness::Spawned::new(
        cmd("runshare")
            .args(["--forward-signals", "sh", "-c"])
            .arg(format!(
                "trap 'exit 7' TERM; echo {name}; while :; do sleep 0.05; done"
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::piped()),
    );
    let mut out = tool.stdout.take().unwrap();
    let mut first = [0u8; 4];
    std::io::Read::read_exact(&mut out, &mut first).unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(tool.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = tool.wait().unwrap();
    assert_eq!(status.code(), Some(7));
}

#[test]
fn sigterm_is_ignored_while_waiting_without_forward_signals() {
    if !needs_root!() {
        return;
    }
    for mut tool in [cmd("runshare"), anchor("unshare")] {
        let mut proc = crate::harness::Spawned::new(
            tool.args(["-f", "sh", "-c", "echo up; read line; exit 5"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped()),
        );
        let mut up = [0u8; 3];
        std::io::Read::read_exact(proc.stdout.as_mut().unwrap(), &mut up).unwrap();
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(proc.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        std::io::Write::write_all(proc.stdin.as_mut().unwrap(), b"go\n").unwrap();
        assert_eq!(proc.wait().unwrap().code(), Some(5), "{tool:?}");
    }
}

#[test]
fn ordinary_user_gets_the_same_as_with_unshare() {
    if !as_nobody_possible(test_name!()) {
        return;
    }
    let args = [
        "-U",
        "--map-root-user",
        "--keep-caps",
        "sh",
        "-c",
        "id -u; id -g; grep CapAmb /proc/self/status; cat /proc/self/uid_map",
    ];
    let ours = run(&mut as_nobody(&[], &args));
    let theirs = run(nobody(Path::new("unshare"), &[]).args(args));
    assert_eq!(ours.code, 0, "{}", ours.stderr);
    assert!(
        ours.stdout.starts_with("0\n0\nCapAmb:\t"),
        "{}",
        ours.stdout
    );
    assert!(!ours.stdout.contains("CapAmb:\t0000000000000000"));
    assert_eq!(ours, theirs);
}

/// `-f` starts its child as posix_spawn does (clone with CLONE_VM); where
/// that is refused, here by a seccomp filter, the child is forked instead.
/// When every clone is refused, the error is the fork's: the fallback was
/// taken, and the filter does reach runshare's clone.
#[cfg(target_arch = "x86_64")]
#[test]
fn a_refused_shared_memory_child_is_forked_instead() {
    use std::os::unix::process::CommandExt;
    if !needs_root!() {
        return;
    }
    // nr == clone (and, for `vm_only`, CLONE_VM in its flags) → EPERM.
    let filter = |vm_only: bool| {
        let op = |code: u32, k: u32, jt: u8, jf: u8| libc::sock_filter {
            code: code as u16,
            jt,
            jf,
            k,
        };
        let (ld, jeq, jset, ret) = (0x20, 0x15, 0x45, 0x06);
        const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
        let deny = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;
        let vm = libc::CLONE_VM as u32;
        [
            op(ld, 4, 0, 0),                       // arch
            op(jeq, AUDIT_ARCH_X86_64, 0, 5),      // else allow
            op(ld, 0, 0, 0),                       // syscall number
            op(jeq, libc::SYS_clone as u32, 0, 3), // else allow
            op(ld, 16, 0, 0),                      // flags (args[0], low half)
            op(jset, if vm_only { vm } else { u32::MAX }, 0, 1),
            op(ret, deny, 0, 0),
            op(ret, libc::SECCOMP_RET_ALLOW, 0, 0),
        ]
    };
    let under = |vm_only: bool| {
        let mut c = cmd("runshare");
        c.args(["-fp", "--mount-proc", "sh", "-c", "echo $$"]);
        let mut prog = filter(vm_only);
        // SAFETY: prctl in the child before exec, on a filter owned by the
        // closure; no allocation.
        unsafe {
            c.pre_exec(move || {
                let fprog = libc::sock_fprog {
                    len: prog.len() as u16,
                    filter: prog.as_mut_ptr(),
                };
                if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                    || libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &fprog) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        run(&mut c)
    };
    let forked = under(true);
    assert_eq!(
        (forked.code, forked.stdout.as_str(), forked.stderr.as_str()),
        (0, "1\n", "")
    );
    let refused = under(false);
    assert_eq!(
        (refused.code, refused.stderr.as_str()),
        (1, "runshare: fork failed: Operation not permitted\n")
    );
}
