//! Nothing left behind: what the command leaves is killed, the cgroups go,
//! also after SIGTERM or SIGKILL of rcgexec; the exit status passes through;
//! v1 alone (cgroup2 hidden) freezes and kills.

use super::*;
use crate::harness::test_name;

#[test]
fn what_the_command_leaves_behind_is_killed_and_removed() {
    if !ready(test_name!()) {
        return;
    }
    let name = Name::new("left");
    let ran = rcgexec(&["--name", &name, "--", "sh", "-c", "sleep 1000 & echo $!"]);
    assert_eq!(ran.code, 0, "{ran:?}");
    let pid: i32 = ran.stdout.trim().parse().unwrap();
    let alive = std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|c| c.starts_with("sleep\x001000"));
    assert!(!alive, "sleep {pid} survived");
    assert_eq!(name.left(), Vec::<PathBuf>::new());
}

#[test]
fn exit_status_and_signals_pass_through() {
    if !ready(test_name!()) {
        return;
    }
    let name = Name::new("status");
    assert_eq!(
        rcgexec(&["--name", &name, "--", "sh", "-c", "exit 3"]).code,
        3
    );
    assert_eq!(
        rcgexec(&["--name", &name, "--", "sh", "-c", "kill -USR1 $$"]).code,
        128 + 10
    );
    assert_eq!(name.left(), Vec::<PathBuf>::new());
}

#[test]
fn sigterm_is_passed_on_and_cleaned_up_after() {
    if !ready(test_name!()) {
        return;
    }
    let name = Name::new("term");
    let mut job = Process::sleeping(
        cmd("rcgexec").args(["--name", &name, "--", "sleep", "1000"]),
        true,
    );
    kill(Pid::from_raw(job.outer.id() as i32), Signal::SIGTERM).unwrap();
    let status = job.outer.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(libc::SIGTERM)
    );
    assert_eq!(name.left(), Vec::<PathBuf>::new());
}

#[test]
fn after_sigkill_the_next_run_clears_the_stale_cgroup() {
    if !ready(test_name!()) {
        return;
    }
    let name = Name::new("stale");
    let marker = format!("7.{}", std::process::id());
    let mut job = Process::sleeping(
        cmd("rcgexec").args(["--name", &name, "--", "sleep", &marker]),
        true,
    );
    let sleep = job.pid;
    kill(Pid::from_raw(job.outer.id() as i32), Signal::SIGKILL).unwrap();
    job.outer.wait().unwrap();
    assert!(!name.left().is_empty());
    // A second rcgexec while the first is gone: the sleep is killed, the cgroup replaced.
    let ran = rcgexec(&["--name", &name, "--", "true"]);
    assert_eq!(ran.code, 0, "{ran:?}");
    let stale: Vec<&str> = ran.stderr.lines().collect();
    assert!(!stale.is_empty(), "{ran:?}");
    for line in stale {
        assert!(
            line.starts_with("rcgexec: removed stale cgroup /")
                && line.ends_with(&format!("{} (left by an earlier run)", &*name)),
            "{line}"
        );
    }
    assert!(
        eventually(|| sleeping(&marker).is_empty()),
        "sleep {sleep} survived"
    );
    assert_eq!(name.left(), Vec::<PathBuf>::new());
    drop(job);
}

#[test]
fn a_cgroup_in_use_by_another_rcgexec_is_refused() {
    if !ready(test_name!()) {
        return;
    }
    let name = Name::new("busy");
    let mut first = Process::sleeping(
        cmd("rcgexec").args(["--name", &name, "--", "sleep", "1000"]),
        true,
    );
    let ran = rcgexec(&["--name", &name, "--", "true"]);
    assert_eq!(ran.code, 1);
    assert!(
        ran.stderr.starts_with("rcgexec: cgroup /")
            && ran
                .stderr
                .contains(" is in use by another rcgexec (process "),
        "{ran:?}"
    );
    kill(Pid::from_raw(first.outer.id() as i32), Signal::SIGTERM).unwrap();
    first.outer.wait().unwrap();
    assert_eq!(name.left(), Vec::<PathBuf>::new());
}

