//! ripcrm's removals as ipcrm does them (-a with an attached kind, -v, the
//! old form) and the usage errors of all three tools in util-linux's words.

use super::{ready, rows, sh};
use crate::harness::{anchor, cmd, have, in_ipcns, needs, run, test_name, Ran};

/// What `tool args` did in a fresh namespace holding two segments, a queue
/// and a semaphore array (made by ipcmk): its outcome and the rows left.
fn removed_by(tool: &'static str, ours: bool, args: &[&str]) -> (Ran, Vec<String>) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    in_ipcns(move || {
        sh("ipcmk -M 10 && ipcmk -M 20 && ipcmk -Q && ipcmk -S 2");
        let ran = run(if ours { cmd(tool) } else { anchor(tool) }.args(&args));
        // Keys are random: the rest of each row (id, owner, ...) compares.
        let left = rows()
            .iter()
            .map(|r| r.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
            .collect();
        (ran, left)
    })
}

/// ripcrm and ipcrm on each of `cases`, each in namespaces as `removed_by`
/// makes them: the same outcome (stderr but for the name), the same rows
/// left.
fn removes_like_ipcrm(cases: &[&[&str]]) {
    for args in cases {
        let (ours, ours_left) = removed_by("ripcrm", true, args);
        let (theirs, theirs_left) = removed_by("ipcrm", false, args);
        assert_eq!(
            (
                ours.code,
                &ours.stdout,
                ours.stderr.replace("ripcrm", "ipcrm")
            ),
            (theirs.code, &theirs.stdout, theirs.stderr),
            "{args:?}"
        );
        assert_eq!(ours_left, theirs_left, "{args:?}");
    }
}

#[test]
fn ripcrm_all_with_an_attached_kind_like_ipcrm() {
    if !ready(test_name!()) {
        return;
    }
    // -a takes its kind attached (`-ashm`), even after other options.
    let cases: [&[&str]; 7] = [
        &["-ashm"],
        &["-vamsg"],
        &["-asem", "-v"],
        &["-a=shm"],
        &["-ax"],
        &["-m", "-a"],
        &["-m", "0", "-ashm"],
    ];
    removes_like_ipcrm(&cases);
    let (ashm, left) = removed_by("ripcrm", true, &["-ashm"]);
    assert_eq!((ashm.code, left.len()), (0, 2), "{ashm:?}");
}

#[test]
fn usage_errors_are_worded_like_util_linux() {
    if !ready(test_name!()) {
        return;
    }
    in_ipcns(|| {
        for (ours, theirs, args) in [
            ("ripcs", "ipcs", &["--s"][..]),
            ("ripcs", "ipcs", &["-x"]),
            ("ripcs", "ipcs", &["--bxt-nope"]),
            ("ripcs", "ipcs", &["--shmems=1"]),
            ("ripcmk", "ipcmk", &["-M"]),
            ("ripcmk", "ipcmk", &["--shmem"]),
            ("ripcrm", "ipcrm", &["-m"]),
            ("ripcrm", "ipcrm", &["--shm", "0"]),
        ] {
            let a = run(cmd(ours).args(args));
            let b = run(anchor(theirs).args(args));
            assert_eq!(
                (a.code, a.stdout, a.stderr.replace(ours, theirs)),
                (b.code, b.stdout, b.stderr),
                "{ours} {args:?}"
            );
        }
    });
}

#[test]
fn ripcrm_verbose_explains_what_follows_it_like_ipcrm() {
    if !ready(test_name!()) {
        return;
    }
    // ipcrm removes while it reads its options: -v counts from where it is.
    let cases: [&[&str]; 4] = [
        &["-m", "0", "-v", "-m", "1"],
        &["-v", "-q", "0"],
        &["-m", "0", "-v", "-a"],
        &["-s", "0", "--verbose", "-ashm"],
    ];
    removes_like_ipcrm(&cases);
    let (ours, _) = removed_by("ripcrm", true, &["-m", "0", "-v", "-m", "1"]);
    assert_eq!(ours.stdout, "removing shared memory segment id `1'\n");
}

#[test]
fn ripcrm_old_form_reads_ids_as_ipcrm_does() {
    if !ready(test_name!()) {
        return;
    }
    // strtoul in base 10: blanks and a sign lead, "" is 0; no options there.
    let cases: [&[&str]; 6] = [
        &["shm", " 1"],
        &["shm", "+0", "1"],
        &["shm", ""],
        &["msg", "-1"],
        &["shm", "0", "-v"],
        &["sem", "-a", "99999999999999999999"],
    ];
    removes_like_ipcrm(&cases);
    let (ours, left) = removed_by("ripcrm", true, &["shm", "0", "-v"]);
    assert_eq!(ours.stderr, "ripcrm: invalid id: -v\n");
    assert_eq!((ours.code, left.len()), (1, 3));
}

#[test]
fn ripcrm_usage_errors_are_worded_as_ipcrm_words_them() {
    if !have(
        "ripcrm_usage_errors_are_worded_as_ipcrm_words_them",
        "ipcrm",
    ) {
        return;
    }
    for args in [
        &["--s"][..],
        &["--v"],
        &["--q", "1"],
        &["-m"],
        &["--shmem-id"],
        &["--verbose=1"],
        &["-vx"],
    ] {
        crate::harness::same_usage_error("ripcrm", "ipcrm", args);
    }
}

#[test]
fn ripcs_usage_errors_are_worded_as_ipcs_words_them() {
    if !needs!("ipcs") {
        return;
    }
    // `-i -m`: getopt takes "-m" as the ID, whatever it looks like.
    for args in [
        &["--s"][..],
        &["--h"],
        &["-i"],
        &["--human=1"],
        &["-i", "-m"],
    ] {
        crate::harness::same_usage_error("ripcs", "ipcs", args);
    }
}

#[test]
fn ripcmk_usage_errors_are_worded_as_ipcmk_words_them() {
    if !have(
        "ripcmk_usage_errors_are_worded_as_ipcmk_words_them",
        "ipcmk",
    ) {
        return;
    }
    for args in [&["--s"][..], &["--m"], &["-QM"], &["--queue=1"], &["-x"]] {
        crate::harness::same_usage_error("ripcmk", "ipcmk", args);
    }
}
