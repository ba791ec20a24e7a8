//! docs/SECURITY.md, "Faults and leftovers": one table of bad input per tool.
//! Every case must exit with the tool's failure code, say why on stderr in
//! one line `TOOL: ...` (a usage error may add the anchor's second line
//! `Try 'TOOL --help' for more information.`), never panic, and change
//! nothing: mounts, /run/netns, links, cgroup directories, IPC objects and
//! the files under /tmp are compared before and after each case. The cases
//! run in a sandbox of their own (harness `in_sandbox`), so nothing another
//! test does shows in the comparison. Bad input includes the machine's: a
//! name in use, a full disk (a 64 KiB tmpfs), a read-only target, a root
//! whose /proc or /dev is a symlink out of it, a missing /run/netns.

use std::path::{Path, PathBuf};
use std::process::Command;

use nix::mount::{mount, MsFlags};

use crate::harness::{cmd, in_sandbox, root, run, say, Machine};

/// One bad command line: the tool, its arguments (`{d}` stands for the
/// fixture directory), and the exit code it must give.
struct Case {
    tool: &'static str,
    args: &'static [&'static str],
    code: i32,
}

const fn case(tool: &'static str, args: &'static [&'static str], code: i32) -> Case {
    Case { tool, args, code }
}

/// The fixtures the cases point at, under /tmp of the sandbox: a regular
/// file, a read-only directory, a full disk, a shared mount, roots whose
/// /proc or /dev leads out, a link and a named netns already there, a
/// batch file with a bad line, and a map file of 341 lines.
fn fixtures() -> PathBuf {
    let d = PathBuf::from("/tmp/bxt-badinput");
    let mk = |p: &str| std::fs::create_dir_all(d.join(p)).unwrap();
    for dir in ["ro", "small", "shared", "victim", "procroot", "devroot/x"] {
        mk(dir);
    }
    std::fs::write(d.join("file"), "x").unwrap();
    std::os::unix::fs::symlink("/tmp/bxt-badinput/victim", d.join("procroot/proc")).unwrap();
    std::os::unix::fs::symlink("/tmp/bxt-badinput/victim", d.join("devroot/dev")).unwrap();
    std::fs::write(
        d.join("batch"),
        "netns add bxtok\nadd v0 v1 --addr 10.200.0.1/24 --peer-addr 10.200.0.1/24\n",
    )
    .unwrap();
    let bind = |p: &Path, flags: MsFlags| {
        mount(Some(p), p, None::<&str>, flags, None::<&str>).unwrap();
    };
    let ro = d.join("ro");
    bind(&ro, MsFlags::MS_BIND);
    bind(
        &ro,
        MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
    );
    mount(
        Some("tmpfs"),
        &d.join("small"),
        Some("tmpfs"),
        MsFlags::empty(),
        Some("size=64k"),
    )
    .unwrap();
    let shared = d.join("shared");
    bind(&shared, MsFlags::MS_BIND);
    mount(
        None::<&str>,
        &shared,
        None::<&str>,
        MsFlags::MS_SHARED,
        None::<&str>,
    )
    .unwrap();
    std::fs::write(shared.join("ns"), "").unwrap();
    // Names in use: a link, a named netns.
    let ip = |args: &[&str]| {
        let r = run(Command::new("ip").args(args));
        assert_eq!(r.code, 0, "ip {args:?}: {}", r.stderr);
    };
    ip(&[
        "link", "add", "inuse0", "type", "veth", "peer", "name", "inuse1",
    ]);
    ip(&["netns", "add", "bxtinuse"]);
    d
}

const CASES: &[Case] = &[
    // runshare: util-linux's exit 1.
    case("runshare", &["--bogus"], 1),
    case("runshare", &["-S", "abc", "true"], 1),
    case("runshare", &["-G", "-1", "true"], 1),
    case("runshare", &["--map-users=0:1", "true"], 1),
    case(
        "runshare",
        &["--map-users=0:828968033:3465999263", "true"],
        1,
    ),
    case(
        "runshare",
        &["--map-users=0:100000:10", "--map-users=5:200000:10", "true"],
        1,
    ),
    case("runshare", &["--setgroups=maybe", "-U", "true"], 1),
    case("runshare", &["--propagation=sideways", "-m", "true"], 1),
    case("runshare", &["--kill-child=SIGNOPE", "-f", "true"], 1),
    case("runshare", &["--monotonic=abc", "-T", "true"], 1),
    case("runshare", &["--net={d}/missing/ns", "true"], 1),
    case("runshare", &["--uts={d}/file/ns", "true"], 1),
    case("runshare", &["--mount={d}/shared/ns", "true"], 1),
    case("runshare", &["-m", "--mount-proc={d}/file", "true"], 1),
    case("runshare", &["-R", "{d}/missing", "true"], 1),
    case("runshare", &["-w", "{d}/missing", "true"], 1),
    case(
        "runshare",
        &["-R", "{d}/victim", "-w", "/proc/self/fd/0", "true"],
        1,
    ),
    case(
        "runshare",
        &["-m", "--mount-proc", "-R", "{d}/procroot", "true"],
        1,
    ),
    // rchroot: coreutils chroot's 125 for its own failures.
    case("rchroot", &["--bogus"], 125),
    case("rchroot", &[], 125),
    case("rchroot", &["{d}/missing", "true"], 125),
    case("rchroot", &["{d}/file", "true"], 125),
    case(
        "rchroot",
        &["--userspec=bxt-nouser", "{d}/victim", "true"],
        125,
    ),
    case(
        "rchroot",
        &["--groups=bxt-nogroup", "{d}/victim", "true"],
        125,
    ),
    case("rchroot", &["--skip-chdir", "{d}/victim", "true"], 125),
    case("rchroot", &["--mount-proc", "{d}/victim", "true"], 125),
    case("rchroot", &["--pivot", "{d}/missing", "true"], 125),
    case(
        "rchroot",
        &["--pivot", "--mount-proc", "{d}/procroot", "true"],
        125,
    ),
    case(
        "rchroot",
        &["--install", "{d}/victim", "{d}/missing-program"],
        125,
    ),
    case("rchroot", &["--install", "{d}/ro", "/bin/true"], 125),
    case("rchroot", &["--install", "{d}/small", "/bin/bash"], 125),
    case(
        "rchroot",
        &["--install", "--pivot", "{d}/victim", "/bin/true"],
        125,
    ),
    // rnsenter: util-linux's exit 1.
    case("rnsenter", &["--bogus"], 1),
    case("rnsenter", &["-t", "0", "-n", "true"], 1),
    case("rnsenter", &["-t", "abc", "-n", "true"], 1),
    case("rnsenter", &["-t", "2147483647", "-n", "true"], 1),
    case("rnsenter", &["--net={d}/missing", "true"], 1),
    case("rnsenter", &["--net={d}/file", "true"], 1),
    case("rnsenter", &["--net=/proc/self/ns/uts", "true"], 1),
    case("rnsenter", &["--net=bxt-no-such-netns", "true"], 1),
    case("rnsenter", &["-t", "1", "-n", "-S", "abc", "true"], 1),
    // rlsns
    case("rlsns", &["--bogus"], 1),
    case("rlsns", &["-t", "bogus"], 1),
    case("rlsns", &["-o", "NOSUCHCOLUMN"], 1),
    case("rlsns", &["-p", "abc"], 1),
    case("rlsns", &["-T", "sideways"], 1),
    case("rlsns", &["extra", "operands"], 1),
    // ripcmk, ripcs, ripcrm
    case("ripcmk", &["--bogus"], 1),
    case("ripcmk", &[], 1),
    case("ripcmk", &["-M", "abc"], 1),
    case("ripcmk", &["-M", "1.5"], 1),
    case("ripcmk", &["-M", "20E"], 1),
    case("ripcmk", &["-M", "1E"], 1),
    case("ripcmk", &["-S", "abc"], 1),
    case("ripcmk", &["-S", "99999999"], 1),
    case("ripcmk", &["-Q", "-p", "999"], 1),
    case("ripcmk", &["-m", "1K"], 1),
    case("ripcmk", &["-q", "--name", "a/b"], 1),
    case("ripcmk", &["-Q", "-M", "abc"], 1),
    case("ripcrm", &["--bogus"], 1),
    case("ripcrm", &["-m", "abc"], 1),
    case("ripcrm", &["-q", "2147483647"], 1),
    case("ripcrm", &["-M", "0x7fffbeef"], 1),
    case("ripcrm", &["shm", "abc"], 1),
    case("ripcrm", &["--posix-mqueue", "/bxt-none"], 1),
    case("ripcs", &["--bogus"], 1),
    case("ripcs", &["-m", "-i", "abc"], 1),
    // rvethpair: iproute2's exit 1 (2 for a netlink refusal there; ours is 1).
    case("rvethpair", &["--bogus"], 1),
    case("rvethpair", &["add", "a"], 1),
    case("rvethpair", &["add", "inuse0", "v1"], 1),
    case("rvethpair", &["add", "v0", "inuse1"], 1),
    case(
        "rvethpair",
        &[
            "add",
            "v0",
            "v1",
            "--addr",
            "10.200.0.1/24",
            "--peer-addr",
            "10.200.0.1/24",
        ],
        1,
    ),
    case(
        "rvethpair",
        &["add", "v0", "v1", "--addr", "10.200.0.300/24"],
        1,
    ),
    case(
        "rvethpair",
        &["add", "v0", "v1", "--addr", "10.200.0.1/33"],
        1,
    ),
    case(
        "rvethpair",
        &["add", "v0", "v1", "--addr", "10.200.0.1/024"],
        1,
    ),
    case("rvethpair", &["add", "a-name-of-16-byt", "v1"], 1),
    case("rvethpair", &["add", "v0", "v1", "--mtu", "abc"], 1),
    case(
        "rvethpair",
        &["add", "v0", "v1", "--netns", "bxt-missing"],
        255,
    ),
    case("rvethpair", &["add", "v0", "v1", "--master", "bxt-nobr"], 1),
    case("rvethpair", &["del", "bxt-none"], 1),
    case("rvethpair", &["list", "--netns", "bxt-missing"], 255),
    case("rvethpair", &["netns", "add", "bxtinuse"], 1),
    case("rvethpair", &["netns", "add", "a/b"], 255),
    case("rvethpair", &["netns", "add", ".."], 255),
    case("rvethpair", &["netns", "del", "bxt-missing"], 1),
    case("rvethpair", &["batch", "{d}/batch"], 1),
    case("rvethpair", &["batch", "{d}/missing"], 1),
];

/// The tools' failures: exit code, one line (or a usage error's two), the
/// tool's name first, no panic, and nothing changed; what went wrong if not.
fn check(case: &Case, dir: &Path) -> Result<(), String> {
    let args: Vec<String> = case
        .args
        .iter()
        .map(|a| a.replace("{d}", &dir.display().to_string()))
        .collect();
    let before = Machine::now("badinput");
    let ran = run(cmd(case.tool).args(&args));
    let what = format!("{} {}", case.tool, args.join(" "));
    let lines: Vec<&str> = ran.stderr.lines().collect();
    let try_help = format!("Try '{} --help' for more information.", case.tool);
    let one_line = match lines[..] {
        [_] => true,
        [_, second] => second == try_help,
        _ => false,
    };
    if ran.stderr.contains("panicked") || ran.code != case.code {
        return Err(format!("{what}: want exit {}: {ran:?}", case.code));
    }
    if !one_line || !lines[0].starts_with(&format!("{}: ", case.tool)) {
        return Err(format!(
            "{what}: stderr is not one line `{}: ...`: {:?}",
            case.tool, ran.stderr
        ));
    }
    before
        .changes("badinput")
        .map_err(|changed| format!("{what} changed the machine:\n{changed}"))
}

/// Runs every case; fails naming each that went wrong.
fn check_all(cases: &[Case], dir: &Path) {
    let failed: Vec<String> = cases.iter().filter_map(|c| check(c, dir).err()).collect();
    assert!(
        failed.is_empty(),
        "{} of {} cases:\n{}",
        failed.len(),
        cases.len(),
        failed.join("\n")
    );
}

#[test]
fn every_bad_input_is_refused_in_one_line_and_changes_nothing() {
    if !root("every_bad_input_is_refused_in_one_line_and_changes_nothing") {
        return;
    }
    in_sandbox(|| {
        let dir = fixtures();
        check_all(CASES, &dir);
        say(&format!("badinput: {} bad inputs refused", CASES.len()));
    });
}

#[test]
fn a_missing_run_netns_is_an_error_for_netns_users_and_nothing_is_made() {
    let test = "a_missing_run_netns_is_an_error_for_netns_users_and_nothing_is_made";
    if !root(test) {
        return;
    }
    in_sandbox(|| {
        // /run/netns gone, and not creatable (an empty read-only /run over
        // it): a tool that needs it says so and makes nothing elsewhere.
        mount(
            Some("tmpfs"),
            "/run",
            Some("tmpfs"),
            MsFlags::MS_RDONLY,
            None::<&str>,
        )
        .unwrap();
        check_all(
            &[
                case("rvethpair", &["netns", "add", "bxtred"], 1),
                case(
                    "rvethpair",
                    &["add", "v0", "v1", "--peer-netns", "bxtred"],
                    255,
                ),
                case("rvethpair", &["netns", "del", "bxtred"], 1),
                case("rnsenter", &["--net=bxtred", "true"], 1),
            ],
            Path::new("/tmp"),
        );
    });
}
