//! rcgexec as a user runs it, as root: limits that hold, a job that never
//! leaves its cgroup, nothing left behind (even after SIGKILL of rcgexec),
//! the cgexec form against libcgroup's cgexec. Every cgroup is made below
//! this test process's own cgroup, named `bxt-…`, and removed on drop.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::harness::{anchor, cmd, eventually, have, root, run, skip, unique, Process, Ran};

/// A mounted hierarchy and this process's cgroup directory in it.
struct Hierarchy {
    /// The v1 controllers (`memory`, `cpu`, `name=systemd`); empty for cgroup2.
    controllers: Vec<String>,
    mount: PathBuf,
    own: PathBuf,
}

/// Every hierarchy this process is in, read from mountinfo and /proc/self/cgroup.
fn hierarchies() -> Vec<Hierarchy> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let mut out = Vec::new();
    for line in cgroup.lines() {
        let mut f = line.splitn(3, ':');
        let (_, list, path) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
        let controllers: Vec<String> = list
            .split(',')
            .filter(|c| !c.is_empty())
            .map(String::from)
            .collect();
        let mount = mountinfo.lines().find_map(|m| {
            let (left, right) = m.split_once(" - ")?;
            let mut r = right.split(' ');
            let (fstype, _, options) = (r.next()?, r.next()?, r.next()?);
            let matches = match fstype {
                "cgroup2" => controllers.is_empty(),
                "cgroup" => {
                    !controllers.is_empty()
                        && controllers
                            .iter()
                            .all(|c| options.split(',').any(|o| o == c))
                }
                _ => false,
            };
            let l: Vec<&str> = left.split(' ').collect();
            (matches && l[3] == "/").then(|| PathBuf::from(l[4]))
        });
        if let Some(mount) = mount {
            out.push(Hierarchy {
                controllers,
                own: mount.join(path.trim_start_matches('/')),
                mount,
            });
        }
    }
    out
}

/// This process's cgroup directory for `controller` ("" for cgroup2).
fn own(controller: &str) -> Option<PathBuf> {
    hierarchies()
        .into_iter()
        .find(|h| {
            if controller.is_empty() {
                h.controllers.is_empty()
            } else {
                h.controllers.iter().any(|c| c == controller)
            }
        })
        .map(|h| h.own)
}

/// A cgroup name for one test; on drop whatever is left of it in any
/// hierarchy is killed and removed (a test that left it fails first).
struct Name(String);

impl Name {
    fn new(test: &str) -> Name {
        Name(unique(test))
    }

    /// Its directories that exist now.
    fn left(&self) -> Vec<PathBuf> {
        hierarchies()
            .into_iter()
            .map(|h| h.own.join(&self.0))
            .filter(|d| d.exists())
            .collect()
    }

