//! roverlay: Lab 11 with our binaries, many layers, the checks before a
//! mount, mounting by descriptor under a symlink-swap race, a user
//! namespace, and (tests/roverlay/) layers made and read with umoci.

mod faults;
mod layers;
mod swaps;

use std::fs;
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::harness::{
    bin, cmd, have, in_mountns, needs_root, nobody, root, run, skip, tempdir, Mounted, Ran,
};

/// roverlay ARGS, run in `dir`.
fn rov_in(dir: &Path, args: &[&str]) -> Ran {
    run(cmd("roverlay").current_dir(dir).args(args))
}

/// roverlay ARGS.
fn rov(args: &[&str]) -> Ran {
    run(cmd("roverlay").args(args))
}

/// roverlay ARGS succeeded; its stdout.
#[track_caller]
fn ok(ran: Ran) -> String {
    assert_eq!(ran.code, 0, "roverlay failed: {}", ran.stderr);
    ran.stdout
}

/// The overlay mounts of the calling thread's mount namespace (a test
/// body runs on a thread that unshared its own).
fn overlays() -> Vec<String> {
    fs::read_to_string("/proc/thread-self/mountinfo")
        .expect("mountinfo")
        .lines()
        .filter(|l| l.contains(" - overlay "))
        .map(str::to_string)
        .collect()
}

/// The overlay mounted on `merged`, if any (its mountinfo line).
fn overlay_on(merged: &Path) -> Option<String> {
    let point = format!(" {} ", merged.display());
    overlays().into_iter().find(|l| l.contains(&point))
}

/// The entry of `roverlay list -J` for the overlay on `target`.
#[track_caller]
fn listed(target: &Path) -> serde_json::Value {
    let doc: serde_json::Value = serde_json::from_str(&ok(rov(&["list", "-J"]))).unwrap();
    doc["overlays"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["target"] == target.to_str().unwrap())
        .expect("listed")
        .clone()
}

/// `ran`, an umount by roverlay, succeeded and left no overlay on the
/// guard's mount point: unmounted by the tool under test, nothing is left
/// for the guard to undo.
#[track_caller]
fn unmounted(guard: Mounted, ran: Ran) {
    ok(ran);
    let point = guard.0.clone();
    std::mem::forget(guard);
    assert_eq!(overlay_on(&point), None);
}

/// Makes `dirs` (relative to `base`) and writes `files` (path, content).
fn populate(base: &Path, dirs: &[&str], files: &[(&str, &str)]) {
    for d in dirs {
        fs::create_dir_all(base.join(d)).expect("mkdir");
    }
    for (f, text) in files {
        fs::write(base.join(f), text).expect("write");
    }
}

/// A refusal: exit 1, nothing on stdout, one line `roverlay: …` holding `says`.
#[track_caller]
fn refused(ran: &Ran, says: &str) {
    assert_eq!(ran.code, 1, "{ran:?}");
    assert_eq!(ran.stdout, "");
    assert!(
        ran.stderr.starts_with("roverlay: ") && ran.stderr.lines().count() == 1,
        "{ran:?}"
    );
    assert!(ran.stderr.contains(says), "{:?} lacks {says:?}", ran.stderr);
}

