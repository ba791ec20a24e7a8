//! ripcmk, ripcs and ripcrm against util-linux ipcmk, ipcs and ipcrm. Every
//! test runs in IPC namespaces of its own (`harness::in_ipcns`), so the
//! host's objects and limits are never touched; both tools run side by side
//! on the same objects.

use nix::mount::{mount, MsFlags};

use crate::harness::{anchor, cmd, have, in_ipcns, in_mountns, root, run, run_into, unique, Ran};

/// Runs a shell script (util-linux tools, perl) in the caller's namespaces.
fn sh(script: &str) -> Ran {
    let ran = run(anchor("sh").args(["-c", script]));
    assert_eq!(ran.code, 0, "{script}: {}", ran.stderr);
    ran
}

/// The rows of an ipcs listing: the lines that start with a key.
fn key_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("0x")).collect()
}

/// ipcs's rows in the caller's namespace.
fn rows() -> Vec<String> {
    // A failed ipcs would list nothing, and "nothing left" would pass.
    let listed = run(anchor("ipcs").arg("-a"));
    assert_eq!(listed.code, 0, "ipcs -a: {listed:?}");
    key_lines(&listed.stdout)
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// Root, and the util-linux tools to compare with.
fn ready(test: &str) -> bool {
    root(test) && have(test, "ipcmk") && have(test, "ipcs") && have(test, "ipcrm")
}

/// Our tool and util-linux's on the same arguments: the same exit code,
/// stdout and stderr (ours names itself).
fn same(ours: &str, theirs: &str, args: &[&str]) {
    let a = run(cmd(ours).args(args));
    let b = run(anchor(theirs).args(args));
    assert_eq!(a.code, b.code, "{ours} {args:?}: {a:?} vs {b:?}");
    assert_eq!(a.stdout, b.stdout, "{ours} {args:?}");
    assert_eq!(
        a.stderr.replace(&format!("{ours}:"), &format!("{theirs}:")),
        b.stderr,
        "{ours} {args:?}"
    );
}

/// Objects of every kind, made by both tools, one owned by a uid without
/// a name, a queue holding a message (used bytes, send time, sender pid).
fn populate() {
    sh("ipcmk -M 5000 && ipcmk -M 1M -p 0600 && ipcmk -Q && ipcmk -S 3 -p 0640");
    let ours = run(cmd("ripcmk").args(["-M", "100", "-Q", "-S", "1", "-p", "0660"]));
    assert_eq!(ours.code, 0, "{}", ours.stderr);
    sh("setpriv --reuid 12345 --regid 12345 --clear-groups ipcmk -M 64 -Q -S 2 >/dev/null");
    sh(r#"perl -e 'msgsnd(0, pack("l! a*", 1, "hello world"), 0) or die "msgsnd: $!"'"#);
}

/// Lab 5: a segment made inside a new IPC namespace is listed there, and
/// only there.
#[test]
fn lab5_segment_made_inside_is_listed_inside_only() {
    if !ready("lab5_segment_made_inside_is_listed_inside_only") {
        return;
    }
    let (made, inside) = in_ipcns(|| {
        let made = run(cmd("ripcmk").args(["-M", "100"]));
        (made, run(cmd("ripcs").arg("-m")))
    });
    assert_eq!(made.code, 0, "{}", made.stderr);
    assert_eq!(made.stdout, "Shared memory id: 0\n");
    let listed = key_lines(&inside.stdout);
    assert_eq!(listed.len(), 1, "{}", inside.stdout);
    let fields: Vec<&str> = listed[0].split_whitespace().collect();
    assert_eq!(&fields[1..5], ["0", "root", "644", "100"]);
    // The host (read only) does not list that key.
    let host = run(cmd("ripcs").arg("-m"));
    assert_eq!(host.code, 0);
    assert!(
        !host.stdout.contains(fields[0]),
        "{} leaked:\n{}",
        fields[0],
        host.stdout
    );
}

/// Lab 5, the other way: a segment of another namespace (standing in for
/// the host's) is not listed inside a new one, by ripcs nor by ipcs.
#[test]
fn lab5_segment_of_another_namespace_is_not_listed_inside() {
    if !ready("lab5_segment_of_another_namespace_is_not_listed_inside") {
        return;
    }
    let (outer, inner) = in_ipcns(|| {
        sh("ipcmk -M 4096 >/dev/null");
        let outer = run(cmd("ripcs").arg("-m"));
        // A thread starts in its creator's namespaces, then leaves for a new one.
        let inner = in_ipcns(|| (run(cmd("ripcs").arg("-m")), run(anchor("ipcs").arg("-m"))));
        (outer, inner)
    });
    assert_eq!(key_lines(&outer.stdout).len(), 1);
    assert_eq!(inner.0.code, 0);
    assert_eq!(inner.0.stdout, inner.1.stdout);
    assert_eq!(
        inner.0.stdout,
        "\n------ Shared Memory Segments --------\n\
         key        shmid      owner      perms      bytes      nattch     status      \n\n"
    );
}

/// In a new IPC namespace holding the `populate` objects (and what the
/// script `setup` does after, if any), ripcs and ipcs on each of `cases`.
fn ripcs_like_ipcs(test: &str, setup: &'static str, cases: &'static [&'static [&'static str]]) {
    if !ready(test) {
        return;
    }
    in_ipcns(move || {
        populate();
        if !setup.is_empty() {
            sh(setup);
        }
        for args in cases {
            same("ripcs", "ipcs", args);
        }
    });
}

#[test]
fn ripcs_lists_like_ipcs() {
    ripcs_like_ipcs(
        "ripcs_lists_like_ipcs",
        "",
        &[
            &[],
            &["-a"],
            &["-m"],
            &["-q"],
            &["-s"],
            &["-m", "-q"],
            &["-t"],
            &["-p"],
            &["-c"],
            &["-s", "-p"],
            &["--human"],
            &["-b"],
            &["-t", "-c"],
            &["--sh", "--ti"],
        ],
    );
}

#[test]
fn ripcs_limits_and_summary_like_ipcs() {
    // Limits of this namespace only, set to odd values.
    ripcs_like_ipcs(
        "ripcs_limits_and_summary_like_ipcs",
        "echo 1000000 > /proc/sys/kernel/shmmax && echo 2000 > /proc/sys/kernel/shmall \
        && echo '250 32000 32 128' > /proc/sys/kernel/sem",
        &[
            &["-l"],
            &["-l", "-b"],
            &["-l", "--human"],
            &["-u"],
            &["-u", "-b"],
            &["-u", "--human"],
            &["-m", "-l"],
        ],
    );
}

#[test]
fn ripcs_details_one_object_like_ipcs() {
    ripcs_like_ipcs(
        "ripcs_details_one_object_like_ipcs",
        "",
        &[
            &["-m", "-i", "0"],
            &["-m", "-i", "1", "--human"],
            &["-q", "-i", "0"],
            &["-q", "-i", "0", "--human"],
            &["-q", "-i", "1", "-b"],
            &["-s", "-i", "0"],
            &["-s", "-i", "2"],
            &["-m", "-i", "99"],
            &["-i", "0"],
            &["-m", "-i", "x"],
        ],
    );
}

#[test]
fn ripcs_without_proc_sysvipc_asks_the_kernel() {
    if !ready("ripcs_without_proc_sysvipc_asks_the_kernel") {
        return;
    }
    let views: [&[&str]; 4] = [&["-a"], &["-c"], &["-t"], &["-q", "-i", "0"]];
    let (with, without) = in_mountns(move || {
        in_ipcns(move || {
            populate();
            let list = || views.map(|args| run(cmd("ripcs").args(args)));
            let with = list();
            // A chroot or container without /proc/sysvipc: ipcs falls back
            // to SHM_STAT and the like, and so do we.
            mount(
                Some("tmpfs"),
                "/proc/sysvipc",
                Some("tmpfs"),
                MsFlags::empty(),
                None::<&str>,
            )
            .expect("tmpfs on /proc/sysvipc");
            (with, list())
        })
    });
    for (a, b) in with.iter().zip(&without) {
        assert_eq!(a.code, 0, "{}", a.stderr);
        assert_eq!(a, b);
    }
    assert_eq!(key_lines(&with[0].stdout).len(), 10);
}

#[test]
fn ripcs_json_has_the_same_ids() {
    if !ready("ripcs_json_has_the_same_ids") {
        return;
    }
    let (json, listed) = in_ipcns(|| {
        populate();
        (run(cmd("ripcs").arg("-J")), rows())
    });
    assert_eq!(json.code, 0, "{}", json.stderr);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let mut from_json: Vec<(String, i64)> = Vec::new();
    for kind in ["messages", "sharedmemory", "semaphores"] {
        for object in value[kind].as_array().unwrap() {
            let key = format!("0x{:08x}", object["key"].as_u64().unwrap());
            from_json.push((key, object["id"].as_i64().unwrap()));
        }
    }
    let from_ipcs: Vec<(String, i64)> = listed
        .iter()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[0].to_string(), f[1].parse().unwrap())
        })
        .collect();
    assert_eq!(from_json, from_ipcs);
    let queue = &value["messages"][0];
    assert_eq!(queue["used_bytes"], 11);
    assert_eq!(queue["messages"], 1);
    assert_eq!(value["sharedmemory"][3]["owner"], "12345");
}

