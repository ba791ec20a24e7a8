//! The lab scripts of tests/labs/ run with `--check` as root (the rootless
//! ones as nobody), with the built binaries on PATH: each must pass, and
//! the host's mounts, named network namespaces, links, cgroups and lab temp
//! dirs must be as before. A lab interrupted by SIGTERM undoes what it made
//! and says so; one killed by SIGKILL leaves what the next run clears and
//! names.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::harness::{self, test_name, Ran};

/// Labs run one at a time: each compares the host before and after, and
/// another lab's work in between would count as a leftover.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Every lab needs these, besides the tools it names.
const ALWAYS: &[&str] = &["rchroot", "runshare"];

/// Whether `tool` can be had: in BOXUTILS_BIN_DIR, or a binary of this
/// workspace (a crate of its name, or a `src/bin/` of another, as ripcs);
/// roverlay and rcgexec come from other branches. Else a visible skip.
fn available(test: &str, tool: &str) -> bool {
    let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools");
    let found = match std::env::var_os("BOXUTILS_BIN_DIR") {
        Some(dir) => Path::new(&dir).join(tool).is_file(),
        None => {
            tools.join(tool).join("Cargo.toml").is_file()
                || names(&tools).any(|krate| {
                    tools
                        .join(krate)
                        .join(format!("src/bin/{tool}.rs"))
                        .is_file()
                })
        }
    };
    if !found {
        harness::skip(test, &format!("{tool} is not built in this tree"));
    }
    found
}

/// The directory of the built binaries, once every tool of `tools` is
/// built; None (after a visible skip) when the lab cannot run here.
fn ready(test: &str, tools: &[&str]) -> Option<PathBuf> {
    if !harness::root(test) || !harness::have(test, "bash") || !harness::have(test, "ip") {
        return None;
    }
    let mut dir = None;
    for tool in ALWAYS.iter().chain(tools) {
        if !available(test, tool) {
            return None;
        }
        dir = harness::bin(tool).parent().map(Path::to_path_buf);
    }
    dir
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/labs")
        .join(name)
}

/// A lab's command: `bash LAB ARGS` with our binaries first on PATH and
/// its undo lists in `state`; as nobody (through setpriv) when `rootless`.
fn lab_command(bin_dir: &Path, state: &Path, name: &str, rootless: bool) -> Command {
    let mut c = if rootless {
        harness::nobody(Path::new("/bin/bash"), &[])
    } else {
        let mut c = harness::anchor("bash");
        c.env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        c
    };
    c.arg(script(name))
        .env("BOXUTILS_BIN_DIR", bin_dir)
        .env("BOXUTILS_LAB_STATE", state)
        .env_remove("BOXUTILS_LAB_STOP_AT");
    c
}

/// A directory for the labs' undo lists that nobody may write too.
fn state_dir(test: &str) -> tempfile::TempDir {
    let dir = harness::tempdir(&format!("state-{test}"));
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777))
        .expect("chmod the state dir");
    dir
}

/// What a lab could leave on the host: mount points, named network
/// namespaces, links, cgroups (every hierarchy) and lab temp dirs.
fn host() -> BTreeSet<String> {
    let mut seen: BTreeSet<String> = harness::mount_points()
        .into_iter()
        .map(|p| format!("mount {}", p.display()))
        .collect();
    for (kind, dir) in [("netns", "/run/netns"), ("link", "/sys/class/net")] {
        seen.extend(names(Path::new(dir)).map(|n| format!("{kind} {n}")));
    }
    seen.extend(
        names(&std::env::temp_dir())
            .filter(|n| n.starts_with("boxutils-lab"))
            .map(|n| format!("temp dir {n}")),
    );
    let mut dirs = vec![PathBuf::from("/sys/fs/cgroup")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                seen.insert(format!("cgroup {}", entry.path().display()));
                dirs.push(entry.path());
            }
        }
    }
    seen
}

fn names(dir: &Path) -> impl Iterator<Item = String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
}

/// What is on the host now and was not `before`, once other tests' short
/// lived things had time to go: a lab's leftovers stay.
fn left_over(before: &BTreeSet<String>) -> Vec<String> {
    let new = || -> Vec<String> { host().difference(before).cloned().collect() };
    harness::eventually(|| new().is_empty());
    new()
}

/// Runs lab `name` with --check; it must pass and leave the host as it
/// was.
fn check_lab(test: &str, name: &str, tools: &[&str], rootless: bool) {
    let Some(bin_dir) = ready(test, tools) else {
        return;
    };
    if rootless && !harness::have(test, "setpriv") {
        return;
    }
    let state = state_dir(test);
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let before = host();
    let ran = harness::run(lab_command(&bin_dir, state.path(), name, rootless).arg("--check"));
    assert_eq!(
        ran.code, 0,
        "{name} --check failed:\n{}{}",
        ran.stdout, ran.stderr
    );
    assert!(ran.stdout.contains("every step as described"), "{ran:?}");
    assert_eq!(
        left_over(&before),
        Vec::<String>::new(),
        "{name} left these"
    );
}

