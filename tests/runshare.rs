//! runshare against util-linux unshare: the labs' namespaces, persistence,
//! exit codes and signals, and the SECURITY.md rows (setgroups, user-ns
//! maps, /proc not on procfs, descriptor leaks, cwd outside the new root).

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::harness::{
    anchor, bin, children, cmd, eventually, have, in_mountns, nobody, root, run, run_into, tempdir,
    unique, Mounted, Ran,
};

/// The same command line under runshare and under unshare.
fn both(args: &[&str]) -> (Ran, Ran) {
    (
        run(cmd("runshare").args(args)),
        run(anchor("unshare").args(args)),
    )
}

/// runshare's stderr with its name where unshare's has unshare's.
fn as_unshare(stderr: &str) -> String {
    stderr.replace("runshare", "unshare")
}

/// The same exit code and stdout, and the same stderr but for the name.
#[track_caller]
fn assert_like_unshare(ours: &Ran, theirs: &Ran, what: &str) {
    assert_eq!(
        (ours.code, ours.stdout.as_str(), as_unshare(&ours.stderr)),
        (theirs.code, theirs.stdout.as_str(), theirs.stderr.clone()),
        "{what}"
    );
}

/// Both tools on `args`: runshare's stderr is `stderr`, unshare's the same
/// but for the name; both results.
#[track_caller]
fn says_like_unshare(args: &[&str], stderr: &str) -> (Ran, Ran) {
    let (ours, theirs) = both(args);
    assert_eq!(ours.stderr, stderr);
    assert_eq!(as_unshare(&ours.stderr), theirs.stderr);
    // A message is said on failure, with the anchor's exit code.
    assert_ne!(ours.code, 0, "{ours:?}");
    assert_eq!(ours.code, theirs.code, "{ours:?}\n{theirs:?}");
    (ours, theirs)
}

/// Both tools on `args` (`what` heads the messages): runshare succeeds and
/// does just what unshare does; runshare's result.
#[track_caller]
fn succeeds_like_unshare(args: &[&str], what: &str) -> Ran {
    let (ours, theirs) = both(args);
    assert_eq!(ours.code, 0, "{what}{}", ours.stderr);
    assert_eq!(ours, theirs, "{what}");
    ours
}

/// `sh -c SCRIPT` with `$R` set to the runshare under test.
fn sh(script: &str) -> Ran {
    run(Command::new("sh")
        .arg("-c")
        .arg(script)
        .env("R", bin("runshare"))
        .env("LC_ALL", "C"))
}

/// runshare ARGS run as nobody (see [`nobody`]).
fn as_nobody(groups: &[u32], args: &[&str]) -> Command {
    let mut c = nobody(&bin("runshare"), groups);
    c.args(args);
    c
}

/// True when root, setpriv is there and nobody can run the binary under
/// test (not so when the workspace sits below /root); else a visible skip.
fn as_nobody_possible(test: &str) -> bool {
    if !root(test) || !have(test, "setpriv") {
        return false;
    }
    let ok = run(&mut as_nobody(&[], &["--version"])).code == 0;
    if !ok {
        crate::harness::skip(test, "nobody cannot run the binary under test");
    }
    ok
}

/// True when `pid` has ended (gone, or a zombie nobody reaped yet).
fn ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}

#[test]
fn pid_namespace_makes_the_command_pid_1_like_unshare() {
    if !root("pid_namespace_makes_the_command_pid_1_like_unshare") {
        return;
    }
    let (ours, theirs) = both(&["-fp", "--mount-proc", "ps", "-eo", "pid,comm"]);
    assert_eq!(ours.stdout, "    PID COMMAND\n      1 ps\n");
    assert_eq!(ours, theirs);
}

#[test]
fn without_pid_namespace_host_processes_show() {
    if !root("without_pid_namespace_host_processes_show") {
        return;
    }
    let me = std::process::id().to_string();
    let (ours, theirs) = both(&["-f", "--mount-proc", "ps", "-eo", "pid="]);
    for ran in [&ours, &theirs] {
        assert_eq!(ran.code, 0, "{}", ran.stderr);
        assert!(ran.stdout.lines().any(|l| l.trim() == me), "{}", ran.stdout);
    }
}

#[test]
fn uts_namespace_keeps_the_host_hostname() {
    if !root("uts_namespace_keeps_the_host_hostname") {
        return;
    }
    let host_name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let host_ns = std::fs::read_link("/proc/thread-self/ns/uts").unwrap();
    let script = "hostname bxt-uts && hostname && readlink /proc/self/ns/uts";
    let (ours, theirs) = both(&["-u", "sh", "-c", script]);
    let lines: Vec<&str> = ours.stdout.lines().collect();
    assert_eq!(ours.code, 0, "{}", ours.stderr);
    assert_eq!(lines[0], "bxt-uts");
    assert_ne!(Path::new(lines[1]), host_ns);
    assert_eq!(theirs.stdout.lines().next(), Some("bxt-uts"));
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap(),
        host_name
    );
}