#[test]
fn lab11_whiteout_in_upper_diff_and_umount() {
    if !needs_root!() {
        return;
    }
    in_mountns(|| {
        let d = tempdir("roverlay-lab11");
        let base = d.path().to_path_buf();
        populate(
            &base,
            &[
                "tools",
                "myroot/bin",
                "rootfs/container",
                "rootfs/work",
                "rootfs/merge",
            ],
            &[
                ("tools/which", "which"),
                ("myroot/bin/ls", "ls"),
                ("myroot/bin/ps", "ps"),
                ("myroot/bin/sh", "sh"),
                ("myroot/escape_chroot", "escape"),
            ],
        );
        let merge = base.join("rootfs/merge");
        ok(rov_in(
            &base,
            &[
                "mount",
                "--lower",
                "tools:myroot",
                "--upper",
                "rootfs/container",
                "--work",
                "rootfs/work",
                "rootfs/merge",
            ],
        ));
        let guard = Mounted(merge.clone());
        // Metacopy only when asked (SECURITY.md, untrusted layers).
        assert!(!overlay_on(&merge).unwrap().contains("metacopy=on"));
        assert_eq!(fs::read_to_string(merge.join("which")).unwrap(), "which");
        assert_eq!(fs::read_to_string(merge.join("bin/sh")).unwrap(), "sh");
        fs::remove_file(merge.join("escape_chroot")).unwrap();
        assert!(!merge.join("escape_chroot").exists());
        assert!(base.join("myroot/escape_chroot").exists());
        let wh = fs::symlink_metadata(base.join("rootfs/container/escape_chroot")).unwrap();
        assert!(wh.file_type().is_char_device(), "{wh:?}");
        assert_eq!((wh.rdev(), wh.uid(), wh.gid()), (0, 0, 0));
        let diff = ok(rov_in(&base, &["diff", "rootfs/container"]));
        assert_eq!(diff, "D /escape_chroot\n");
        let ours = listed(&merge);
        assert_eq!(
            ours["lower"],
            serde_json::json!([base.join("tools"), base.join("myroot")])
        );
        assert_eq!(
            ours["upper"],
            base.join("rootfs/container").to_str().unwrap()
        );
        unmounted(guard, rov_in(&base, &["umount", "rootfs/merge"]));
    });
}

#[test]
fn list_shows_mounts_made_by_mount8() {
    if !needs_root!() {
        return;
    }
    in_mountns(|| {
        let d = tempdir("roverlay-mount8");
        let base = d.path().to_path_buf();
        populate(&base, &["a b", "c,d", "m"], &[]);
        let opts = format!(
            "lowerdir={}:{}",
            base.join("a b").display(),
            base.join("c\\,d").display()
        );
        let m = run(Command::new("mount")
            .args(["-t", "overlay", "overlay", "-o", &opts])
            .arg(base.join("m")));
        assert_eq!(m.code, 0, "{m:?}");
        let guard = Mounted(base.join("m"));
        let ours = listed(&base.join("m"));
        assert_eq!(
            ours["lower"],
            serde_json::json!([base.join("a b"), base.join("c,d")])
        );
        assert_eq!(ours["upper"], serde_json::Value::Null);
        unmounted(guard, rov(&["umount", base.join("m").to_str().unwrap()]));
    });
}

#[test]
fn five_hundred_layers_with_long_paths_mount_and_list() {
    if !needs_root!() {
        return;
    }
    in_mountns(|| {
        let d = tempdir("roverlay-500");
        let base = d.path().to_path_buf();
        let pad = "p".repeat(100);
        let layers: Vec<PathBuf> = (0..500)
            .map(|i| base.join(format!("layer-{i:03}-{pad}")))
            .collect();
        for (i, layer) in layers.iter().enumerate() {
            fs::create_dir(layer).unwrap();
            fs::write(layer.join("file"), i.to_string()).unwrap();
            fs::write(layer.join(format!("only-{i}")), "").unwrap();
            assert!(layer.as_os_str().len() >= 100);
        }
        let list: Vec<&str> = layers.iter().map(|l| l.to_str().unwrap()).collect();
        let merged = base.join("m");
        fs::create_dir(&merged).unwrap();
        ok(rov(&[
            "mount",
            "--lower",
            &list.join(":"),
            merged.to_str().unwrap(),
        ]));
        let guard = Mounted(merged.clone());
        assert_eq!(fs::read_to_string(merged.join("file")).unwrap(), "0");
        assert!(merged.join("only-499").exists());
        let ours = listed(&merged);
        assert_eq!(ours["lower"], serde_json::json!(layers));
        // Read-only without an upper dir.
        assert!(fs::write(merged.join("new"), "").is_err());
        unmounted(guard, rov(&["umount", merged.to_str().unwrap()]));
    });
}