/// The last number on the line of `text` that starts with `label`.
fn figure(text: &str, label: &str) -> u64 {
    let line = text.lines().find(|l| l.starts_with(label)).unwrap();
    line.rsplit(|c: char| !c.is_ascii_digit())
        .find(|w| !w.is_empty())
        .unwrap()
        .parse()
        .unwrap()
}

/// `ripcs -J` with -l and -u gives ipcs's figures as JSON (in bytes, as
/// `ipcs -b`), with -c, -t and -p the objects with only that view's fields
/// (ipcs has no -J, so its text is what is compared); never the plain
/// object list.
#[test]
fn ripcs_json_follows_the_view() {
    if !ready("ripcs_json_follows_the_view") {
        return;
    }
    let (runs, limits, summary, times) = in_ipcns(|| {
        populate();
        let runs: Vec<serde_json::Value> = [
            &["-J", "-l"][..],
            &["-J", "-u"],
            &["-J", "-c"],
            &["-J", "-t"],
            &["-J", "-p"],
            &["-J", "-l", "-m"],
        ]
        .iter()
        .map(|args| {
            let ran = run(cmd("ripcs").args(*args));
            assert_eq!((ran.code, ran.stderr.as_str()), (0, ""), "{args:?}");
            serde_json::from_str(&ran.stdout).unwrap()
        })
        .collect();
        let limits = run(anchor("ipcs").args(["-l", "-b"])).stdout;
        let summary = run(anchor("ipcs").arg("-u")).stdout;
        let times = run(anchor("ipcs").args(["-t", "-q"])).stdout;
        (runs, limits, summary, times)
    });
    let [l, u, c, t, p, lm] = &runs[..] else {
        unreachable!()
    };
    for (json, label) in [
        (&l["messages"]["msgmni"], "max queues system wide"),
        (&l["messages"]["msgmax"], "max size of message"),
        (&l["messages"]["msgmnb"], "default max size of queue"),
        (&l["sharedmemory"]["shmmni"], "max number of segments"),
        (&l["sharedmemory"]["shmmax"], "max seg size"),
        (&l["sharedmemory"]["shmmin"], "min seg size"),
        (&l["semaphores"]["semmni"], "max number of arrays"),
        (&l["semaphores"]["semmsl"], "max semaphores per array"),
        (&l["semaphores"]["semmns"], "max semaphores system wide"),
        (&l["semaphores"]["semopm"], "max ops per semop call"),
        (&l["semaphores"]["semvmx"], "semaphore max value"),
        (&u["messages"]["allocated_queues"], "allocated queues"),
        (&u["messages"]["used_bytes"], "used space"),
        (
            &u["sharedmemory"]["segments_allocated"],
            "segments allocated",
        ),
        (&u["sharedmemory"]["pages_allocated"], "pages allocated"),
        (&u["semaphores"]["used_arrays"], "used arrays"),
        (
            &u["semaphores"]["allocated_semaphores"],
            "allocated semaphores",
        ),
    ] {
        let text = if label.contains("max") || label.contains("min") {
            &limits
        } else {
            &summary
        };
        assert_eq!(json.as_u64(), Some(figure(text, label)), "{label}");
    }
    assert_eq!(u["messages"]["allocated_queues"], 3);
    // Only the kinds asked for.
    assert_eq!(lm.as_object().unwrap().len(), 1);
    assert_eq!(lm["sharedmemory"], l["sharedmemory"]);
    let keys =
        |v: &serde_json::Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    for object in c["semaphores"].as_array().unwrap() {
        assert_eq!(
            keys(object),
            ["cgid", "cuid", "gid", "id", "owner", "perms", "uid"]
        );
    }
    for object in t["messages"].as_array().unwrap() {
        assert_eq!(keys(object), ["ctime", "id", "owner", "rtime", "stime"]);
    }
    // The queue that holds a message was sent to: its send time is set, as
    // ipcs -t shows; the others say "Not set".
    let sent: Vec<i64> = t["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| !m["stime"].is_null())
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    let sent_by_ipcs: Vec<i64> = times
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|w| w.parse::<i64>().is_ok())
        })
        .filter(|l| l.matches("Not set").count() < 2)
        .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(sent, sent_by_ipcs);
    assert_eq!(keys(&p["sharedmemory"][0]), ["cpid", "id", "lpid", "owner"]);
    // ipcs -p shows no semaphores: neither does its JSON.
    assert!(p.get("semaphores").is_none(), "{p}");
}