/// A SysV shared memory segment of the host, removed on drop.
struct Segment(i32);

impl Drop for Segment {
    fn drop(&mut self) {
        // SAFETY: IPC_RMID takes no buffer.
        unsafe { libc::shmctl(self.0, libc::IPC_RMID, std::ptr::null_mut()) };
    }
}

#[test]
fn ipc_namespace_hides_segments_both_ways() {
    if !root("ipc_namespace_hides_segments_both_ways") || !have("ipc", "ipcs") {
        return;
    }
    let key = 0x6278_0000 | (std::process::id() as i32 & 0xffff);
    // SAFETY: shmget takes only integers.
    let id = unsafe { libc::shmget(key, 4096, libc::IPC_CREAT | libc::IPC_EXCL | 0o600) };
    assert!(id >= 0, "shmget: {}", std::io::Error::last_os_error());
    let _segment = Segment(id);
    let host_key = format!("0x{key:08x}");
    assert!(run(anchor("ipcs").arg("-m")).stdout.contains(&host_key));

    let inside = run(cmd("runshare").args([
        "-i",
        "sh",
        "-c",
        "ipcs -m; ipcmk -M 4096 >/dev/null && ipcs -m",
    ]));
    assert_eq!(inside.code, 0, "{}", inside.stderr);
    assert!(!inside.stdout.contains(&host_key), "{}", inside.stdout);
    let made: Vec<&str> = inside
        .stdout
        .lines()
        .filter(|l| l.starts_with("0x"))
        .collect();
    assert_eq!(made.len(), 1, "{}", inside.stdout);
    let inner_key = made[0].split_whitespace().next().unwrap();
    // The host's listing still shows the host's segment: a failed ipcs
    // cannot pass for a hidden one.
    let after = run(anchor("ipcs").arg("-m"));
    assert!(
        after.code == 0 && after.stdout.contains(&host_key) && !after.stdout.contains(inner_key),
        "{after:?}"
    );
}

#[test]
fn mount_namespace_differs_from_the_callers() {
    if !root("mount_namespace_differs_from_the_callers") {
        return;
    }
    let mine = std::fs::read_link("/proc/thread-self/ns/mnt").unwrap();
    let (ours, theirs) = both(&["-m", "readlink", "/proc/self/ns/mnt"]);
    assert_eq!(ours.code, 0, "{}", ours.stderr);
    assert_ne!(Path::new(ours.stdout.trim()), mine);
    assert_ne!(Path::new(theirs.stdout.trim()), mine);
}

#[test]
fn ordinary_user_maps_root_and_stays_itself_on_the_host() {
    if !as_nobody_possible("ordinary_user_maps_root_and_stays_itself_on_the_host") {
        return;
    }
    let dir = tempdir("lab15");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let made = dir.path().join("made");
    let ran = run(&mut as_nobody(
        &[],
        &[
            "-U",
            "--map-root-user",
            "sh",
            "-c",
            &format!(
                "id -u && touch {} && readlink /proc/self/ns/user",
                made.display()
            ),
        ],
    ));
    let lines: Vec<&str> = ran.stdout.lines().collect();
    assert_eq!((ran.code, lines[0]), (0, "0"), "{}", ran.stderr);
    let host_ns = std::fs::read_link("/proc/thread-self/ns/user").unwrap();
    assert_ne!(Path::new(lines[1]), host_ns);
    assert_eq!(std::fs::metadata(&made).unwrap().uid(), 65534);
}

#[test]
fn setgroups_is_denied_so_a_group_cannot_be_dropped() {
    // CVE-2014-8989: a file root:G 0604 must stay unreadable to a member of G.
    if !as_nobody_possible("setgroups_is_denied_so_a_group_cannot_be_dropped") {
        return;
    }
    let group = 40000 + std::process::id() % 20000;
    let dir = tempdir("setgroups");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let file = dir.path().join("secret");
    std::fs::write(&file, "secret\n").unwrap();
    std::os::unix::fs::chown(&file, Some(0), Some(group)).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o604)).unwrap();
    let file = file.to_str().unwrap();

    let cat = run(&mut as_nobody(
        &[group],
        &["-U", "--map-root-user", "cat", file],
    ));
    assert_eq!(cat.code, 1);
    assert_eq!(cat.stderr, format!("cat: {file}: Permission denied\n"));
    let state = run(&mut as_nobody(
        &[group],
        &["-U", "--map-root-user", "cat", "/proc/self/setgroups"],
    ));
    assert_eq!(state.stdout, "deny\n", "{}", state.stderr);
    let drop = run(&mut as_nobody(
        &[group],
        &[
            "-U",
            "--map-root-user",
            "setpriv",
            "--clear-groups",
            "cat",
            file,
        ],
    ));
    assert_ne!(drop.code, 0);
    assert!(
        drop.stderr.contains("Operation not permitted"),
        "{}",
        drop.stderr
    );
    assert!(!drop.stdout.contains("secret"));
}