#[test]
fn bad_inputs_are_refused_with_one_line_and_change_nothing() {
    if !needs_root!() {
        return;
    }
    in_mountns(|| {
        let d = tempdir("roverlay-bad");
        let base = d.path().to_path_buf();
        populate(
            &base,
            &["low", "up", "work", "full", "m", "tmp"],
            &[("full/x", ""), ("file", "")],
        );
        let tmpfs = base.join("tmp");
        nix::mount::mount(
            Some("tmpfs"),
            &tmpfs,
            Some("tmpfs"),
            nix::mount::MsFlags::empty(),
            None::<&str>,
        )
        .unwrap();
        let _tmpfs = Mounted(tmpfs.clone());
        for (args, says) in [
            (
                &["mount", "--lower", "low:missing", "m"][..],
                "cannot open lower dir 'missing': No such file or directory",
            ),
            (
                &["mount", "--lower", "low", "--upper", "up", "m"],
                "--upper needs --work",
            ),
            (
                &[
                    "mount", "--lower", "low", "--upper", "up", "--work", "full", "m",
                ],
                "work dir 'full' is not empty (it holds 'x')",
            ),
            (
                &[
                    "mount", "--lower", "low", "--upper", "up", "--work", "tmp", "m",
                ],
                "upper dir 'up' and work dir 'tmp' are not on one filesystem",
            ),
            (
                &["mount", "--lower", "low:full", "file"],
                "mount point 'file' is not a directory",
            ),
            (
                &["mount", "--lower", "low", "m"],
                "a read-only overlay (no --upper) needs at least 2 lower dirs",
            ),
            (&["umount", "m"], "'m' is not a mount point"),
            (&["umount", "tmp"], "'tmp' is not an overlay (it is tmpfs)"),
            (&["commit", "missing", "l.tar"], "missing"),
            (&["commit", "up", "nodir/l.tar"], "nodir"),
        ] {
            let ran = rov_in(&base, args);
            refused(&ran, says);
            assert_eq!(overlay_on(&base.join("m")), None, "{args:?}");
        }
        assert!(!base.join("l.tar").exists());
        let names: Vec<_> = fs::read_dir(&base)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 7, "{names:?}");
        assert_eq!(fs::read_dir(base.join("work")).unwrap().count(), 0);
    });
}

#[test]
fn a_symlink_swapped_in_for_the_upper_dir_is_never_mounted() {
    if !needs_root!() {
        return;
    }
    in_mountns(|| {
        let d = tempdir("roverlay-race");
        let base = d.path().to_path_buf();
        populate(
            &base,
            &["low", "up", "work", "victim", "m"],
            &[("victim/secret", "s")],
        );
        std::os::unix::fs::symlink(base.join("victim"), base.join("swap")).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let swapper = {
            let (stop, base) = (Arc::clone(&stop), base.clone());
            std::thread::spawn(move || {
                let mut swaps = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    nix::fcntl::renameat2(
                        nix::fcntl::AT_FDCWD,
                        &base.join("up"),
                        nix::fcntl::AT_FDCWD,
                        &base.join("swap"),
                        nix::fcntl::RenameFlags::RENAME_EXCHANGE,
                    )
                    .expect("renameat2");
                    swaps += 1;
                }
                swaps
            })
        };
        let victim = format!("upperdir={}", base.join("victim").display());
        let (mut mounted, mut refused_n) = (0, 0);
        for _ in 0..500 {
            let ran = rov_in(
                &base,
                &[
                    "mount", "--lower", "low", "--upper", "up", "--work", "work", "m",
                ],
            );
            if ran.code != 0 {
                refused_n += 1;
                continue;
            }
            mounted += 1;
            let line = overlay_on(&base.join("m")).expect("mounted");
            assert!(!line.contains(&victim), "the victim was mounted: {line}");
            assert_eq!(overlays().len(), 1, "a mount outside MERGED");
            assert!(!base.join("m/secret").exists());
            ok(rov_in(&base, &["umount", "m"]));
        }
        stop.store(true, Ordering::Relaxed);
        let swaps = swapper.join().unwrap();
        assert!(swaps > 0);
        assert!(mounted + refused_n == 500);
        assert_eq!(fs::read_dir(base.join("victim")).unwrap().count(), 1);
        let _ = writeln!(
            std::io::stderr(),
            "roverlay swap race: {mounted} mounted, {refused_n} refused, {swaps} swaps"
        );
    });
}