    fn dir(&self, controller: &str) -> PathBuf {
        own(controller).expect("hierarchy").join(&self.0)
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Drop for Name {
    fn drop(&mut self) {
        for dir in self.left() {
            for _ in 0..500 {
                let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
                if procs.trim().is_empty() && std::fs::remove_dir(&dir).is_ok() {
                    break;
                }
                for pid in procs.split_whitespace().filter_map(|p| p.parse().ok()) {
                    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// Root, on a host with cgroups mounted.
fn ready(test: &str) -> bool {
    root(test) && {
        let ok = !hierarchies().is_empty();
        if !ok {
            skip(test, "no cgroup hierarchy is mounted");
        }
        ok
    }
}

/// [`ready`], with v1 memory, pids and cpu hierarchies to set limits in
/// (on a pure cgroup v2 host, this test's own cgroup holds processes, so
/// v2 lets no controller be enabled below it).
fn limits(test: &str) -> bool {
    ready(test) && {
        let ok = ["memory", "pids", "cpu"].iter().all(|c| own(c).is_some());
        if !ok {
            skip(test, "needs v1 memory, pids and cpu hierarchies");
        }
        ok
    }
}

/// Says, where `cargo test` shows it, what a passing test measured.
fn note(test: &str, what: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "NOTE {test}: {what}");
}

/// rcgexec ARGS, run to its end.
fn rcgexec(args: &[&str]) -> Ran {
    run(cmd("rcgexec").args(args))
}

/// The JSON object on the last line of `stderr` (--stats -J).
fn stats(stderr: &str) -> serde_json::Value {
    let line = stderr.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("no JSON in {stderr:?}: {e}"))
}

#[test]
fn memory_limit_kills_and_is_reported() {
    if !limits("memory_limit_kills_and_is_reported") {
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
    if !limits("a_fork_loop_stays_within_pids_and_inside_its_cgroup") {
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

/// The processes whose command line `matches`.
fn processes(matches: impl Fn(&[u8]) -> bool) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| matches(&c)))
        .collect()
}

/// The processes running `sleep ARG`.
fn sleeping(arg: &str) -> Vec<i32> {
    let wanted = format!("sleep\0{arg}\0");
    processes(|c| c == wanted.as_bytes())
}

/// The processes with `marker` on their command line.
fn with_marker(marker: &str) -> Vec<i32> {
    processes(|c| c.windows(marker.len()).any(|w| w == marker.as_bytes()))
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
    if !limits("cpuset_pins_the_command") {
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
fn what_the_command_leaves_behind_is_killed_and_removed() {
    if !ready("what_the_command_leaves_behind_is_killed_and_removed") {
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
    if !ready("exit_status_and_signals_pass_through") {
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
    if !ready("sigterm_is_passed_on_and_cleaned_up_after") {
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

/// The command gets the caller's descriptors (a script's `exec 5<file`)
/// and none of rcgexec's (locked cgroup directories, pipes), seen from outside.
#[test]
fn the_command_gets_the_callers_fds_and_none_of_ours() {
    if !ready("the_command_gets_the_callers_fds_and_none_of_ours") {
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
    if !ready("signal_dispositions_and_mask_are_the_callers") {
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
}

#[test]
fn after_sigkill_the_next_run_clears_the_stale_cgroup() {
    if !ready("after_sigkill_the_next_run_clears_the_stale_cgroup") {
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
    if !ready("a_cgroup_in_use_by_another_rcgexec_is_refused") {
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

/// A cgroup made with mkdir below our own, in the memory hierarchy and
/// cgroup2, removed on drop.
struct Made(Vec<PathBuf>);

impl Made {
    fn new(dirs: Vec<PathBuf>) -> Made {
        for d in &dirs {
            std::fs::create_dir(d).unwrap();
        }
        Made(dirs)
    }
}

impl Drop for Made {
    fn drop(&mut self) {
        for d in &self.0 {
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// The path of cgroup `name` below ours from the root of the hierarchy of
/// `controller` ("" for cgroup2), as -g takes it.
fn from_root(controller: &str, name: &str) -> String {
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let own = cgroup
        .lines()
        .find_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_, list, path) = (f.next()?, f.next()?, f.next()?);
            let ok = if controller.is_empty() {
                list.is_empty()
            } else {
                list.split(',').any(|c| c == controller)
            };
            ok.then(|| path.to_string())
        })
        .unwrap();
    format!("{}/{name}", own.trim_end_matches('/'))
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
    if !ready("bad_input_is_one_line_and_leaves_nothing") {
        return;
    }
    let name = Name::new("bad");
    let n: &str = &name;
    for (args, code, message) in [
        (
            &["--memory", "12Q", "--name", n, "--", "true"][..],
            1,
            "invalid size '12Q'",
        ),
        (
            &["--pids", "0", "--name", n, "--", "true"],
            1,
            "--pids 0: must be at least 1",
        ),
        (
            &["--pids", "-5", "--name", n, "--", "true"],
            1,
            "--pids -5: must be at least 1",
        ),
        (
            &["--cpus", "0", "--name", n, "--", "true"],
            1,
            "--cpus 0: must be at least 0.01",
        ),
        (
            &["--cpus", "-0.5", "--name", n, "--", "true"],
            1,
            "--cpus -0.5: must be at least 0.01",
        ),
        (
            &["--cpuset", "", "--name", n, "--", "true"],
            1,
            "invalid CPU list ''",
        ),
        (
            &["--cpuset", "4096", "--name", n, "--", "true"],
            1,
            if own("cpuset").is_some() {
                "--cpuset 4096: CPU 4096 is not available here"
            } else {
                "cannot enforce --cpuset 4096"
            },
        ),
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
    ] {
        let ran = rcgexec(args);
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

#[test]
fn monitor_prints_a_line_per_interval() {
    if !limits("monitor_prints_a_line_per_interval") {
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