#[test]
fn setgroups_allow_with_a_group_map_is_refused_like_unshare() {
    let (ours, _) = says_like_unshare(
        &["-r", "--setgroups", "allow", "true"],
        "runshare: options --setgroups=allow and --map-group are mutually exclusive\n",
    );
    assert_eq!(ours.code, 1);
}

#[test]
fn persistent_uts_namespace_is_entered_by_nsenter() {
    if !root("persistent_uts_namespace_is_entered_by_nsenter") || !have("persist", "nsenter") {
        return;
    }
    let dir = tempdir("persist-uts");
    let file = dir.path().join("uts");
    std::fs::write(&file, "").unwrap();
    let (made, seen) = in_mountns(move || {
        let made = run(cmd("runshare")
            .arg(format!("--uts={}", file.display()))
            .args(["hostname", "bxt-kept"]));
        let _bound = Mounted(file.clone());
        let seen = run(anchor("nsenter")
            .arg(format!("--uts={}", file.display()))
            .arg("hostname"));
        (made, seen)
    });
    assert_eq!(made.code, 0, "{}", made.stderr);
    assert_eq!(seen.stdout, "bxt-kept\n", "{}", seen.stderr);
}

#[test]
fn persistent_mount_namespace_needs_a_private_mount() {
    if !root("persistent_mount_namespace_needs_a_private_mount") {
        return;
    }
    let dir = tempdir("persist-mnt");
    let base = dir.path().to_path_buf();
    let (shared, private, entered, before, after) = in_mountns(move || {
        nix::mount::mount(
            Some("tmpfs"),
            &base,
            Some("tmpfs"),
            nix::mount::MsFlags::empty(),
            None::<&str>,
        )
        .unwrap();
        let _tmpfs = Mounted(base.clone());
        nix::mount::mount(
            None::<&str>,
            &base,
            None::<&str>,
            nix::mount::MsFlags::MS_SHARED,
            None::<&str>,
        )
        .unwrap();
        let file = base.join("mnt");
        std::fs::write(&file, "").unwrap();
        let mounts = || std::fs::read_to_string("/proc/thread-self/mountinfo").unwrap();
        let before = mounts();
        let arg = format!("--mount={}", file.display());
        let shared = run(cmd("runshare").args([arg.as_str(), "true"]));
        let after = mounts();
        nix::mount::mount(
            None::<&str>,
            &base,
            None::<&str>,
            nix::mount::MsFlags::MS_PRIVATE,
            None::<&str>,
        )
        .unwrap();
        // Linux 6.18 numbers namespaces per CPU: start runshare on each CPU
        // in turn (then let it run anywhere) so that a namespace numbered
        // below ours is met; every bind must still succeed.
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        for i in 0..2 * cpus {
            let ran = sh(&format!(
                "taskset -c {} sh -c 'taskset -pc 0-{} $$ >/dev/null; exec \"$R\" {arg} true' \
                 && umount {}",
                i % cpus,
                cpus - 1,
                file.display()
            ));
            assert_eq!(ran.code, 0, "start on cpu {}: {}", i % cpus, ran.stderr);
        }
        let private = run(cmd("runshare").args([arg.as_str(), "true"]));
        let _bound = Mounted(file.clone());
        let entered = run(anchor("nsenter")
            .arg(&arg)
            .args(["readlink", "/proc/self/ns/mnt"]));
        (shared, private, entered, before, after)
    });
    assert_eq!(shared.code, 1);
    assert_eq!(shared.stderr.lines().count(), 1, "{}", shared.stderr);
    assert!(shared.stderr.contains("is shared"), "{}", shared.stderr);
    assert_eq!(before, after, "a refused --mount=FILE left a mount");
    assert_eq!(private.code, 0, "{}", private.stderr);
    assert!(entered.stdout.starts_with("mnt:["), "{}", entered.stderr);
}