/// The rootless row: as nobody, in `runshare -U -r -m`, roverlay adds
/// userxattr by itself, and writes and copy-up work.
#[test]
fn mount_in_a_user_namespace_as_an_ordinary_user_copies_up() {
    let test = "mount_in_a_user_namespace_as_an_ordinary_user_copies_up";
    if !root(test) || !have(test, "setpriv") {
        return;
    }
    if run(nobody(&bin("roverlay"), &[]).arg("--version")).code != 0 {
        skip(test, "nobody cannot run the binary under test");
        return;
    }
    let d = tempdir("roverlay-rootless");
    let base = d.path().to_path_buf();
    populate(
        &base,
        &["low/dir", "up", "work", "m"],
        &[("low/dir/file", "old\n")],
    );
    fs::set_permissions(&base, fs::Permissions::from_mode(0o755)).unwrap();
    for p in ["low", "low/dir", "low/dir/file", "up", "work", "m"] {
        std::os::unix::fs::chown(base.join(p), Some(65534), Some(65534)).unwrap();
    }
    let script = "set -e; \"$R\" mount --lower low --upper up --work work m; \
                  echo new >> m/dir/file; echo added > m/added; cat m/dir/file; \
                  grep -c 'overlay.*userxattr' /proc/self/mountinfo; \"$R\" umount m";
    let ran = run(nobody(&bin("runshare"), &[])
        .current_dir(&base)
        .env("R", bin("roverlay"))
        .args(["-U", "-r", "-m", "sh", "-c", script]));
    assert_eq!(ran.code, 0, "{ran:?}");
    assert_eq!(ran.stdout, "old\nnew\n1\n");
    // Copied up into the upper dir, the lower untouched.
    assert_eq!(
        fs::read_to_string(base.join("up/dir/file")).unwrap(),
        "old\nnew\n"
    );
    assert_eq!(
        fs::read_to_string(base.join("low/dir/file")).unwrap(),
        "old\n"
    );
    assert_eq!(
        fs::read_to_string(base.join("up/added")).unwrap(),
        "added\n"
    );
}

/// Same question, same answer: the layers mounted by roverlay and by
/// mount(8) give the same tree, and `list` names the same layers.
#[test]
fn mounts_what_mount8_mounts() {
    if !needs_root!() {
        return;
    }
    in_mountns(|| {
        let d = tempdir("roverlay-anchor");
        let b = d.path().to_path_buf();
        populate(
            &b,
            &["top/bin", "base/bin", "base/etc", "ours", "theirs"],
            &[
                ("top/bin/ls", "new ls"),
                ("base/bin/ls", "old ls"),
                ("base/etc/x", "x"),
            ],
        );
        let (top, base) = (b.join("top"), b.join("base"));
        let lower = format!("{}:{}", top.display(), base.display());
        ok(rov(&[
            "mount",
            "--lower",
            &lower,
            b.join("ours").to_str().unwrap(),
        ]));
        let _ours = Mounted(b.join("ours"));
        let m = run(Command::new("mount")
            .args([
                "-t",
                "overlay",
                "overlay",
                "-o",
                &format!("lowerdir={lower}"),
            ])
            .arg(b.join("theirs")));
        assert_eq!(m.code, 0, "{m:?}");
        let _theirs = Mounted(b.join("theirs"));
        let ours = layers::snapshot(&b.join("ours"));
        assert_eq!(ours.len(), 4, "{ours:?}");
        assert_eq!(ours, layers::snapshot(&b.join("theirs")));
        let doc: serde_json::Value = serde_json::from_str(&ok(rov(&["list", "-J"]))).unwrap();
        let lowers: Vec<&serde_json::Value> = doc["overlays"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| {
                o["target"]
                    .as_str()
                    .is_some_and(|t| t.starts_with(b.to_str().unwrap()))
            })
            .map(|o| &o["lower"])
            .collect();
        assert_eq!(lowers.len(), 2);
        assert_eq!(lowers[0], &serde_json::json!([top, base]));
        assert_eq!(lowers[0], lowers[1]);
    });
}
