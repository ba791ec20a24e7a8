//! What the command gets (the caller's descriptors and signal dispositions),
//! the cgexec form against libcgroup's cgexec, cgroup2 on a hybrid host, and
//! bad input.

use super::*;
use crate::harness::test_name;

/// The command gets the caller's descriptors (a script's `exec 5<file`)
/// and none of rcgexec's (locked cgroup directories, pipes), seen from outside.
#[test]
fn the_command_gets_the_callers_fds_and_none_of_ours() {
    if !ready(test_name!()) {
        return;
    }
    let name = Name::new("fds");
    let script = format!(
        "exec 5</etc/hostname; exec {} --stats --name {} -- sleep 1000",
        crate::harness::bin("rcgexec").display(),
        &*name
    );
    let mut job = Process::sleeping(Command::new("bash").args(["-c", &script]), true);
    let plain = "exec 5</etc/hostname; exec sleep 1000";
    let plain = Process::sleeping(Command::new("bash").args(["-c", plain]), false);
    let fds = |pid: u32| -> Vec<String> {
        let mut fds: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        fds.sort();
        fds
    };
    // What bash gives a command it execs itself: 0, 1, 2, 5 and whatever
    // this test process was given.
    assert_eq!(fds(job.pid as u32), fds(plain.pid as u32));
    assert!(fds(job.pid as u32).contains(&"5".to_string()));
    // rcgexec itself holds more (its cgroup directories), which stayed home.
    let (ours, its) = (fds(job.outer.id()), fds(job.pid as u32));
    assert!(ours.len() > its.len(), "{ours:?} {its:?}");
    kill(Pid::from_raw(job.outer.id() as i32), Signal::SIGTERM).unwrap();
    job.outer.wait().unwrap();
    assert_eq!(name.left(), Vec::<PathBuf>::new());
}

#[test]
fn signal_dispositions_and_mask_are_the_callers() {
    if !ready(test_name!()) {
        return;
    }
    let name = Name::new("sigs");
    let show = "grep -E '^Sig(Ign|Blk)' /proc/self/status";
    let direct = run(Command::new("sh").args(["-c", &format!("trap '' PIPE INT HUP; {show}")]));
    let script = format!(
        "trap '' PIPE INT HUP; {} --name {} -- sh -c \"{show}\"",
        crate::harness::bin("rcgexec").display(),
        &*name
    );
    let ours = run(Command::new("sh").args(["-c", &script]));
    assert_eq!(ours, direct);
    // HUP, INT and PIPE are ignored, as the trap asked.
    let ignored = direct
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:\t"));
    let ignored = u64::from_str_radix(ignored.unwrap(), 16).unwrap();
    assert_eq!(ignored & 0x1003, 0x1003, "{direct:?}");
    // An ignored SIGCHLD (the shell's trap cannot set it) stays ignored too.
    let exec_with_chld_ignored = |prefix: &[&str]| {
        let script = r#"$SIG{CHLD} = "IGNORE"; exec @ARGV or die"#;
        run(Command::new("perl")
            .args(["-e", script])
            .args(prefix)
            .args(["grep", "SigIgn", "/proc/self/status"]))
    };
    let rcgexec = crate::harness::bin("rcgexec");
    let ours = exec_with_chld_ignored(&[rcgexec.to_str().unwrap(), "--name", &name, "--"]);
    assert_eq!(ours, exec_with_chld_ignored(&[]));
    let ignored = ours.stdout.trim().strip_prefix("SigIgn:\t").unwrap();
    let ignored = u64::from_str_radix(ignored, 16).unwrap();
    assert_eq!(ignored & 0x10000, 0x10000, "{ours:?}");
}

#[test]
fn the_cgexec_form_joins_like_cgexec() {
    let test = "the_cgexec_form_joins_like_cgexec";
    if !limits(test) || !have(test, "cgexec") {
        return;
    }
    let name = Name::new("cgexec");
    let _made = Made::new(vec![name.dir("memory"), name.dir("pids")]);
    let memory = format!("memory:{}", from_root("memory", &name));
    let pids = format!("pids:{}", from_root("pids", &name));
    let args = ["-g", &memory, "-g", &pids, "cat", "/proc/self/cgroup"];
    let ours = rcgexec(&args);
    let theirs = run(anchor("cgexec").args(args));
    assert_eq!(ours, theirs);
    assert!(
        ours.stdout
            .lines()
            .any(|l| l.contains(":memory:/") && l.ends_with(&*name.0)),
        "{ours:?}"
    );
    // Both refuse a controller that does not exist (with their own codes).
    let ours = rcgexec(&["-g", "bogus:/x", "true"]);
    let theirs = run(anchor("cgexec").args(["-g", "bogus:/x", "true"]));
    assert_ne!(theirs.code, 0);
    assert_eq!(
        (ours.code, ours.stderr.as_str()),
        (1, "rcgexec: unknown controller 'bogus'\n")
    );
}

