//! util-linux 2.39 to 2.42 options (--load-interp, --map-subids, --owner,
//! --clear-env) and a caller that ignores SIGCHLD.

use std::path::Path;
use std::process::Stdio;

use crate::harness::{cmd, needs_root, run, Ran};

/// util-linux 2.39's --mount-binfmt and --load-interp: a binfmt_misc of the
/// namespace's own (Linux 6.7+), below a /proc mounted first; the host's
/// binfmt_misc never sees the definition.
#[test]
fn load_interp_registers_in_the_namespaces_own_binfmt_misc() {
    if !needs_root!() {
        return;
    }
    let name = format!("bxt{}", std::process::id());
    let entry = format!("/proc/sys/fs/binfmt_misc/{name}");
    let definition = format!(":{name}:E::{name}::/bin/cat:");
    let probe = runshare_ran(&[
        "-rfp",
        "--mount-binfmt",
        "cat",
        "/proc/sys/fs/binfmt_misc/status",
    ]);
    if probe.code != 0 {
        crate::harness::skip(
            "load_interp_registers_in_the_namespaces_own_binfmt_misc",
            &format!("no binfmt_misc in user namespaces here: {}", probe.stderr),
        );
        return;
    }
    assert_eq!(probe.stdout, "enabled\n");
    for opts in [&["-rfp"][..], &["-rfp", "-R", "/"]] {
        for flags in ["", "F"] {
            let load = format!("--load-interp={definition}{flags}");
            let ran = runshare_ran(&[opts, &[&load, "cat", &entry]].concat());
            assert_eq!((ran.code, ran.stderr.as_str()), (0, ""), "{opts:?} {flags}");
            assert_eq!(
                ran.stdout,
                format!("enabled\ninterpreter /bin/cat\nflags: {flags}\nextension .{name}\n"),
                "{opts:?}"
            );
        }
    }
    assert!(!Path::new(&entry).exists());
    // Without a map, root of the new namespace is nobody: register refuses.
    let ran = runshare_ran(&["-fp", "-l", &definition, "true"]);
    assert_eq!(
        (ran.code, ran.stderr.as_str()),
        (
            1,
            "runshare: cannot open /proc/sys/fs/binfmt_misc/register: Permission denied\n"
        )
    );
}

/// util-linux 2.39's --map-subids reads the same subordinate ranges as
/// --map-auto (mapped to themselves inside: see the unit tests), and fails
/// the same way when the caller has none.
#[test]
fn map_subids_reads_the_subid_files_as_map_auto_does() {
    let auto = runshare_ran(&["--map-auto", "true"]);
    let subids = runshare_ran(&["--map-subids", "true"]);
    let users = runshare_ran(&["--map-users=subids", "--map-groups=subids", "true"]);
    assert_eq!(subids, users);
    if auto.code != 0 {
        assert_eq!(subids, auto);
        assert!(subids.stderr.starts_with("runshare: "), "{subids:?}");
    } else {
        assert_eq!(subids.code, 0, "{subids:?}");
    }
}

/// runshare ARGS, run to its end.
fn runshare_ran(args: &[&str]) -> Ran {
    run(cmd("runshare").args(args))
}

/// util-linux 2.42's --owner: root makes a user namespace owned by another
/// user (NS_GET_OWNER_UID names it from the host); the maps of -r are
/// written from outside and hold.
#[test]
fn owner_makes_the_user_namespace_someone_elses() {
    if !needs_root!() {
        return;
    }
    let sleeper = crate::harness::Process::sleeping(
        cmd("runshare").args(["--owner=12345:12346", "-r", "sleep", "60"]),
        false,
    );
    let ns = std::fs::File::open(format!("/proc/{}/ns/user", sleeper.pid)).unwrap();
    let mut owner: libc::uid_t = 0;
    // NS_GET_OWNER_UID (_IO(0xb7, 4)) writes one uid_t into `owner`.
    // SAFETY: the descriptor is open and `owner` outlives the call.
    let rc = unsafe {
        libc::ioctl(
            std::os::fd::AsRawFd::as_raw_fd(&ns),
            0xb704 as _,
            &mut owner,
        )
    };
    let map = std::fs::read_to_string(format!("/proc/{}/uid_map", sleeper.pid)).unwrap();
    drop(sleeper);
    assert_eq!((rc, owner), (0, 12345));
    assert_eq!(map.split_whitespace().collect::<Vec<_>>(), ["0", "0", "1"]);
    let ran = runshare_ran(&["--owner=12345", "true"]);
    assert_eq!(
        (ran.code, ran.stderr.as_str()),
        (1, "runshare: invalid owner '12345': UID:GID expected\n")
    );
}

/// util-linux 2.42's --clear-env and --whitelist-env: the command gets an
/// empty environment, or only the variables named; with no command, the
/// shell then comes from the passwd entry, not $SHELL.
#[test]
fn clear_env_and_whitelist_env_empty_the_commands_environment() {
    let with_env = |args: &[&str]| {
        run(cmd("runshare")
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("FOO", "1")
            .env("BAR", "2")
            .args(args))
    };
    let ran = with_env(&["--clear-env", "/usr/bin/env"]);
    assert_eq!((ran.code, ran.stdout.as_str()), (0, ""), "{}", ran.stderr);
    let ran = with_env(&["--whitelist-env=FOO,PATH,NONE", "env"]);
    let mut vars: Vec<&str> = ran.stdout.lines().collect();
    vars.sort();
    assert_eq!(
        (ran.code, vars),
        (0, vec!["FOO=1", "PATH=/usr/bin:/bin"]),
        "{}",
        ran.stderr
    );
    let Some(shell) = nix::unistd::User::from_uid(nix::unistd::getuid())
        .unwrap()
        .map(|u| u.shell)
        .filter(|s| s.is_file())
    else {
        return crate::harness::skip("clear_env_and_whitelist_env", "no login shell");
    };
    let mut c = cmd("runshare");
    c.arg("--clear-env")
        .env("SHELL", "/bin/sh")
        .stdin(Stdio::piped());
    let mut child = c.stdout(Stdio::piped()).spawn().unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"echo $0\n").unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    let name = shell.file_name().unwrap().to_string_lossy();
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("-{name}\n"));
}

/// A caller that ignores SIGCHLD (the kernel then reaps children without a
/// word) neither hangs runshare's waits nor loses the exit status, and the
/// command still finds SIGCHLD ignored, as the caller left it.
#[test]
fn sigchld_ignored_by_the_caller_is_waited_through_and_kept() {
    use std::os::unix::process::CommandExt;
    let ignoring = |args: &[&str]| {
        let mut c = cmd("runshare");
        c.args(args);
        // SAFETY: signal in the child before exec; no allocation.
        unsafe {
            c.pre_exec(|| {
                libc::signal(libc::SIGCHLD, libc::SIG_IGN);
                Ok(())
            });
        }
        run(&mut c)
    };
    assert_eq!(ignoring(&["-f", "sh", "-c", "exit 3"]).code, 3);
    let ran = ignoring(&["-f", "grep", "SigIgn", "/proc/self/status"]);
    let mask = ran.stdout.split_whitespace().nth(1).unwrap_or_default();
    let mask = u64::from_str_radix(mask, 16).unwrap_or_default();
    assert_ne!(mask & (1 << (libc::SIGCHLD - 1)), 0, "{ran:?}");
    if needs_root!() {
        let ran = ignoring(&["--map-users=0:100000:10", "--uts", "sh", "-c", "exit 4"]);
        assert_eq!(ran.code, 4, "{ran:?}");
    }
}
