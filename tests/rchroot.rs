//! rchroot against coreutils chroot: failures, ids, status, options, and
//! the descriptors the command gets; --install (Lab 1 end to end) and
//! --pivot (with the docs/SECURITY.md cases that touch rchroot) in modules.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{anchor, bin, cmd, needs, needs_root, run, tempdir, Process, Ran};

mod forms;
mod install;
mod pivot;

/// A temporary directory others may enter (the command may run as nobody).
fn new_root(test: &str) -> tempfile::TempDir {
    let dir = tempdir(test);
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// A new root holding `programs` and what they need, by `rchroot --install`.
fn installed(test: &str, programs: &[&str]) -> tempfile::TempDir {
    let dir = new_root(test);
    let ran = run(cmd("rchroot")
        .arg("--install")
        .arg(dir.path())
        .args(programs));
    assert_eq!(
        (ran.code, ran.stderr.as_str()),
        (0, ""),
        "--install {programs:?}"
    );
    dir
}

/// Runs rchroot and coreutils chroot with the same arguments.
fn both(args: &[&std::ffi::OsStr]) -> (Ran, Ran) {
    (
        run(cmd("rchroot").args(args)),
        run(anchor("chroot").args(args)),
    )
}

/// Both tools on `args` fail with `code` and the same one-line message
/// but for the tool's name; rchroot's result.
#[track_caller]
fn fails_like_chroot(args: &[&std::ffi::OsStr], code: i32) -> Ran {
    let (ours, theirs) = both(args);
    assert_eq!(ours.code, code, "{ours:?}");
    assert_eq!(theirs.code, code, "{theirs:?}");
    assert_eq!(ours.stderr, format!("r{}", theirs.stderr));
    assert_eq!(ours.stderr.lines().count(), 1);
    ours
}

#[test]
fn missing_newroot_fails_like_chroot() {
    if !needs_root!() {
        return;
    }
    let dir = tempdir("missing_newroot");
    let missing = dir.path().join("nope");
    let ours = fails_like_chroot(&[missing.as_os_str(), "/bin/true".as_ref()], 125);
    assert_eq!(
        ours.stderr,
        format!(
            "rchroot: cannot change root directory to '{}': No such file or directory\n",
            missing.display()
        )
    );
}

#[test]
fn newroot_a_file_fails_like_chroot() {
    if !needs_root!() {
        return;
    }
    let dir = tempdir("newroot_file");
    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    let ours = fails_like_chroot(&[file.as_os_str(), "/bin/true".as_ref()], 125);
    assert!(
        ours.stderr.ends_with(": Not a directory\n"),
        "{}",
        ours.stderr
    );
}

#[test]
fn missing_command_fails_like_chroot() {
    if !needs_root!() {
        return;
    }
    let dir = new_root("missing_command");
    let ours = fails_like_chroot(&[dir.path().as_os_str(), "/no-such-command".as_ref()], 127);
    assert_eq!(
        ours.stderr,
        "rchroot: failed to run command '/no-such-command': No such file or directory\n"
    );
}

#[test]
fn non_executable_command_fails_like_chroot() {
    if !needs_root!() {
        return;
    }
    let dir = new_root("non_executable");
    std::fs::write(dir.path().join("data"), "not a program\n").unwrap();
    let ours = fails_like_chroot(&[dir.path().as_os_str(), "/data".as_ref()], 126);
    assert_eq!(
        ours.stderr,
        "rchroot: failed to run command '/data': Permission denied\n"
    );
}

#[test]
fn unknown_user_fails_like_chroot() {
    if !needs_root!() {
        return;
    }
    let dir = new_root("unknown_user");
    let spec = "--userspec=bxt-no-such-user:nogroup";
    let ours = fails_like_chroot(
        &[spec.as_ref(), dir.path().as_os_str(), "/bin/true".as_ref()],
        125,
    );
    assert_eq!(ours.stderr, "rchroot: invalid user\n");
}

#[test]
fn unknown_group_fails_like_chroot() {
    if !needs_root!() {
        return;
    }
    let dir = new_root("unknown_group");
    let groups = "--groups=bxt-no-such-group";
    let ours = fails_like_chroot(
        &[
            groups.as_ref(),
            dir.path().as_os_str(),
            "/bin/true".as_ref(),
        ],
        125,
    );
    assert_eq!(ours.stderr, "rchroot: invalid group 'bxt-no-such-group'\n");
}

#[test]
fn default_command_is_shell_dash_i_like_chroot() {
    if !needs_root!() {
        return;
    }
    let dir = installed("default_command", &["/bin/true"]);
    // $SHELL -i: here /bin/true -i, which succeeds; a shell missing in
    // NEWROOT fails the same way in both.
    for shell in ["/bin/true", "/bin/bxt-no-such-shell"] {
        let ours = run(cmd("rchroot").env("SHELL", shell).arg(dir.path()));
        let theirs = run(anchor("chroot").env("SHELL", shell).arg(dir.path()));
        assert_eq!(ours.code, theirs.code, "SHELL={shell}");
        assert_eq!(ours.stderr.replace("rchroot", "chroot"), theirs.stderr);
    }
}

/// `id ARG` run as `spec` by rchroot and by chroot, in a root holding id.
fn id_as(test: &str, spec: &[&str], arg: &str) -> (Ran, Ran) {
    let dir = installed(test, &["/usr/bin/id"]);
    let mut args: Vec<&std::ffi::OsStr> = spec.iter().map(|s| s.as_ref()).collect();
    args.extend([dir.path().as_os_str(), "/usr/bin/id".as_ref(), arg.as_ref()]);
    both(&args)
}

#[test]
fn userspec_sets_uid_and_gid() {
    if !needs_root!() {
        return;
    }
    for (arg, want) in [("-u", "65534\n"), ("-g", "65533\n")] {
        let (ours, theirs) = id_as("userspec", &["--user=65534:65533"], arg);
        assert_eq!((ours.code, ours.stdout.as_str()), (0, want), "{ours:?}");
        assert_eq!(ours, theirs);
    }
}

#[test]
fn groups_sets_supplementary_groups() {
    if !needs_root!() {
        return;
    }
    let (ours, theirs) = id_as(
        "groups",
        &["--userspec=65534:65534", "--groups=12,+4321"],
        "-G",
    );
    assert_eq!(ours.code, 0, "{ours:?}");
    let mut groups: Vec<&str> = ours.stdout.split_whitespace().collect();
    groups.sort();
    assert_eq!(groups, ["12", "4321", "65534"]);
    assert_eq!(ours, theirs);
}

/// Starts `PROGRAM /bin/sleep 60` from a shell that leaves descriptors 7
/// and 8 open to it; the sleeping command's descriptors, its cwd and exe.
fn sleep_started_by_a_shell(program: &[&std::ffi::OsStr]) -> (Vec<String>, PathBuf, PathBuf) {
    let mut sleeper = Process::sleeping(
        Command::new("bash")
            .args(["-c", r#"exec 7</dev/null 8<&7; exec "$@""#, "bash"])
            .args(program)
            .args(["/bin/sleep", "60"]),
        false,
    );
    let proc_dir = PathBuf::from(format!("/proc/{}", sleeper.pid));
    let exe = std::fs::read_link(proc_dir.join("exe")).unwrap_or_default();
    let mut fds: Vec<String> = std::fs::read_dir(proc_dir.join("fd"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    fds.sort();
    let cwd = std::fs::read_link(proc_dir.join("cwd")).unwrap();
    sleeper.outer.kill().unwrap();
    drop(sleeper);
    (fds, cwd, exe)
}

#[test]
fn command_gets_the_callers_fds_and_none_of_ours_and_cwd_in_root() {
    if !needs_root!() {
        return;
    }
    let dir = installed("fds", &["/bin/sleep"]);
    // What the shell passes on: its 7 and 8, and what the test was given.
    let caller = crate::harness::inherited_fds(&[7, 8]);
    let rchroot = bin("rchroot");
    for mode in [&[][..], &["--pivot"][..]] {
        let mut program = vec![rchroot.as_os_str()];
        program.extend(mode.iter().map(std::ffi::OsStr::new));
        program.push(dir.path().as_os_str());
        let (fds, cwd, exe) = sleep_started_by_a_shell(&program);
        assert!(exe.ends_with("sleep"), "{mode:?}: {}", exe.display());
        assert_eq!(fds, caller, "{mode:?}");
        if mode.is_empty() {
            // chroot(2) moved the root; the working directory followed.
            assert_eq!(cwd, dir.path(), "{mode:?}");
        } else {
            // After pivot_root the root is no longer a path of the host.
            assert_eq!(cwd, Path::new("/"), "{mode:?}");
        }
    }
}

#[test]
fn command_status_passes_through_like_chroot() {
    if !needs_root!() {
        return;
    }
    let dir = installed("status", &["/bin/sh"]);
    let args = [
        dir.path().as_os_str(),
        "/bin/sh".as_ref(),
        "-c".as_ref(),
        "kill -TERM $$; exit 7".as_ref(),
    ];
    let (ours, theirs) = both(&args);
    assert_eq!(ours.code, 128 + libc::SIGTERM, "{ours:?}");
    assert_eq!(ours, theirs);
    let args = [
        dir.path().as_os_str(),
        "/bin/sh".as_ref(),
        "-c".as_ref(),
        "exit 7".as_ref(),
    ];
    let (ours, theirs) = both(&args);
    assert_eq!(ours.code, 7, "{ours:?}");
    assert_eq!(ours, theirs);
}

/// Both tools on `args`: the same exit code and output, and stderr the same
/// but for the tool's name.
fn assert_same_as_chroot(args: &[&std::ffi::OsStr]) -> Ran {
    let (ours, theirs) = both(args);
    assert_eq!(
        (
            ours.code,
            &ours.stdout,
            ours.stderr.replace("rchroot", "chroot")
        ),
        (theirs.code, &theirs.stdout, theirs.stderr.clone()),
        "{args:?}"
    );
    ours
}

#[test]
fn usage_errors_are_worded_like_chroot() {
    if !needs!("chroot") {
        return;
    }
    let dir = new_root("usage_errors");
    let d = dir.path().as_os_str();
    let cases: [&[&std::ffi::OsStr]; 8] = [
        &[],
        &["--bxt-nope".as_ref()],
        &["--bxt-nope=1".as_ref(), d],
        &["-x".as_ref(), d],
        &["--userspec".as_ref()],
        &["--user=".as_ref()],
        &["--skip-chdir".as_ref(), d, "true".as_ref()],
        &["--skip-chdir=1".as_ref(), "/".as_ref(), "true".as_ref()],
    ];
    for args in cases {
        let ours = assert_same_as_chroot(args);
        assert_eq!(ours.code, 125);
        assert_eq!(ours.stderr.lines().count(), 2, "{args:?}: {}", ours.stderr);
        assert!(ours
            .stderr
            .ends_with("\nTry 'rchroot --help' for more information.\n"));
    }
}

#[test]
fn options_end_at_newroot_like_chroot() {
    if !needs_root!() || !needs!("chroot") {
        return;
    }
    let dir = installed("options_end", &["/bin/echo"]);
    let d = dir.path().as_os_str();
    // What follows NEWROOT is the command, even when it looks like an option.
    for word in ["--help", "--version", "--", "-l", "--userspec=nobody"] {
        let ours = assert_same_as_chroot(&[d, word.as_ref(), "/bin/echo".as_ref()]);
        assert_eq!(ours.code, 127, "{word}");
        assert_eq!(
            ours.stderr,
            format!("rchroot: failed to run command '{word}': No such file or directory\n")
        );
    }
    let ours = assert_same_as_chroot(&[
        "--user".as_ref(),
        "0".as_ref(),
        d,
        "/bin/echo".as_ref(),
        "-n".as_ref(),
        "--groups=x".as_ref(),
    ]);
    assert_eq!((ours.code, ours.stdout.as_str()), (0, "--groups=x"));
    // An option's value is taken whatever it looks like: here a user name.
    let ours = assert_same_as_chroot(&[
        "--userspec".as_ref(),
        "--groups=0".as_ref(),
        d,
        "/bin/echo".as_ref(),
    ]);
    assert_eq!(
        (ours.code, ours.stderr.as_str()),
        (125, "rchroot: invalid user\n")
    );
}

#[test]
fn every_invalid_group_and_user_dot_group_like_chroot() {
    if !needs_root!() || !needs!("chroot") {
        return;
    }
    let dir = installed("dot_group", &["/bin/id"]);
    let d = dir.path().as_os_str();
    let ours = assert_same_as_chroot(&[
        "--groups=bxt-no-a,0,bxt-no-b".as_ref(),
        d,
        "/bin/id".as_ref(),
    ]);
    assert_eq!(ours.code, 125);
    assert_eq!(
        ours.stderr,
        "rchroot: invalid group 'bxt-no-a'\nrchroot: invalid group 'bxt-no-b'\n"
    );
    // The old USER.GROUP form works, with a warning.
    let ours = assert_same_as_chroot(&["--userspec=nobody.0".as_ref(), d, "/bin/id".as_ref()]);
    assert_eq!(ours.code, 0);
    assert_eq!(ours.stderr, "rchroot: warning: '.' should be ':'\n");
    assert!(ours.stdout.starts_with("uid=65534"), "{}", ours.stdout);
}

#[test]
fn usage_errors_are_worded_as_chroot_words_them() {
    if !needs!("chroot") {
        return;
    }
    for args in [
        &["--nope", "/"][..],
        &["--u"],
        &["--groups"],
        &["--skip-chdir=1", "/"],
        &["-x", "/"],
        &["-h"],
        &["-V"],
    ] {
        crate::harness::same_usage_error("rchroot", "chroot", args);
    }
}

#[test]
fn the_last_userspec_counts() {
    if !needs_root!() {
        return;
    }
    let args = ["--userspec=nobody", "--userspec", "0:0", "/", "id", "-u"];
    let ours = run(cmd("rchroot").args(args));
    let theirs = run(anchor("chroot").args(args));
    assert_eq!((ours.code, ours.stdout.as_str()), (0, "0\n"));
    assert_eq!((ours.code, &ours.stdout), (theirs.code, &theirs.stdout));
}