#[test]
fn missing_persistence_file_is_refused_before_anything() {
    if !root("missing_persistence_file_is_refused_before_anything") {
        return;
    }
    let dir = tempdir("persist-missing");
    let file = dir.path().join("nope");
    let marker = dir.path().join("ran");
    let ran = run(cmd("runshare")
        .arg(format!("--uts={}", file.display()))
        .args(["touch", marker.to_str().unwrap()]));
    assert_eq!(ran.code, 1);
    assert_eq!(
        ran.stderr,
        format!(
            "runshare: cannot keep the uts namespace on {}: No such file or directory\n",
            file.display()
        )
    );
    assert!(!marker.exists());
    assert!(!file.exists());
}

#[test]
fn mount_proc_on_a_file_is_refused_with_unshares_words() {
    if !root("mount_proc_on_a_file_is_refused_with_unshares_words") {
        return;
    }
    let dir = tempdir("proc-file");
    let marker = dir.path().join("ran");
    let args = [
        "--mount-proc=/etc/passwd",
        "touch",
        marker.to_str().unwrap(),
    ];
    let (ours, theirs) = says_like_unshare(
        &args,
        "runshare: mount /etc/passwd failed: Not a directory\n",
    );
    assert_eq!(ours.code, 1);
    assert_eq!(theirs.code, 1);
    assert!(!marker.exists());
}

#[test]
fn overlapping_maps_are_refused_before_any_write() {
    let dir = tempdir("overlap");
    let marker = dir.path().join("ran");
    let ran = run(cmd("runshare").args([
        "--map-users=0:100000:10",
        "--map-users=5:200000:10",
        "touch",
        marker.to_str().unwrap(),
    ]));
    assert_eq!(ran.code, 1);
    assert_eq!(
        ran.stderr,
        "runshare: uid ranges 0:100000:10 and 5:200000:10 overlap inside the namespace\n"
    );
    assert!(!marker.exists());
}

#[test]
fn a_map_of_341_lines_is_refused() {
    let args: Vec<String> = (0..341)
        .map(|i| format!("--map-groups={}:{}:1", i * 2, 100000 + i * 2))
        .collect();
    let ran = run(cmd("runshare").args(&args).arg("true"));
    assert_eq!(ran.code, 1);
    assert_eq!(
        ran.stderr,
        "runshare: gid map has 341 ranges, the kernel takes at most 340\n"
    );
}

#[test]
fn whole_maps_are_written_from_outside_as_root() {
    if !root("whole_maps_are_written_from_outside_as_root") {
        return;
    }
    let ran = run(cmd("runshare").args([
        "--map-users=0:100000:10",
        "--map-groups=100000,0,10",
        "--map-user=5",
        "sh",
        "-c",
        "cat /proc/self/uid_map /proc/self/gid_map",
    ]));
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let lines: Vec<Vec<&str>> = ran
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines,
        vec![
            vec!["5", "0", "1"],
            vec!["0", "100000", "5"],
            vec!["6", "100005", "4"],
            vec!["0", "100000", "10"],
        ]
    );
}

#[test]
fn maps_never_race_the_unshare() {
    // The helper writes only after the unshare: 1000 runs, no EPERM.
    if !root("maps_never_race_the_unshare") {
        return;
    }
    let ran = sh("i=0; while [ $i -lt 1000 ]; do \
         \"$R\" --map-users=0:100000:65536 --map-groups=0:100000:65536 true || exit 1; \
         i=$((i+1)); done; echo $i");
    assert_eq!(
        (ran.code, ran.stdout.as_str()),
        (0, "1000\n"),
        "{}",
        ran.stderr
    );
}

#[test]
fn map_root_user_as_root_says_nothing_like_unshare() {
    // unshare prints no warning (its forward-signals tests match stderr);
    // the man page says what mapping root to root means.
    if !root("map_root_user_as_root_says_nothing_like_unshare") {
        return;
    }
    let ran = succeeds_like_unshare(&["--map-root-user", "cat", "/proc/self/uid_map"], "");
    assert_eq!(ran.stderr, "");
    let map: Vec<&str> = ran.stdout.split_whitespace().collect();
    assert_eq!(map, ["0", "0", "1"]);
}

/// A map of count 0 is refused before anything is made, never run in the
/// host's user namespace; every map option makes a user namespace.
#[test]
fn map_options_make_the_user_namespace_or_refuse() {
    for arg in ["--map-users=0,65534,0", "--map-groups=0:65534:0"] {
        let ran = run(cmd("runshare").args([arg, "id"]));
        let map = arg.split_once('=').unwrap().1;
        assert_eq!(
            (ran.code, ran.stdout.as_str(), ran.stderr.as_str()),
            (
                1,
                "",
                &*format!("runshare: invalid mapping '{map}': a count of 0 maps nothing\n")
            )
        );
    }
    if !root("map_options_make_the_user_namespace_or_refuse") {
        return;
    }
    let host = std::fs::read_link("/proc/self/ns/user").unwrap();
    for args in [
        &["--map-users=0:100000:10"][..],
        &["--map-groups=0:100000:10"],
        &["--map-user=-1"],
    ] {
        let ran = run(cmd("runshare")
            .args(args)
            .args(["readlink", "/proc/self/ns/user"]));
        assert_eq!(ran.code, 0, "{args:?}: {}", ran.stderr);
        assert_ne!(Path::new(ran.stdout.trim_end()), host, "{args:?}");
    }
}

