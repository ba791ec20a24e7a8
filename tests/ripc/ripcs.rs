//! Lab 5 and ripcs against ipcs: what each namespace lists, the views,
//! limits and summaries, one object's details, JSON, no /proc/sysvipc.

use nix::mount::{mount, MsFlags};

use super::{key_lines, populate, ready, rows, same, sh};
use crate::harness::{anchor, cmd, in_ipcns, in_mountns, run, test_name};

/// Lab 5: a segment made inside a new IPC namespace is listed there, and
/// only there.
#[test]
fn lab5_segment_made_inside_is_listed_inside_only() {
    if !ready(test_name!()) {
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
    if !ready(test_name!()) {
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
    if !ready(test_name!()) {
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
    if !ready(test_name!()) {
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
    if !ready(test_name!()) {
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
