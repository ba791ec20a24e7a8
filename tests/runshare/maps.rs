//! runshare's user-namespace maps and what it refuses before anything is
//! made: persistence files, --mount-proc targets, overlapping or long maps,
//! /proc not on procfs, no user namespaces left.

use std::path::Path;

use super::{says_like_unshare, sh, succeeds_like_unshare, tmpfs_on};
use crate::harness::{cmd, in_mountns, needs_root, run, tempdir};

#[test]
fn missing_persistence_file_is_refused_before_anything() {
    if !needs_root!() {
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
    if !needs_root!() {
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
    if !needs_root!() {
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
    if !needs_root!() {
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
    if !needs_root!() {
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
    if !needs_root!() {
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
    if !needs_root!() {
        return;
    }
    // Made now: finding the binary needs the real /proc.
    let mut tool = cmd("runshare");
    tool.args(["-Ur", "true"]);
    let ran = in_mountns(move || {
        let _fake = tmpfs_on(Path::new("/proc"));
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
    if !needs_root!() {
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
