//! A nested `--name PARENT/LEAF`: after a kill, the next run clears the
//! parent level too, not only the last part.

use super::*;

/// rcgexec killed while its command runs in `P/leaf` leaves `P` and
/// `P/leaf`; the next run with the same name removes both (saying so for
/// each) and leaves nothing. A parent that rcgexec did not make stays.
#[test]
fn after_sigkill_the_next_run_clears_every_level_it_made() {
    if !ready("after_sigkill_the_next_run_clears_every_level_it_made") {
        return;
    }
    // Declared first, dropped last: the leaves go before their parents.
    let parent = Name::new("nest");
    let users = Name::new("nest-user");
    let leaf = Name(format!("{}/leaf", &*parent));
    let users_leaf = Name(format!("{}/leaf", &*users));
    for h in hierarchies() {
        std::fs::create_dir(h.own.join(&*users)).unwrap();
    }
    let marker = format!("8.{}", std::process::id());
    for name in [&leaf, &users_leaf] {
        let mut job = Process::sleeping(
            cmd("rcgexec").args(["--name", name, "--", "sleep", &marker]),
            true,
        );
        kill(Pid::from_raw(job.outer.id() as i32), Signal::SIGKILL).unwrap();
        job.outer.wait().unwrap();
        assert!(!name.left().is_empty());
    }
    assert!(!parent.left().is_empty());

    let ran = rcgexec(&["--name", &leaf, "--", "true"]);
    assert_eq!(ran.code, 0, "{ran:?}");
    let says = |stderr: &str, name: &str| {
        stderr
            .lines()
            .filter(|l| {
                l.starts_with("rcgexec: removed stale cgroup /")
                    && l.ends_with(&format!("/{name} (left by an earlier run)"))
            })
            .count()
    };
    // Each level once per hierarchy it was left in, nothing else said.
    let (leaves, parents) = (says(&ran.stderr, &leaf), says(&ran.stderr, &parent));
    assert!(leaves > 0 && parents == leaves, "{ran:?}");
    assert_eq!(ran.stderr.lines().count(), leaves + parents, "{ran:?}");
    assert_eq!(leaf.left(), Vec::<PathBuf>::new());
    assert_eq!(parent.left(), Vec::<PathBuf>::new());

    // The user's own parent: the stale leaf goes, the parent stays.
    let ran = rcgexec(&["--name", &users_leaf, "--", "true"]);
    assert_eq!(ran.code, 0, "{ran:?}");
    assert_eq!(says(&ran.stderr, &users), 0, "{ran:?}");
    assert!(says(&ran.stderr, &users_leaf) > 0, "{ran:?}");
    assert_eq!(users_leaf.left(), Vec::<PathBuf>::new());
    assert_eq!(users.left().len(), hierarchies().len());
    assert!(eventually(|| sleeping(&marker).is_empty()));
}
