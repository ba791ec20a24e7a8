//! ripcmk and ripcrm against ipcmk and ipcrm: ids printed, sizes, removal by
//! id, key and kind, and the refusals that change nothing.

use super::{key_lines, populate, ready, rows, sh};
use crate::harness::{anchor, cmd, in_ipcns, run, run_into, test_name, Ran};

/// A failed write of the ids (`>/dev/full`) is util-linux's write error,
/// exit 1, and names what was made: the objects stay, as with ipcmk.
#[test]
fn ripcmk_write_error_names_what_was_made() {
    if !ready(test_name!()) {
        return;
    }
    let (ran, listed) = in_ipcns(|| {
        let full = std::fs::File::options()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let ran = run_into(cmd("ripcmk").args(["-M", "100", "-Q"]), full);
        (ran, rows())
    });
    assert_eq!(ran.code, 1, "{ran:?}");
    assert_eq!(
        ran.stderr,
        "ripcmk: made Shared memory id 0, Message queue id 0, not printed: \
         write error: No space left on device\n"
    );
    assert_eq!(listed.len(), 2, "{listed:?}");
}

#[test]
fn ripcmk_prints_ids_like_ipcmk() {
    if !ready(test_name!()) {
        return;
    }
    let (ours, theirs) = in_ipcns(|| {
        let ours = run(cmd("ripcmk").args(["-M", "1.5K", "-Q", "-S", "2", "-p", "600"]));
        let theirs = run(anchor("ipcmk").args(["-M", "1.5K", "-Q", "-S", "2", "-p", "600"]));
        (ours, theirs)
    });
    assert_eq!(ours.code, 0, "{}", ours.stderr);
    assert_eq!(
        ours.stdout,
        "Shared memory id: 0\nMessage queue id: 0\nSemaphore id: 0\n"
    );
    assert_eq!(
        theirs.stdout,
        "Shared memory id: 1\nMessage queue id: 1\nSemaphore id: 1\n"
    );
}

#[test]
fn ripcmk_sizes_mean_what_ipcmk_sizes_mean() {
    if !ready(test_name!()) {
        return;
    }
    let sizes = [
        "4096", "1K", "1KiB", "1KB", "1.5K", "1.05K", "0x100", "010", "1M",
    ];
    let (ours, theirs) = in_ipcns(move || {
        let mut both = (Vec::new(), Vec::new());
        for size in sizes {
            let id = run(cmd("ripcmk").args(["-M", size])).stdout;
            let id = id.trim().rsplit(' ').next().unwrap().to_string();
            both.0
                .push(run(cmd("ripcs").args(["-m", "-i", &id])).stdout);
            let id = run(anchor("ipcmk").args(["-M", size])).stdout;
            let id = id.trim().rsplit(' ').next().unwrap().to_string();
            both.1
                .push(run(anchor("ipcs").args(["-m", "-i", &id])).stdout);
        }
        both
    });
    let bytes = |text: &str| {
        let at = text.find("bytes=").unwrap() + 6;
        text[at..].split('\t').next().unwrap().to_string()
    };
    for ((o, t), size) in ours.iter().zip(&theirs).zip(sizes) {
        assert_eq!(bytes(o), bytes(t), "{size}");
    }
    assert_eq!(bytes(&ours[4]), "1536");
}

#[test]
fn ripcrm_removes_by_id_and_by_key() {
    if !ready(test_name!()) {
        return;
    }
    let (by_id, by_key, left) = in_ipcns(|| {
        sh("ipcmk -M 10 && ipcmk -M 20 && ipcmk -M 30");
        let key = rows()[1].split_whitespace().next().unwrap().to_string();
        let by_id = run(cmd("ripcrm").args(["-m", "0"]));
        let by_key = run(cmd("ripcrm").args(["-v", "-M", &key]));
        (by_id, by_key, rows())
    });
    assert_eq!(
        (by_id.code, by_id.stdout.as_str(), by_id.stderr.as_str()),
        (0, "", "")
    );
    assert_eq!(by_key.code, 0, "{}", by_key.stderr);
    assert_eq!(by_key.stdout, "removing shared memory segment id `1'\n");
    assert_eq!(left.len(), 1);
    assert!(left[0].contains(" 30 "), "{left:?}");
}

#[test]
fn ripcrm_all_clears_the_namespace() {
    if !ready(test_name!()) {
        return;
    }
    let (before, cleared, after) = in_ipcns(|| {
        populate();
        let before = rows().len();
        (before, run(cmd("ripcrm").arg("-a")), rows())
    });
    assert_eq!(before, 10);
    assert_eq!((cleared.code, cleared.stderr.as_str()), (0, ""));
    assert_eq!(after, Vec::<String>::new());
}

#[test]
fn ripcrm_all_of_one_kind_keeps_the_others() {
    if !ready(test_name!()) {
        return;
    }
    let left = in_ipcns(|| {
        populate();
        assert_eq!(run(cmd("ripcrm").arg("--all=shm")).code, 0);
        run(cmd("ripcs").arg("-m")).stdout + &run(cmd("ripcs").arg("-q")).stdout
    });
    let rows = key_lines(&left);
    assert_eq!(rows.len(), 3, "{left}");
}