#[test]
fn lab01_chroot() {
    check_lab(test_name!(), "01-chroot.sh", &[], false);
}

#[test]
fn lab03_pid_namespace() {
    check_lab(test_name!(), "03-pidns.sh", &[], false);
}

#[test]
fn lab04_uts_namespace() {
    check_lab(test_name!(), "04-uts.sh", &[], false);
}

#[test]
fn lab05_ipc_namespace() {
    check_lab(
        "lab05_ipc_namespace",
        "05-ipc.sh",
        &["ripcmk", "ripcs"],
        false,
    );
}

#[test]
fn lab06_user_namespace_support() {
    check_lab(test_name!(), "06-userns.sh", &[], false);
}

#[test]
fn lab07_net_namespace_done_right() {
    check_lab(
        "lab07_net_namespace_done_right",
        "07-netns.sh",
        &["rvethpair", "rnsenter"],
        false,
    );
}

#[test]
fn lab08_cgroup_limits() {
    check_lab(test_name!(), "08-cgroups.sh", &["rcgexec"], false);
}

#[test]
fn lab10_resource_monitoring() {
    check_lab(
        "lab10_resource_monitoring",
        "10-monitoring.sh",
        &["rcgexec"],
        false,
    );
}

#[test]
fn lab09_layers() {
    check_lab(test_name!(), "09-layers.sh", &["roverlay"], false);
}

#[test]
fn lab11_overlay() {
    check_lab(test_name!(), "11-overlay.sh", &["roverlay"], false);
}

#[test]
fn lab12_namespaces_listed() {
    check_lab(test_name!(), "12-lsns.sh", &["rlsns"], false);
}

#[test]
fn lab13_pid_namespace_inside_and_out() {
    check_lab(
        "lab13_pid_namespace_inside_and_out",
        "13-pidns-host.sh",
        &["rnsenter", "rlsns"],
        false,
    );
}

#[test]
fn lab14_two_netns_joined_by_a_veth_pair() {
    check_lab(
        "lab14_two_netns_joined_by_a_veth_pair",
        "14-veth.sh",
        &["rvethpair", "rnsenter"],
        false,
    );
}

#[test]
fn lab15_user_namespace_as_nobody() {
    check_lab(
        "lab15_user_namespace_as_nobody",
        "15-userns-rootless.sh",
        &["rnsenter"],
        true,
    );
}

#[test]
fn lab16_the_whole_container() {
    check_lab(
        "lab16_the_whole_container",
        "16-container.sh",
        LAB16.tools,
        false,
    );
}

#[test]
fn lab16_the_whole_container_rootless_as_nobody() {
    check_lab(
        "lab16_the_whole_container_rootless_as_nobody",
        "16-container-rootless.sh",
        &["roverlay", "rlsns"],
        true,
    );
}

/// A lab that a test interrupts: stopped (BOXUTILS_LAB_STOP_AT) after
/// step `at`, when it has started `started` processes (itself not counted).
struct Stop {
    lab: &'static str,
    script: &'static str,
    tools: &'static [&'static str],
    at: &'static str,
    started: usize,
}

/// Lab 13 after step 3: its container (runshare, and sleep as PID 1) runs
/// in the background, beside the stop hook's sleep.
const LAB13: Stop = Stop {
    lab: "13",
    script: "13-pidns-host.sh",
    tools: &["rnsenter", "rlsns"],
    at: "3",
    started: 3,
};

/// Lab 16 after step 2: the overlay is mounted, the container (rcgexec,
/// runshare, init) runs in its cgroup and waits for its network.
const LAB16: Stop = Stop {
    lab: "16",
    script: "16-container.sh",
    tools: &["roverlay", "rvethpair", "rcgexec", "rlsns"],
    at: "2",
    started: 4,
};

/// A lab started by a test: if the test fails while it runs, it is
/// stopped with SIGTERM (and so undoes what it made) and reaped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = kill(Pid::from_raw(self.0.id() as i32), Signal::SIGTERM);
            let _ = self.0.wait();
        }
    }
}

/// `stop`'s lab started and stopped: the lab, its stdout (what follows the
/// stop line), and every process it had started.
fn stopped_lab(
    stop: &Stop,
    bin_dir: &Path,
    state: &Path,
) -> (Running, BufReader<std::process::ChildStdout>, Vec<u32>) {
    let mut child = lab_command(bin_dir, state, stop.script, false)
        .env("BOXUTILS_LAB_STOP_AT", stop.at)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the lab");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let child = Running(child);
    let mut line = String::new();
    let mut seen = String::new();
    while !line.contains("waiting to be killed") {
        line.clear();
        let read = out.read_line(&mut line).expect("read the lab's output");
        assert_ne!(read, 0, "the lab ended before it stopped:\n{seen}");
        seen.push_str(&line);
    }
    let mut tree = vec![child.0.id()];
    let mut i = 0;
    while i < tree.len() {
        tree.extend(harness::children(tree[i]));
        i += 1;
    }
    assert!(
        tree.len() > stop.started,
        "too few processes: {tree:?}\n{seen}"
    );
    (child, out, tree[1..].to_vec())
}

