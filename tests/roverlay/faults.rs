//! SIGKILL at random points of `commit`, `apply` and `mount`: afterwards
//! there is no partial layer, half-made directory or half-made mount,
//! and what a killed run leaves (a staging name) the next run removes and
//! names.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::layers::snapshot;
use super::{ok, overlay_on, populate, rov_in};
use crate::harness::{bin, in_mountns, needs_root, tempdir};

/// A small deterministic generator (a fixed seed: a failure repeats).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

/// Names beginning with `.roverlay-` in `dir`: what killed runs left.
fn staged(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".roverlay-"))
        .collect()
}

/// How long `roverlay ARGS` takes when left alone (the mean of three).
fn duration(dir: &Path, args: &[&str], undo: impl Fn()) -> Duration {
    let start = Instant::now();
    for _ in 0..3 {
        ok(rov_in(dir, args));
        undo();
    }
    start.elapsed() / 3
}

/// Runs `roverlay ARGS` and kills it after a random share of `full`;
/// true if it was killed before it ended.
fn killed(dir: &Path, args: &[&str], full: Duration, rng: &mut Lcg) -> bool {
    let mut child = Command::new(bin("roverlay"))
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn roverlay");
    std::thread::sleep(Duration::from_micros(rng.below(full.as_micros() as u64)));
    let running = matches!(child.try_wait(), Ok(None));
    if running {
        kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).expect("kill");
    }
    child.wait().expect("wait");
    running
}

/// Kills per operation, at most this many tries each.
const KILLS: usize = 70;
const TRIES: usize = 400;

#[test]
fn sigkill_at_random_points_leaves_nothing_half_made() {
    if !needs_root!() {
        return;
    }
    in_mountns(|| {
        let d = tempdir("roverlay-kill");
        let b = d.path().to_path_buf();
        for i in 0..40 {
            let dir = format!("up/d{i}");
            populate(&b, &[&dir], &[]);
            for j in 0..10 {
                fs::write(b.join(format!("{dir}/f{j}")), vec![i as u8; 8192 * (j + 1)]).unwrap();
            }
        }
        let mut rng = Lcg(0x5eed_0fb0_c5ed);
        let mut report = Vec::new();

        // commit: the layer is there whole or not at all.
        ok(rov_in(&b, &["commit", "up", "ref.tar"]));
        let whole = fs::read(b.join("ref.tar")).unwrap();
        let args = ["commit", "up", "k.tar"];
        let rm = || {
            let _ = fs::remove_file(b.join("k.tar"));
        };
        let full = duration(&b, &args, rm);
        let (mut kills, mut tries) = (0, 0);
        while kills < KILLS && tries < TRIES {
            tries += 1;
            kills += usize::from(killed(&b, &args, full, &mut rng));
            if let Ok(bytes) = fs::read(b.join("k.tar")) {
                assert!(bytes == whole, "a partial layer after a kill");
                rm();
            }
            assert!(staged(&b).len() <= 1, "{:?}", staged(&b));
        }
        report.push(format!("commit {kills} kills in {tries} runs"));
        let commit_kills = kills;

        // apply: DIR is there whole or not at all; a staging dir left by a
        // kill goes with the next run, which says so.
        let want = snapshot(&b.join("up"));
        let args = ["apply", "ref.tar", "k"];
        let rm = || {
            let _ = fs::remove_dir_all(b.join("k"));
        };
        let full = duration(&b, &args, rm);
        let (mut kills, mut tries, mut left) = (0, 0, 0);
        while kills < KILLS && tries < TRIES {
            tries += 1;
            kills += usize::from(killed(&b, &args, full, &mut rng));
            if b.join("k").exists() {
                assert_eq!(snapshot(&b.join("k")), want, "a half-made DIR after a kill");
                rm();
            }
            let staged = staged(&b);
            assert!(staged.len() <= 1, "{staged:?}");
            left += staged.len();
        }
        if !staged(&b).is_empty() {
            let next = rov_in(&b, &args);
            assert_eq!(next.code, 0, "{next:?}");
            assert!(
                next.stderr.contains("left by an interrupted run"),
                "{next:?}"
            );
            rm();
        }
        assert_eq!(staged(&b), Vec::<String>::new());
        report.push(format!("apply {kills} kills in {tries} runs, {left} staging dirs left and removed by the next run"));
        let apply_kills = kills;

        // mount: no mount, or the whole overlay (the kill came after it was made).
        let layers: Vec<String> = (0..100).map(|i| format!("l{i}")).collect();
        for l in &layers {
            populate(&b, &[l], &[]);
        }
        populate(&b, &["m"], &[]);
        let lower = layers.join(":");
        let args = ["mount", "--lower", &lower, "m"];
        let m = b.join("m");
        let umount = || {
            if overlay_on(&m).is_some() {
                nix::mount::umount2(&m, nix::mount::MntFlags::MNT_DETACH).unwrap();
            }
        };
        let full = duration(&b, &args, umount);
        let (mut kills, mut tries, mut made) = (0, 0, 0);
        while kills < KILLS && tries < TRIES {
            tries += 1;
            let was_killed = killed(&b, &args, full, &mut rng);
            kills += usize::from(was_killed);
            if let Some(line) = overlay_on(&m) {
                assert_eq!(line.matches("lowerdir+=").count(), 100, "{line}");
                made += usize::from(was_killed);
                umount();
            }
            assert_eq!(overlay_on(&m), None);
        }
        report.push(format!(
            "mount {kills} kills in {tries} runs ({made} after the mount was whole)"
        ));
        let total = commit_kills + apply_kills + kills;
        let _ = writeln!(
            std::io::stderr(),
            "roverlay SIGKILL: {}; {total} kills",
            report.join("; ")
        );
        assert!(total >= 200, "only {total} kills landed: {report:?}");
    });
}