#[test]
fn ripcrm_old_form_and_partial_failure_like_ipcrm() {
    if !ready(test_name!()) {
        return;
    }
    let (ours, theirs) = in_ipcns(|| {
        sh("ipcmk -M 10 && ipcmk -M 10 && ipcmk -M 10 && ipcmk -M 10");
        let ours = (run(cmd("ripcrm").args(["shm", "0", "7", "x"])), rows());
        let theirs = (run(anchor("ipcrm").args(["shm", "1", "7", "x"])), rows());
        let ok = run(cmd("ripcrm").args(["shm", "2", "3"]));
        assert_eq!((ok.code, ok.stdout.as_str()), (0, "resource(s) deleted\n"));
        (ours, theirs)
    });
    assert_eq!(ours.0.code, 1);
    assert_eq!(ours.0.code, theirs.0.code);
    assert_eq!(ours.0.stdout, theirs.0.stdout);
    assert_eq!(
        ours.0.stderr,
        "ripcrm: invalid id (7)\nripcrm: invalid id: x\n"
    );
    assert_eq!(ours.0.stderr.replace("ripcrm", "ipcrm"), theirs.0.stderr);
    // The valid id was still removed.
    assert_eq!((ours.1.len(), theirs.1.len()), (3, 2));
}

/// Bad inputs: one line, the exit code of util-linux, and nothing made
/// or removed.
fn refused(ours: &[&str], theirs_tool: &'static str, theirs: &[&str], setup: &str) -> (Ran, Ran) {
    let ours_tool = format!("r{theirs_tool}");
    let ours: Vec<String> = ours.iter().map(|s| s.to_string()).collect();
    let theirs: Vec<String> = theirs.iter().map(|s| s.to_string()).collect();
    let setup = setup.to_string();
    let (a, b, before, between, after) = in_ipcns(move || {
        if !setup.is_empty() {
            sh(&setup);
        }
        let before = rows();
        let a = run(cmd(&ours_tool).args(&ours));
        let between = rows();
        let b = run(anchor(theirs_tool).args(&theirs));
        (a, b, before, between, rows())
    });
    assert_eq!(a.code, 1, "{a:?}");
    assert_eq!(a.code, b.code, "{a:?} vs {b:?}");
    assert_eq!(a.stdout, "");
    assert_eq!(a.stderr.lines().count(), 1, "{}", a.stderr);
    assert_eq!(before, between, "ours changed something");
    assert_eq!(between, after, "theirs changed something");
    (a, b)
}

#[test]
fn size_zero_is_refused() {
    if !ready(test_name!()) {
        return;
    }
    let (ours, theirs) = refused(&["-M", "0"], "ipcmk", &["-M", "0"], "");
    assert_eq!(
        ours.stderr,
        "ripcmk: create share memory failed: size 0 is below the minimum of 1 byte: Invalid argument\n"
    );
    assert_eq!(
        theirs.stderr,
        "ipcmk: create share memory failed: Invalid argument\n"
    );
}

#[test]
fn size_over_shmmax_is_refused_with_the_limit() {
    if !ready(test_name!()) {
        return;
    }
    // kernel.shmmax is per IPC namespace: lowering it here touches no one else.
    let (ours, _) = refused(
        &["-M", "8K"],
        "ipcmk",
        &["-M", "8K"],
        "echo 4096 > /proc/sys/kernel/shmmax",
    );
    assert_eq!(
        ours.stderr,
        "ripcmk: create share memory failed: size 8192 exceeds kernel.shmmax (4096): Invalid argument\n"
    );
}

#[test]
fn unparsable_size_is_refused_like_ipcmk() {
    if !ready(test_name!()) {
        return;
    }
    let (ours, theirs) = refused(&["-M", "1.5"], "ipcmk", &["-M", "1.5"], "");
    assert_eq!(ours.stderr.replace("ripcmk", "ipcmk"), theirs.stderr);
}

#[test]
fn bad_permission_string_is_refused() {
    if !ready(test_name!()) {
        return;
    }
    let (ours, _) = refused(&["-Q", "-p", "rw-"], "ipcmk", &["-Q", "-p", "rw-"], "");
    assert_eq!(
        ours.stderr,
        "ripcmk: failed to parse mode: 'rw-': Invalid argument\n"
    );
}

#[test]
fn unknown_id_is_refused_like_ipcrm() {
    if !ready(test_name!()) {
        return;
    }
    let (ours, theirs) = refused(&["-m", "7"], "ipcrm", &["-m", "7"], "ipcmk -M 10");
    assert_eq!(ours.stderr, "ripcrm: invalid id (7)\n");
    assert_eq!(ours.stderr.replace("ripcrm", "ipcrm"), theirs.stderr);
}

#[test]
fn unknown_key_is_refused_like_ipcrm() {
    if !ready(test_name!()) {
        return;
    }
    let args = ["-Q", "0x7fff0001"];
    let (ours, theirs) = refused(&args, "ipcrm", &args, "ipcmk -Q");
    assert_eq!(ours.stderr, "ripcrm: invalid key (0x7fff0001)\n");
    assert_eq!(ours.stderr.replace("ripcrm", "ipcrm"), theirs.stderr);
}

#[test]
fn wrong_kind_for_an_id_is_refused_like_ipcrm() {
    if !ready(test_name!()) {
        return;
    }
    // Segments 0 and 1, queue 0: id 1 is a segment, not a queue.
    let args = ["-q", "1"];
    let (ours, theirs) = refused(
        &args,
        "ipcrm",
        &args,
        "ipcmk -M 10 && ipcmk -M 10 && ipcmk -Q",
    );
    assert_eq!(ours.stderr, "ripcrm: invalid id (1)\n");
    assert_eq!(ours.stderr.replace("ripcrm", "ipcrm"), theirs.stderr);
}

#[test]
fn malformed_id_removes_nothing() {
    if !ready(test_name!()) {
        return;
    }
    // ipcrm would remove segment 0 before it reads "abc"; we read all first.
    let (ours, _) = refused(
        &["-m", "0", "-m", "abc"],
        "ipcrm",
        &["-m", "abc"],
        "ipcmk -M 10",
    );
    assert_eq!(ours.stderr, "ripcrm: failed to parse argument: 'abc'\n");
}