#[test]
fn proc_not_on_procfs_is_refused() {
    // runc CVE-2019-16884: a fake /proc must not take the map writes.
    if !root("proc_not_on_procfs_is_refused") {
        return;
    }
    // Made now: finding the binary needs the real /proc.
    let mut tool = cmd("runshare");
    tool.args(["-Ur", "true"]);
    let ran = in_mountns(move || {
        nix::mount::mount(
            Some("tmpfs"),
            "/proc",
            Some("tmpfs"),
            nix::mount::MsFlags::empty(),
            None::<&str>,
        )
        .unwrap();
        let _fake = Mounted("/proc".into());
        std::fs::create_dir_all("/proc/self").unwrap();
        for f in ["uid_map", "gid_map", "setgroups"] {
            std::fs::write(Path::new("/proc/self").join(f), "").unwrap();
        }
        run(&mut tool)
    });
    assert_eq!(ran.code, 1);
    assert!(
        ran.stderr
            .ends_with("/proc/self/uid_map is not on procfs\n"),
        "{}",
        ran.stderr
    );
}

#[test]
fn no_user_namespaces_left_names_the_sysctl() {
    if !root("no_user_namespaces_left_names_the_sysctl") {
        return;
    }
    // max_user_namespaces is per user namespace: set it to 0 in one of our own.
    let ran = sh("exec \"$R\" -r sh -c \
         'echo 0 > /proc/sys/user/max_user_namespaces && exec \"$R\" -U true'");
    assert_eq!(ran.code, 1);
    assert!(
        ran.stderr.ends_with(
            "runshare: unshare failed: No space left on device (user.max_user_namespaces is 0)\n"
        ),
        "{}",
        ran.stderr
    );
}