/// On a hybrid host, cgroup2 holds the job: joined with `-g :PATH`, killed
/// with cgroup.kill, its CPU time read from its cpu.stat, removed after.
#[test]
fn cgroup2_join_kill_stats_and_cleanup() {
    let test = "cgroup2_join_kill_stats_and_cleanup";
    if !ready(test) {
        return;
    }
    let Some(v2) = own("") else {
        return skip(test, "no cgroup2 mount");
    };
    let name = Name::new("v2");
    let made = Made::new(vec![v2.join(&*name)]);
    let path = from_root("", &name);
    let ran = rcgexec(&["-g", &format!(":{path}"), "cat", "/proc/self/cgroup"]);
    assert_eq!(ran.code, 0, "{ran:?}");
    assert!(
        ran.stdout.lines().any(|l| l == format!("0::{path}")),
        "{ran:?}"
    );
    drop(made);
    // No limits: the job is held by cgroup2 alone, and its CPU time comes from there.
    let ran = rcgexec(&[
        "--name",
        &name,
        "--",
        "sh",
        "-c",
        "cat /proc/self/cgroup; sleep 1000 & echo $!",
    ]);
    assert_eq!(ran.code, 0, "{ran:?}");
    assert!(
        ran.stdout.lines().any(|l| l == format!("0::{path}")),
        "{ran:?}"
    );
    let pid = ran.stdout.lines().last().unwrap();
    assert!(!std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|c| c.starts_with("sleep")));
    assert!(v2.join("cgroup.kill").exists() || !v2.join("cgroup.type").exists());
    let ran = rcgexec(&[
        "--stats",
        "-J",
        "--name",
        &name,
        "--",
        "sh",
        "-c",
        "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done",
    ]);
    let cpu = stats(&ran.stderr)["cpu_user_seconds"]
        .as_f64()
        .expect("cpu_user_seconds");
    assert!(cpu > 0.0, "{ran:?}");
    assert_eq!(name.left(), Vec::<PathBuf>::new());
}

#[test]
fn bad_input_is_one_line_and_leaves_nothing() {
    if !ready(test_name!()) {
        return;
    }
    let name = Name::new("bad");
    let n: &str = &name;
    // A refused value of each limit, with a name and a command that would run.
    let values = [
        ("--memory", "12Q", "invalid size '12Q'"),
        ("--pids", "0", "--pids 0: must be at least 1"),
        ("--pids", "-5", "--pids -5: must be at least 1"),
        ("--cpus", "0", "--cpus 0: must be at least 0.01"),
        ("--cpus", "-0.5", "--cpus -0.5: must be at least 0.01"),
        ("--cpuset", "", "invalid CPU list ''"),
        (
            "--cpuset",
            "4096",
            if own("cpuset").is_some() {
                "--cpuset 4096: CPU 4096 is not available here"
            } else {
                "cannot enforce --cpuset 4096"
            },
        ),
    ];
    let others: [(&[&str], i32, &str); 4] = [
        (&["-g", "bogus:/x", "true"], 1, "unknown controller 'bogus'"),
        (
            &["--name", "a/../b", "--", "true"],
            1,
            "invalid --name: 'a/../b' must not contain '.' or '..'",
        ),
        (
            &["--name", n, "--", "/nonexistent/command"],
            127,
            "failed to execute /nonexistent/command: No such file or directory",
        ),
        (&["--name", n], 1, "no command specified"),
    ];
    let cases = values
        .into_iter()
        .map(|(option, value, message)| {
            (vec![option, value, "--name", n, "--", "true"], 1, message)
        })
        .chain(others.map(|(args, code, message)| (args.to_vec(), code, message)));
    for (args, code, message) in cases {
        let ran = rcgexec(&args);
        assert_eq!(ran.code, code, "{args:?}: {ran:?}");
        assert_eq!(ran.stdout, "", "{args:?}");
        assert_eq!(ran.stderr.lines().count(), 1, "{args:?}: {ran:?}");
        assert!(
            ran.stderr.starts_with(&format!("rcgexec: {message}")),
            "{args:?}: {ran:?}"
        );
        assert_eq!(name.left(), Vec::<PathBuf>::new(), "{args:?}");
    }
}