/// A failed write of the ids (`>/dev/full`) is util-linux's write error,
/// exit 1, and names what was made: the objects stay, as with ipcmk.
#[test]
fn ripcmk_write_error_names_what_was_made() {
    if !ready("ripcmk_write_error_names_what_was_made") {
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
    if !ready("ripcmk_prints_ids_like_ipcmk") {
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
    if !ready("ripcmk_sizes_mean_what_ipcmk_sizes_mean") {
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
    if !ready("ripcrm_removes_by_id_and_by_key") {
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
    if !ready("ripcrm_all_clears_the_namespace") {
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
    if !ready("ripcrm_all_of_one_kind_keeps_the_others") {
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
    if !ready("ripcrm_old_form_and_partial_failure_like_ipcrm") {
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
    if !ready("size_zero_is_refused") {
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
    if !ready("size_over_shmmax_is_refused_with_the_limit") {
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
    if !ready("unparsable_size_is_refused_like_ipcmk") {
        return;
    }
    let (ours, theirs) = refused(&["-M", "1.5"], "ipcmk", &["-M", "1.5"], "");
    assert_eq!(ours.stderr.replace("ripcmk", "ipcmk"), theirs.stderr);
}

#[test]
fn bad_permission_string_is_refused() {
    if !ready("bad_permission_string_is_refused") {
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
    if !ready("unknown_id_is_refused_like_ipcrm") {
        return;
    }
    let (ours, theirs) = refused(&["-m", "7"], "ipcrm", &["-m", "7"], "ipcmk -M 10");
    assert_eq!(ours.stderr, "ripcrm: invalid id (7)\n");
    assert_eq!(ours.stderr.replace("ripcrm", "ipcrm"), theirs.stderr);
}

#[test]
fn unknown_key_is_refused_like_ipcrm() {
    if !ready("unknown_key_is_refused_like_ipcrm") {
        return;
    }
    let args = ["-Q", "0x7fff0001"];
    let (ours, theirs) = refused(&args, "ipcrm", &args, "ipcmk -Q");
    assert_eq!(ours.stderr, "ripcrm: invalid key (0x7fff0001)\n");
    assert_eq!(ours.stderr.replace("ripcrm", "ipcrm"), theirs.stderr);
}

#[test]
fn wrong_kind_for_an_id_is_refused_like_ipcrm() {
    if !ready("wrong_kind_for_an_id_is_refused_like_ipcrm") {
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
    if !ready("malformed_id_removes_nothing") {
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

/// Runs `body` with a private /dev/shm (a tmpfs in a fresh mount
/// namespace) and a fresh IPC namespace: POSIX objects made there reach
/// neither the host's /dev/shm nor its message queues.
fn in_posix_sandbox<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    in_mountns(|| {
        mount(
            Some("tmpfs"),
            "/dev/shm",
            Some("tmpfs"),
            MsFlags::empty(),
            Some("mode=1777"),
        )
        .expect("tmpfs on /dev/shm");
        in_ipcns(body)
    })
}

#[test]
fn posix_objects_are_made_and_removed_by_name() {
    if !root("posix_objects_are_made_and_removed_by_name") {
        return;
    }
    let name = format!("/{}", unique("posix"));
    let (made, files, removed, gone, again) = in_posix_sandbox(move || {
        let made = run(cmd("ripcmk").args(["-m", "1K", "-q", "-s", "-n", &name, "-p", "600"]));
        let files = run(anchor("ls").args(["-ln", "/dev/shm"])).stdout;
        let removed = run(cmd("ripcrm").args([
            "--posix-shmem",
            &name,
            "--posix-semaphore",
            &name,
            "--posix-mqueue",
            &name,
        ]));
        let gone = std::fs::read_dir("/dev/shm").unwrap().count();
        let again = run(cmd("ripcrm").args(["--posix-mqueue", &name]));
        (made, files, (removed, name.clone()), gone, again)
    });
    let (removed, name) = removed;
    assert_eq!(made.code, 0, "{}", made.stderr);
    assert_eq!(
        made.stdout,
        format!(
            "POSIX shared memory name: {name}\nPOSIX message queue name: {name}\n\
             POSIX semaphore name: {name}\n"
        )
    );
    let base = &name[1..];
    assert!(
        files.lines().any(|l| l.starts_with("-rw------- ")
            && l.contains(" 1024 ")
            && l.ends_with(&format!(" {base}"))),
        "{files}"
    );
    assert!(
        files.lines().any(|l| l.ends_with(&format!(" sem.{base}"))),
        "{files}"
    );
    assert_eq!((removed.code, removed.stderr.as_str()), (0, ""));
    assert_eq!(gone, 0);
    assert_eq!(again.code, 1);
    assert_eq!(again.stderr, format!("ripcrm: name `{name}' not found\n"));
}

#[test]
fn nonexistent_posix_name_is_refused() {
    if !ready("nonexistent_posix_name_is_refused") {
        return;
    }
    // util-linux 2.38 has no POSIX options (a usage error); 2.41 says
    // "name not found". Both exit 1, and nothing else is touched.
    let args = ["--posix-shmem", "/bxt-nosuch"];
    let (a, b, before, after) = in_posix_sandbox(move || {
        sh("ipcmk -M 10 >/dev/null && touch /dev/shm/keep");
        let before = (rows(), std::fs::read_dir("/dev/shm").unwrap().count());
        let a = run(cmd("ripcrm").args(args));
        let b = run(anchor("ipcrm").args(args));
        (
            a,
            b,
            before,
            (rows(), std::fs::read_dir("/dev/shm").unwrap().count()),
        )
    });
    assert_eq!((a.code, b.code), (1, 1));
    assert_eq!(a.stderr, "ripcrm: name `/bxt-nosuch' not found\n");
    assert_eq!(before, after);
}

#[test]
fn posix_name_in_use_is_refused_and_kept() {
    if !root("posix_name_in_use_is_refused_and_kept") {
        return;
    }
    let name = format!("/{}", unique("inuse"));
    let (first, second, left, size) = in_posix_sandbox(move || {
        let first = run(cmd("ripcmk").args(["-m", "100", "-n", &name]));
        let second = run(cmd("ripcmk").args(["-M", "10", "-m", "200", "-n", &name]));
        let size = std::fs::metadata(format!("/dev/shm{name}")).map(|m| m.len());
        (first, second, rows(), size.ok())
    });
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(second.code, 1);
    assert_eq!(second.stdout, "");
    assert_eq!(
        second.stderr,
        "ripcmk: create POSIX shared memory failed: File exists\n"
    );
    // The existing object keeps its size; the segment made first is gone.
    assert_eq!(size, Some(100));
    assert_eq!(left, Vec::<String>::new());
}

#[test]
fn posix_queue_name_without_slash_rolls_back() {
    if !root("posix_queue_name_without_slash_rolls_back") {
        return;
    }
    let (ran, left) = in_posix_sandbox(|| {
        let ran = run(cmd("ripcmk").args(["-M", "10", "-q", "-n", "noslash"]));
        (ran, rows())
    });
    assert_eq!(ran.code, 1);
    assert_eq!(
        ran.stderr,
        "ripcmk: create POSIX message queue failed: the name 'noslash' must start with /: Invalid argument\n"
    );
    assert_eq!(left, Vec::<String>::new());
}

#[test]
fn ripcmk_removes_what_it_made_when_a_later_object_fails() {
    if !ready("ripcmk_removes_what_it_made_when_a_later_object_fails") {
        return;
    }
    let (ran, left) = in_ipcns(|| {
        (
            run(cmd("ripcmk").args(["-M", "100", "-Q", "-S", "0"])),
            rows(),
        )
    });
    assert_eq!(ran.code, 1);
    assert_eq!(ran.stdout, "");
    assert!(
        ran.stderr.starts_with("ripcmk: create semaphore failed: "),
        "{}",
        ran.stderr
    );
    assert_eq!(left, Vec::<String>::new());
}

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
    if !ready("ripcrm_all_with_an_attached_kind_like_ipcrm") {
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
    if !ready("usage_errors_are_worded_like_util_linux") {
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
    if !ready("ripcrm_verbose_explains_what_follows_it_like_ipcrm") {
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
    if !ready("ripcrm_old_form_reads_ids_as_ipcrm_does") {
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
    if !have("ripcs_usage_errors_are_worded_as_ipcs_words_them", "ipcs") {
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