/// The command gets the caller's descriptors (fd 7 here), as with
/// unshare, and none of runshare's own: the helpers' pipes, the pidfd of
/// --kill-child, the persistence binds' files are all close-on-exec.
#[test]
fn command_gets_the_callers_descriptors_and_none_of_its_own() {
    if !root("command_gets_the_callers_descriptors_and_none_of_its_own") {
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
    if !root("wd_outside_the_new_root_is_refused") || !have("wd", "busybox") {
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
    if !root("time_offsets_like_unshare") {
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
    if !root("kill_child_kills_the_child_when_runshare_dies") {
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
    if !root("forward_signals_passes_sigterm_to_the_child") {
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
    if !root("sigterm_is_ignored_while_waiting_without_forward_signals") {
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
    if !as_nobody_possible("ordinary_user_gets_the_same_as_with_unshare") {
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

#[test]
fn ordinary_user_without_user_namespace_is_told_why() {
    if !as_nobody_possible("ordinary_user_without_user_namespace_is_told_why") {
        return;
    }
    let ran = run(&mut as_nobody(&[], &["-n", "true"]));
    assert_eq!(ran.code, 1);
    assert_eq!(
        ran.stderr,
        "runshare: unshare failed: Operation not permitted (needs CAP_SYS_ADMIN: \
         run as root, or add --user to unshare as a user)\n"
    );
}

#[test]
fn setuid_and_setgid_like_unshare() {
    if !root("setuid_and_setgid_like_unshare") {
        return;
    }
    let ours = succeeds_like_unshare(&["-S", "65534", "-G", "65534", "id"], "");
    assert!(ours.stdout.starts_with("uid=65534"), "{}", ours.stdout);
    says_like_unshare(
        &["-S", "abc", "true"],
        "runshare: failed to parse uid: 'abc'\n",
    );
}

#[test]
fn propagation_like_unshare() {
    if !root("propagation_like_unshare") || !have("propagation", "findmnt") {
        return;
    }
    for mode in ["private", "slave", "shared", "unchanged"] {
        let args = [
            "-m",
            "--propagation",
            mode,
            "findmnt",
            "-no",
            "PROPAGATION",
            "/",
        ];
        succeeds_like_unshare(&args, &format!("{mode}: "));
    }
    says_like_unshare(
        &["--propagation", "bogus", "true"],
        "runshare: unsupported propagation mode: bogus\n",
    );
}

#[test]
fn new_root_and_directory_like_unshare() {
    if !root("new_root_and_directory_like_unshare") || !have("root", "busybox") {
        return;
    }
    let dir = tempdir("newroot");
    std::fs::create_dir_all(dir.path().join("bin")).unwrap();
    std::fs::create_dir_all(dir.path().join("proc")).unwrap();
    crate::harness::copy_exe(Path::new("/bin/busybox"), &dir.path().join("bin/busybox"));
    let newroot = dir.path().to_str().unwrap();
    let (ours, theirs) = both(&["-R", newroot, "-w", "/bin", "/bin/busybox", "pwd"]);
    assert_eq!(
        (ours.code, ours.stdout.as_str()),
        (0, "/bin\n"),
        "{}",
        ours.stderr
    );
    assert_eq!(ours, theirs);
    let args = [
        "-R",
        newroot,
        "-fp",
        "--mount-proc",
        "/bin/busybox",
        "ps",
        "-o",
        "pid,comm",
    ];
    let ours = succeeds_like_unshare(&args, "");
    assert!(
        ours.stdout.contains("1 busybox") || ours.stdout.contains("1 ps"),
        "{}",
        ours.stdout
    );
}

#[test]
fn default_command_is_the_shell_like_unshare() {
    // SHELL=/bin/echo: the "shell" prints its arguments (none) and exits.
    let ours = run(cmd("runshare").env("SHELL", "/bin/echo"));
    let theirs = run(anchor("unshare").env("SHELL", "/bin/echo"));
    assert_eq!((ours.code, ours.stdout.as_str()), (0, "\n"));
    assert_eq!(ours, theirs);
}

#[test]
fn ordinary_user_maps_own_ids_from_outside() {
    // An own-ID range needs no newuidmap: written from the parent
    // namespace, setgroups denied first for the gid map.
    if !as_nobody_possible("ordinary_user_maps_own_ids_from_outside") {
        return;
    }
    let ran = run(&mut as_nobody(
        &[],
        &[
            "--map-users=0:65534:1",
            "--map-groups=65534,0,1",
            "sh",
            "-c",
            "id -u; id -g; cat /proc/self/setgroups",
        ],
    ));
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(ran.stdout, "0\n0\ndeny\n");
}

#[test]
fn ordinary_user_wider_ranges_go_through_newuidmap() {
    if !as_nobody_possible("ordinary_user_wider_ranges_go_through_newuidmap") {
        return;
    }
    if Path::new("/usr/bin/newuidmap").exists() {
        crate::harness::skip("wide", "newuidmap is installed: the refusal is not reached");
        return;
    }
    let dir = tempdir("wide");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let marker = dir.path().join("ran");
    let ran = run(&mut as_nobody(
        &[],
        &["--map-users=0:100000:10", "touch", marker.to_str().unwrap()],
    ));
    assert_eq!(ran.code, 127);
    assert_eq!(
        ran.stderr,
        "runshare: failed to execute newuidmap: No such file or directory\n"
    );
    assert!(!marker.exists());
    // The same in the form unshare 2.38 reads, compared.
    let args = ["--map-users=100000,0,10", "true"];
    let ours = run(&mut as_nobody(&[], &args));
    let theirs = run(nobody(Path::new("unshare"), &[]).args(args));
    assert_eq!(ours.code, theirs.code);
    assert_eq!(as_unshare(&ours.stderr), theirs.stderr);
}

#[test]
fn every_namespace_kind_is_kept_and_entered() {
    if !root("every_namespace_kind_is_kept_and_entered") || !have("all", "nsenter") {
        return;
    }
    let dir = tempdir("persist-all");
    let base = dir.path().to_path_buf();
    let (made, seen, kept) = in_mountns(move || {
        nix::mount::mount(
            Some("tmpfs"),
            &base,
            Some("tmpfs"),
            nix::mount::MsFlags::empty(),
            None::<&str>,
        )
        .unwrap();
        let _tmpfs = Mounted(base.clone());
        let kinds = [
            "user", "cgroup", "ipc", "uts", "net", "pid", "mount", "time",
        ];
        let mut made = cmd("runshare");
        made.current_dir(&base);
        for kind in kinds {
            std::fs::write(base.join(kind), "").unwrap();
            made.arg(format!("--{kind}={kind}"));
        }
        let made = run(made.args(["-f", "-r", "--monotonic=50", "hostname", "bxt-all"]));
        let kept = run(anchor("findmnt")
            .args(["-n", "-o", "FSTYPE", "-R"])
            .arg(&base))
        .stdout;
        let seen = run(anchor("nsenter")
            .current_dir(&base)
            .args(["--user=user", "--uts=uts", "--mount=mount", "--time=time"])
            .args([
                "sh",
                "-c",
                "hostname; cat /proc/self/uid_map /proc/self/timens_offsets",
            ]));
        (made, seen, kept)
    });
    assert_eq!(made.code, 0, "{}", made.stderr);
    assert_eq!(kept.matches("nsfs").count(), 8, "{kept}");
    let words: Vec<&str> = seen.stdout.split_whitespace().collect();
    assert_eq!(
        words[..6],
        ["bxt-all", "0", "0", "1", "monotonic", "50"],
        "{}",
        seen.stderr
    );
}

#[test]
fn sigkill_of_pid_1_from_the_host_ends_the_container() {
    if !root("sigkill_of_pid_1_from_the_host_ends_the_container") {
        return;
    }
    use std::os::unix::process::ExitStatusExt;
    let mut tool = crate::harness::Spawned::new(
        cmd("runshare")
            .args([
                "-fp",
                "--mount-proc",
                "sh",
                "-c",
                "sleep 1000 & echo up; wait",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped()),
    );
    let mut up = [0u8; 3];
    std::io::Read::read_exact(tool.stdout.as_mut().unwrap(), &mut up).unwrap();
    let init = children(tool.id())[0];
    let sleeper = children(init)[0];
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(init as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    assert_eq!(tool.wait().unwrap().signal(), Some(libc::SIGKILL));
    assert!(
        eventually(|| ended(sleeper)),
        "{sleeper} outlived its PID 1"
    );
}

#[test]
fn map_user_and_group_by_name_like_unshare() {
    if !root("map_user_and_group_by_name_like_unshare") {
        return;
    }
    let args = [
        "--map-user=nobody",
        "--map-group=65534",
        "cat",
        "/proc/self/uid_map",
        "/proc/self/gid_map",
        "/proc/self/setgroups",
    ];
    let (ours, theirs) = both(&args);
    let words: Vec<&str> = ours.stdout.split_whitespace().collect();
    assert_eq!(
        words,
        ["65534", "0", "1", "65534", "0", "1", "deny"],
        "{}",
        ours.stderr
    );
    assert_eq!(ours, theirs);
    says_like_unshare(
        &["--map-user=bxt-nosuchuser", "true"],
        "runshare: failed to parse uid: 'bxt-nosuchuser'\n",
    );
}

#[test]
fn usage_errors_are_getopts_like_unshare() {
    if !have("usage_errors_are_getopts_like_unshare", "unshare") {
        return;
    }
    // unshare's short namespace options take no argument: `-m=x` is -m and
    // an invalid `-=`. Each line: same words, exit 1, nothing run.
    for line in [
        "-m=x true",
        "-m/tmp true",
        "-fx true",
        "--nope true",
        "--nope=1 true",
        "--m true",
        "--m=x true",
        "--k true",
        "--fork=1 true",
        "--wd",
        "-R",
        "-fS",
        "--nope -h",
    ] {
        let args: Vec<&str> = line.split(' ').collect();
        let (ours, theirs) = both(&args);
        assert_eq!(ours.code, 1, "{line}: {}", ours.stderr);
        assert_like_unshare(&ours, &theirs, line);
    }
}

#[test]
fn repeated_options_and_abbreviations_count_like_unshare() {
    if !root("repeated_options_and_abbreviations_count_like_unshare") {
        return;
    }
    // getopt lets the last one win where clap would refuse a repeat; the
    // last of -r, -c, --map-user, --map-group sets each ID.
    for line in [
        "-f -f -R / -R / --wd=/tmp pwd",
        "--ro / --w /tmp --fo --mount-p -m pwd",
        "--map-user=5 -r cat /proc/self/uid_map /proc/self/gid_map",
        "-r --map-user=5 cat /proc/self/uid_map /proc/self/gid_map",
        "-c -r --map-group=7 cat /proc/self/uid_map /proc/self/gid_map",
        "-r -c cat /proc/self/uid_map",
        "--mount-proc=/proc --mount-proc -fp ps -o pid= -p 1",
        "-S 0 -- id -u",
    ] {
        let args: Vec<&str> = line.split(' ').collect();
        let (ours, theirs) = both(&args);
        assert_eq!(
            (ours.code, ours.stdout.as_str()),
            (theirs.code, theirs.stdout.as_str()),
            "{line}: {}",
            ours.stderr
        );
        assert!(!ours.stdout.is_empty(), "{line}");
    }
}

#[test]
fn values_are_read_like_unshare() {
    if !root("values_are_read_like_unshare") {
        return;
    }
    // strtoul_or_err (blanks, signs, wrap to uid_t, ERANGE), -1 as "no
    // map", signame_to_signum (aliases, real-time signals, no numbers),
    // strtos64_or_err, and "setuid failed" as unshare words it.
    for args in [
        &["-S", " 1", "id", "-u"][..],
        &["-S", "-4294967295", "id", "-u"],
        &["-S", "-1", "true"],
        &["-G", "-1", "true"],
        &["-S", "99999999999999999999999", "true"],
        &["-S", "1x", "true"],
        &["--map-group=-1", "cat", "/proc/self/gid_map"],
        &["--kill-child=CLD", "echo", "ok"],
        &["--kill-child=rtmin+1", "echo", "ok"],
        &["--kill-child=SIGRTMAX-2", "echo", "ok"],
        &["--kill-child=15", "echo", "ok"],
        &["--kill-child=rtmin", "echo", "ok"],
        &["-T", "--monotonic", " -5", "true"],
        &["-T", "--boottime=99999999999999999999", "true"],
    ] {
        let (ours, theirs) = both(args);
        assert_like_unshare(&ours, &theirs, &format!("{args:?}"));
    }
}

#[test]
fn relative_mount_proc_is_below_the_current_directory_like_unshare() {
    let test = "relative_mount_proc_is_below_the_current_directory_like_unshare";
    if !root(test) {
        return;
    }
    let dir = tempdir(test);
    std::fs::create_dir(dir.path().join("p")).unwrap();
    let line = ["--mount-proc=p", "-f", "cat", "p/self/comm"];
    let ours = run(cmd("runshare").args(line).current_dir(dir.path()));
    let theirs = run(anchor("unshare").args(line).current_dir(dir.path()));
    assert_eq!(
        (ours.code, ours.stdout.as_str()),
        (0, "cat\n"),
        "{}",
        ours.stderr
    );
    assert_eq!(ours, theirs);
    // The mount was in the namespace only.
    assert!(std::fs::read_dir(dir.path().join("p"))
        .unwrap()
        .next()
        .is_none());
}

#[test]
fn empty_paths_fail_where_unshare_fails() {
    if !root("empty_paths_fail_where_unshare_fails") {
        return;
    }
    // An empty DIR is the system call's to refuse, not a usage error.
    for args in [
        &["--root=", "true"][..],
        &["-R", "", "true"],
        &["-w", "", "true"],
        &["--mount-proc=", "-f", "true"],
    ] {
        let (ours, theirs) = both(args);
        assert_eq!(ours.code, 1, "{args:?}");
        assert_like_unshare(&ours, &theirs, &format!("{args:?}"));
    }
}

#[test]
fn help_and_version_that_cannot_be_written_fail_like_unshare() {
    if !have(
        "help_and_version_that_cannot_be_written_fail_like_unshare",
        "unshare",
    ) {
        return;
    }
    for arg in ["--help", "-V", "-fh"] {
        let full = || {
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap()
        };
        let ours = run_into(cmd("runshare").arg(arg), full());
        let theirs = run_into(anchor("unshare").arg(arg), full());
        assert_eq!(ours.code, 1, "{arg}");
        assert_eq!(
            (ours.code, as_unshare(&ours.stderr)),
            (theirs.code, theirs.stderr),
            "{arg}"
        );
    }
    // Written, they go to stdout with exit 0.
    let ours = run(cmd("runshare").arg("--he"));
    assert_eq!((ours.code, ours.stderr.as_str()), (0, ""));
    assert!(ours.stdout.contains("--mount"));
}

#[test]
fn bad_values_are_named_in_command_line_order_like_unshare() {
    if !have(
        "bad_values_are_named_in_command_line_order_like_unshare",
        "unshare",
    ) {
        return;
    }
    // unshare checks a value as getopt hands it over: the first bad one is
    // named, before a later usage error or --help.
    for line in [
        "-S a --propagation=b true",
        "--propagation=b -S a true",
        "--kill-child=nope -h",
        "--setgroups=x --nope",
        "--monotonic=x --boottime=y",
        "-G x --map-user=nosuch",
    ] {
        let args: Vec<&str> = line.split(' ').collect();
        let (ours, theirs) = both(&args);
        assert_eq!(ours.code, 1, "{line}");
        assert_like_unshare(&ours, &theirs, line);
    }
}

/// util-linux 2.39's --mount-binfmt and --load-interp: a binfmt_misc of the
/// namespace's own (Linux 6.7+), below a /proc mounted first; the host's
/// binfmt_misc never sees the definition.
#[test]
fn load_interp_registers_in_the_namespaces_own_binfmt_misc() {
    if !root("load_interp_registers_in_the_namespaces_own_binfmt_misc") {
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
    if !root("owner_makes_the_user_namespace_someone_elses") {
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
    if root("sigchld_ignored_by_the_caller_is_waited_through_and_kept") {
        let ran = ignoring(&["--map-users=0:100000:10", "--uts", "sh", "-c", "exit 4"]);
        assert_eq!(ran.code, 4, "{ran:?}");
    }
}
