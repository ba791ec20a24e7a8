//! CVE-2024-42472 for the other dirs: a symbolic link exchanged in a loop
//! with a lower dir, or with the work dir, is never mounted (the upper dir:
//! `a_symlink_swapped_in_for_the_upper_dir_is_never_mounted`).

use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::{ok, overlay_on, overlays, populate, rov_in};
use crate::harness::{in_mountns, needs_root};

/// Mounts `args` in `base` `runs` times while a thread exchanges
/// `base/dir` with a link to `base/bait`: each run mounts the real dir or
/// is refused, the bait never shows in the overlay's options nor its files
/// in MERGED, and bait is never written to. Returns (mounted, refused, swaps).
fn race(base: &Path, dir: &str, args: &[&str], runs: usize) -> (usize, usize, u64) {
    std::os::unix::fs::symlink(base.join("bait"), base.join("swap")).unwrap();
    let bait_before = fs::read_dir(base.join("bait")).unwrap().count();
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (stop, from, to) = (Arc::clone(&stop), base.join(dir), base.join("swap"));
        std::thread::spawn(move || {
            let mut swaps = 0u64;
            while !stop.load(Ordering::Relaxed) {
                nix::fcntl::renameat2(
                    nix::fcntl::AT_FDCWD,
                    &from,
                    nix::fcntl::AT_FDCWD,
                    &to,
                    nix::fcntl::RenameFlags::RENAME_EXCHANGE,
                )
                .expect("renameat2");
                swaps += 1;
            }
            swaps
        })
    };
    // Stops the swapper also when an assertion fails.
    struct Stop(Arc<AtomicBool>);
    impl Drop for Stop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let guard = Stop(Arc::clone(&stop));
    let bait = base.join("bait").display().to_string();
    let (mut mounted, mut refused) = (0, 0);
    for _ in 0..runs {
        let ran = rov_in(base, args);
        if ran.code != 0 {
            assert!(ran.stderr.starts_with("roverlay: "), "{ran:?}");
            refused += 1;
            continue;
        }
        mounted += 1;
        let line = overlay_on(&base.join("m")).expect("mounted");
        assert!(!line.contains(&bait), "the bait was mounted: {line}");
        assert_eq!(overlays().len(), 1, "a mount outside MERGED");
        assert!(!base.join("m/secret").exists());
        ok(rov_in(base, &["umount", "m"]));
    }
    drop(guard);
    let swaps = swapper.join().unwrap();
    assert_eq!(
        fs::read_dir(base.join("bait")).unwrap().count(),
        bait_before,
        "bait written to"
    );
    (mounted, refused, swaps)
}

#[test]
fn a_symlink_swapped_in_for_a_lower_or_the_work_dir_is_never_mounted() {
    if !needs_root!() {
        return;
    }
    in_mountns(|| {
        let mut said = Vec::new();
        for (dir, bait_files, args) in [
            (
                "low1",
                &[("bait/secret", "s")][..],
                &["mount", "--lower", "low1:low2", "m"][..],
            ),
            (
                "work",
                &[][..],
                &[
                    "mount", "--lower", "low1", "--upper", "up", "--work", "work", "m",
                ],
            ),
        ] {
            let d = crate::harness::tempdir("roverlay-swap");
            let base = d.path();
            populate(
                base,
                &["low1", "low2", "up", "work", "bait", "m"],
                bait_files,
            );
            let (mounted, refused, swaps) = race(base, dir, args, 200);
            assert!(swaps > 0 && mounted + refused == 200);
            said.push(format!(
                "{dir}: {mounted} mounted, {refused} refused, {swaps} swaps"
            ));
        }
        let _ = writeln!(std::io::stderr(), "roverlay swap race: {}", said.join("; "));
    });
}