/// SIGKILL of rcgexec at seeded random moments of its work, over and over:
/// each next run with the same name clears what was left and says so, and
/// in the end nothing is left.
#[test]
fn sigkill_at_random_points_leaves_nothing_behind() {
    let test = "sigkill_at_random_points_leaves_nothing_behind";
    if !ready(test) {
        return;
    }
    let name = Name::new("fault");
    let marker = format!("0.5{}", std::process::id());
    let seed = 0x5eed_u64 ^ u64::from(std::process::id());
    let mut rng = seed;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    // With limits where v1 hierarchies take them: more steps to be killed in.
    let mut args = vec!["--name", &name];
    if ["memory", "pids", "cpu"].iter().all(|c| own(c).is_some()) {
        args.extend(["--memory", "64M", "--pids", "50", "--cpus", "1"]);
    }
    let with = |command: &[&str]| -> Vec<String> {
        let words = args.iter().chain(&["--"]).chain(command);
        words.map(|w| w.to_string()).collect()
    };
    let forever = with(&["sleep", &marker]);
    let (mut kills, mut finished, mut stale) = (0, 0, 0);
    let tmp = crate::harness::tempdir("rcgexec-fault");
    let log_path = tmp.path().join("stderr");
    let start = Instant::now();
    while kills < 200 && start.elapsed() < Duration::from_secs(120) {
        // stderr in a file: a pipe would stay open in the orphaned sleep.
        let log = std::fs::File::create(&log_path).unwrap();
        let mut child = cmd("rcgexec")
            .args(&forever)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(next() % 15_000));
        let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
        let status = child.wait().unwrap();
        let stderr = std::fs::read_to_string(&log_path).unwrap();
        stale += stderr
            .lines()
            .filter(|l| l.contains("removed stale cgroup"))
            .count();
        match std::os::unix::process::ExitStatusExt::signal(&status) {
            Some(libc::SIGKILL) => kills += 1,
            _ => finished += 1,
        }
        let other = stderr.lines().find(|l| !l.contains("removed stale cgroup"));
        assert_eq!(other, None, "{stderr}");
    }
    let last = run(cmd("rcgexec").args(with(&["true"])));
    stale += last
        .stderr
        .lines()
        .filter(|l| l.contains("removed stale cgroup"))
        .count();
    note(
        test,
        &format!(
            "seed {seed:#x}: {kills} SIGKILLs and {finished} runs that ended first in {:.1} s; {stale} stale cgroups reported and removed",
            start.elapsed().as_secs_f64()
        ),
    );
    assert_eq!(last.code, 0, "{last:?}");
    assert!(kills >= 200, "only {kills} kills in time");
    assert!(stale > 0);
    assert!(eventually(|| sleeping(&marker).is_empty()));
    assert_eq!(name.left(), Vec::<PathBuf>::new());
}

/// A pure v1 host, made by hiding cgroup2 in a mount namespace of the
/// test's own: the freezer holds the job (freeze, kill, thaw), the child
/// joins every hierarchy itself, and CPU time comes from cpuacct.
#[test]
fn pure_v1_freezes_and_kills_what_is_left() {
    let test = "pure_v1_freezes_and_kills_what_is_left";
    if !limits(test) {
        return;
    }
    let v2 = hierarchies().into_iter().find(|h| h.controllers.is_empty());
    let (Some(v2), Some(_), Some(_)) = (v2, own("freezer"), own("cpuacct")) else {
        return skip(test, "needs cgroup2 to hide and v1 freezer and cpuacct");
    };
    let name = Name::new("v1");
    let n = name.0.clone();
    let ran = crate::harness::in_mountns(move || {
        let hidden = run(anchor("umount").arg("-l").arg(&v2.mount));
        assert_eq!(hidden.code, 0, "{hidden:?}");
        let script = "cat /proc/self/cgroup; sleep 1000 & echo $!";
        rcgexec(&[
            "--stats", "-J", "--pids", "9", "--name", &n, "--", "sh", "-c", script,
        ])
    });
    assert_eq!(ran.code, 0, "{ran:?}");
    let inside = |h: &str| {
        ran.stdout
            .lines()
            .any(|l| l.contains(h) && l.ends_with(&*name.0))
    };
    assert!(
        inside(":freezer:") && inside(":pids:") && !inside("0::"),
        "{ran:?}"
    );
    let pid = ran.stdout.lines().last().unwrap();
    let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    assert!(!cmdline.starts_with("sleep"), "sleep {pid} survived");
    let stats = stats(&ran.stderr);
    assert!(stats["cpu_user_seconds"].is_number(), "{stats}");
    assert!(
        stats["tasks_peak"].as_u64().is_some_and(|n| n >= 2),
        "{stats}"
    );
    assert_eq!(name.left(), Vec::<PathBuf>::new());
}