fn rest(mut out: impl Read) -> String {
    let mut text = String::new();
    out.read_to_string(&mut text)
        .expect("read the lab's output");
    text
}

fn gone(pids: &[u32]) -> bool {
    pids.iter().all(|p| {
        std::fs::read_to_string(format!("/proc/{p}/stat")).map_or(true, |s| {
            s.rsplit_once(") ").is_some_and(|(_, r)| r.starts_with('Z'))
        })
    })
}

/// Whether the host has what `stop`'s lab makes first: its temp dir.
fn has_temp_dir(stop: &Stop) -> bool {
    let prefix = format!("temp dir boxutils-lab{}.", stop.lab);
    host().iter().any(|t| t.starts_with(&prefix))
}

#[test]
fn lab_stopped_by_sigterm_undoes_what_it_made_and_says_so() {
    let test = "lab_stopped_by_sigterm_undoes_what_it_made_and_says_so";
    let Some(bin_dir) = ready(test, LAB13.tools) else {
        return;
    };
    let state = state_dir(test);
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let before = host();
    let (mut child, out, started) = stopped_lab(&LAB13, &bin_dir, state.path());
    assert!(has_temp_dir(&LAB13));
    kill(Pid::from_raw(child.0.id() as i32), Signal::SIGTERM).expect("SIGTERM the lab");
    let said = rest(out);
    let status = child.0.wait().expect("wait for the lab");
    assert_eq!(status.code(), Some(143), "{said}");
    assert!(
        said.contains("interrupted by SIGTERM; undoing what it made:"),
        "{said}"
    );
    assert!(said.contains("undo: kill runshare -fp"), "{said}");
    assert!(said.contains("undo: remove /tmp/boxutils-lab13."), "{said}");
    assert!(gone(&started), "{started:?} still run");
    assert_eq!(left_over(&before), Vec::<String>::new());
}

/// Kills `stop`'s lab with SIGKILL once stopped, checks that it left
/// something (processes, temp dir, and what `left` names), then runs it
/// again: the new run must say what it clears, pass, and leave nothing.
fn killed_then_cleared(test: &str, stop: &Stop, left: &str, cleared: &[&str]) {
    let Some(bin_dir) = ready(test, stop.tools) else {
        return;
    };
    let state = state_dir(test);
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let before = host();
    let (mut child, out, started) = stopped_lab(stop, &bin_dir, state.path());
    let pid = child.0.id();
    kill(Pid::from_raw(pid as i32), Signal::SIGKILL).expect("SIGKILL the lab");
    child.0.wait().expect("wait for the lab");
    drop(out);
    // Killed, it undid nothing: its processes run, its things are there.
    assert!(
        !gone(&started),
        "a killed lab's processes do not end by themselves"
    );
    assert!(has_temp_dir(stop));
    let left = left.replace("PID", &pid.to_string());
    assert!(host().iter().any(|t| t.contains(&left)), "no {left}");
    let again: Ran =
        harness::run(lab_command(&bin_dir, state.path(), stop.script, false).arg("--check"));
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    let said = format!(
        "lab {}: an earlier run (pid {pid}) was killed before it cleaned up; clearing what it left:\n  undo: kill the stop hook's sleep\n",
        stop.lab
    );
    assert!(again.stdout.contains(&said), "{}", again.stdout);
    for undo in cleared {
        let undo = format!("\n  undo: {}", undo.replace("PID", &pid.to_string()));
        assert!(
            again.stdout.contains(&undo),
            "no {undo:?} in\n{}",
            again.stdout
        );
    }
    assert!(gone(&started), "{started:?} still run");
    assert_eq!(left_over(&before), Vec::<String>::new());
}

#[test]
fn lab_killed_by_sigkill_is_cleared_by_the_next_run_which_says_so() {
    killed_then_cleared(
        "lab_killed_by_sigkill_is_cleared_by_the_next_run_which_says_so",
        &LAB13,
        "temp dir boxutils-lab13.",
        &["kill runshare -fp", "remove /tmp/boxutils-lab13."],
    );
}

#[test]
fn lab16_killed_halfway_is_cleared_by_the_next_run_which_says_so() {
    killed_then_cleared(
        "lab16_killed_halfway_is_cleared_by_the_next_run_which_says_so",
        &LAB16,
        "/boxutils-lab16-PID",
        &[
            "kill rcgexec --name boxutils-lab16-PID",
            "remove cgroup boxutils-lab16-PID",
            "remove /tmp/boxutils-lab16.",
        ],
    );
}
