//! Limits that hold: memory (an OOM kill, reported), tasks (a fork loop
//! that never gets out), CPU time, CPUs, a hierarchy that cannot take them;
//! and what --monitor shows meanwhile.

use super::*;
use crate::harness::test_name;

#[test]
fn memory_limit_kills_and_is_reported() {
    if !limits(test_name!()) {
        return;
    }
    let name = Name::new("oom");
    let ran = rcgexec(&[
        "--memory",
        "64M",
        "--name",
        &name,
        "--",
        "dd",
        "if=/dev/zero",
        "of=/dev/null",
        "bs=200M",
        "count=1",
    ]);
    assert_eq!(ran.code, 137, "{ran:?}");
    assert!(
        ran.stderr
            .contains("rcgexec: dd was killed by the memory limit (64M)\n"),
        "{ran:?}"
    );
    assert_eq!(name.left(), Vec::<PathBuf>::new());
}

#[test]
fn a_fork_loop_stays_within_pids_and_inside_its_cgroup() {
    if !limits(test_name!()) {
        return;
    }
    let name = Name::new("pids");
    let marker = format!("3.{}", std::process::id());
    // Forks sleeps until fork fails, then waits (the subshell gives up, the shell stays).
    let script = format!("(while :; do sleep {marker} & done) 2>/dev/null; exec sleep 2");
    let mut job = cmd("rcgexec")
        .args([
            "--pids", "20", "--stats", "-J", "--name", &name, "--", "sh", "-c", &script,
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let current = name.dir("pids").join("pids.current");
    let mut last = 0;
    assert!(eventually(|| {
        let now: u32 = std::fs::read_to_string(&current)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        let steady = now >= 15 && now == last;
        last = now;
        std::thread::sleep(Duration::from_millis(100));
        steady
    }));
    // Every process of the job (the shells and their sleeps: each has the
    // marker on its command line; rcgexec too, which stays outside) is in
    // the job's cgroup, in every hierarchy.
    let mut processes = with_marker(&marker);
    processes.retain(|&p| p != job.id() as i32);
    assert!(processes.len() >= 12, "{processes:?}");
    for pid in &processes {
        let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
        let inside = |h: &str| {
            cgroup
                .lines()
                .any(|l| l.contains(h) && l.ends_with(&*name.0))
        };
        assert!(inside(":pids:") && inside("0::"), "{pid}: {cgroup}");
    }
    let status = job.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut job.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "{stderr}");
    let peak = stats(&stderr)["tasks_peak"].as_u64().expect("tasks_peak");
    assert!((15..=20).contains(&peak), "{stderr}");
    assert_eq!(with_marker(&marker), Vec::<i32>::new());
    assert_eq!(name.left(), Vec::<PathBuf>::new());
}

/// A busy loop for 2 s under --cpus 0.2 and, at the same time, one
/// without: the limited one never gets more than 0.5 s. The unlimited one
/// gets about 2 s on an idle host; on a host so busy that it does not get
/// even 0.8 s, the two cannot be told apart, and the test says so.
#[test]
fn cpu_limit_shows_in_stats() {
    let test = "cpu_limit_shows_in_stats";
    if !limits(test) {
        return;
    }
    let names = [Name::new("cpu"), Name::new("cpu")];
    let busy = |name: &str, limit: &[&str]| {
        let mut args = vec!["--stats", "-J", "--name", name];
        args.extend_from_slice(limit);
        args.extend(["--", "timeout", "2", "sh", "-c", "while :; do :; done"]);
        cmd("rcgexec")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let both = [busy(&names[0], &["--cpus", "0.2"]), busy(&names[1], &[])];
    let [limited, free] = both.map(|child| {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(124), "{stderr}");
        stats(&stderr)["cpu_seconds"].as_f64().expect("cpu_seconds")
    });
    note(
        test,
        &format!("2 s busy: {limited:.3} s CPU under --cpus 0.2, {free:.3} s without"),
    );
    assert!(limited <= 0.5, "{limited}");
    if free < 0.8 {
        return skip(
            test,
            &format!("host too busy to compare: {free:.3} s of CPU without the limit"),
        );
    }
    assert!(
        limited >= 0.25 && free > 2.0 * limited,
        "{free} vs {limited}"
    );
    for name in &names {
        assert_eq!(name.left(), Vec::<PathBuf>::new());
    }
}

#[test]
fn cpuset_pins_the_command() {
    if !limits(test_name!()) {
        return;
    }
    let name = Name::new("cpuset");
    let ran = rcgexec(&[
        "--cpuset",
        "0",
        "--name",
        &name,
        "--",
        "grep",
        "Cpus_allowed_list",
        "/proc/self/status",
    ]);
    assert_eq!(
        (ran.code, ran.stdout.as_str()),
        (0, "Cpus_allowed_list:\t0\n"),
        "{ran:?}"
    );
    assert_eq!(name.left(), Vec::<PathBuf>::new());
}

#[test]
fn monitor_prints_a_line_per_interval() {
    if !limits(test_name!()) {
        return;
    }
    let name = Name::new("monitor");
    let ran = rcgexec(&[
        "--monitor",
        "0.2",
        "--memory",
        "64M",
        "--name",
        &name,
        "--",
        "sleep",
        "1.1",
    ]);
    assert_eq!(ran.code, 0, "{ran:?}");
    let lines: Vec<&str> = ran.stderr.lines().collect();
    assert!((4..=6).contains(&lines.len()), "{ran:?}");
    for line in &lines {
        let words: Vec<&str> = line.split(' ').collect();
        assert_eq!(words[0], "rcgexec:", "{line}");
        assert!(
            words[1].ends_with('s') && words[2] == "cpu" && words[3].ends_with('%'),
            "{line}"
        );
        assert!(
            words[4] == "memory" && words[6] == "/" && words[7] == "64M",
            "{line}"
        );
        assert_eq!(&words[8..], ["tasks", "1"], "{line}");
    }
    let ran = rcgexec(&[
        "--monitor",
        "0.2",
        "-J",
        "--name",
        &name,
        "--",
        "sleep",
        "0.5",
    ]);
    let first: serde_json::Value =
        serde_json::from_str(ran.stderr.lines().next().unwrap()).unwrap();
    assert!(
        first["cpu_percent"].is_number() && first["memory_bytes"].is_number(),
        "{ran:?}"
    );
    assert_eq!(first["tasks"], 1);
    assert_eq!(name.left(), Vec::<PathBuf>::new());
}

/// A read-only cgroupfs (in a mount namespace of the test's own): the
/// limit is refused by name, or with --best-effort not enforced, said so.
#[test]
fn a_limit_on_a_read_only_hierarchy_is_refused_or_skipped() {
    let test = "a_limit_on_a_read_only_hierarchy_is_refused_or_skipped";
    if !limits(test) {
        return;
    }
    let name = Name::new("ro");
    let n = name.0.clone();
    let pids = hierarchies()
        .into_iter()
        .find(|h| h.controllers == ["pids"]);
    let Some(pids) = pids else {
        return skip(test, "pids is not a hierarchy of its own");
    };
    let mount = pids.mount;
    let (strict, lenient) = crate::harness::in_mountns(move || {
        let ro = run(anchor("mount").args(["-o", "remount,bind,ro"]).arg(&mount));
        assert_eq!(ro.code, 0, "{ro:?}");
        let strict = rcgexec(&["--pids", "5", "--name", &n, "--", "echo", "ran"]);
        let lenient = rcgexec(&[
            "--pids",
            "5",
            "--best-effort",
            "--name",
            &n,
            "--",
            "echo",
            "ran",
        ]);
        (strict, lenient)
    });
    let why = format!(
        "cannot create cgroup /sys/fs/cgroup/pids/{}: Read-only file system",
        &*name
    );
    assert_eq!(
        strict,
        Ran {
            code: 1,
            stdout: String::new(),
            stderr: format!("rcgexec: cannot enforce --pids 5: {why}\n")
        }
    );
    assert_eq!(
        lenient,
        Ran {
            code: 0,
            stdout: "ran\n".into(),
            stderr: format!("rcgexec: not enforcing --pids 5: {why}\n")
        }
    );
    assert_eq!(name.left(), Vec::<PathBuf>::new());
}
