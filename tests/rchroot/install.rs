//! rchroot --install against what ldd and the loader say: paths, links,
//! interpreters, and all or nothing when it fails or is killed.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{both, fails_like_chroot, installed, new_root};
use crate::harness::{cmd, in_mountns, needs, needs_root, run};

/// Every entry below `dir`: relative path, type, size, inode.
fn tree(dir: &Path) -> Vec<(PathBuf, u32, u64, u64)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                todo.push(path.clone());
            }
            let rel = path.strip_prefix(dir).unwrap().to_path_buf();
            out.push((rel, meta.mode() & 0o170000, meta.size(), meta.ino()));
        }
    }
    out.sort();
    out
}

/// What `ldd` says PROGRAM loads: the library names and the interpreter.
fn ldd(program: &str) -> (Vec<String>, String) {
    let out = run(Command::new("ldd").arg(program));
    assert_eq!(out.code, 0, "ldd {program}: {}", out.stderr);
    let mut libs = Vec::new();
    let mut interp = String::new();
    for line in out.stdout.lines().map(str::trim) {
        if let Some((name, _)) = line.split_once(" => ") {
            libs.push(name.to_string());
        } else if line.starts_with('/') {
            interp = line.split_whitespace().next().unwrap().to_string();
        }
    }
    (libs, interp)
}

#[test]
fn lab1_names_what_is_missing_and_install_makes_it_work() {
    if !needs_root!() || !needs!("ldd") {
        return;
    }
    // The notebook: mkdir -p newroot/{bin,lib64}; cp /bin/bash newroot/bin.
    let dir = new_root("lab1");
    let newroot = dir.path();
    std::fs::create_dir_all(newroot.join("bin")).unwrap();
    std::fs::create_dir_all(newroot.join("lib64")).unwrap();
    crate::harness::copy_exe(Path::new("/bin/bash"), &newroot.join("bin/bash"));
    let args = [
        newroot.as_os_str(),
        "/bin/bash".as_ref(),
        "-c".as_ref(),
        "echo works".as_ref(),
    ];

    let (ours, theirs) = both(&args);
    assert_eq!((ours.code, theirs.code), (127, 127), "{ours:?}");
    let (libs, interp) = ldd("/bin/bash");
    let expected = format!(
        "rchroot: failed to run command '/bin/bash': No such file or directory \
         (missing in NEWROOT: {interp}, {})\n",
        libs.join(", ")
    );
    assert_eq!(ours.stderr, expected);

    let install = run(cmd("rchroot")
        .arg("--install")
        .arg(newroot)
        .arg("/bin/bash"));
    assert_eq!((install.code, install.stderr.as_str()), (0, ""));
    let ran = run(cmd("rchroot").args(args));
    assert_eq!((ran.code, ran.stdout.as_str()), (0, "works\n"), "{ran:?}");

    // ls was never copied: not found, as with chroot, and nothing to explain.
    let ls = [newroot.as_os_str(), "/bin/ls".as_ref(), "/".as_ref()];
    fails_like_chroot(&ls, 127);
    let install = run(cmd("rchroot").arg("--install").arg(newroot).arg("/bin/ls"));
    assert_eq!((install.code, install.stderr.as_str()), (0, ""));
    let (ours, theirs) = both(&ls);
    assert_eq!((ours.code, theirs.code), (0, 0), "{ours:?}");
    assert_eq!(ours.stdout, theirs.stdout);
    assert!(ours.stdout.lines().any(|l| l == "bin"), "{}", ours.stdout);
}

#[test]
fn install_keeps_paths_and_symlinks() {
    if !needs_root!() || !needs!("ldd") {
        return;
    }
    let dir = installed("install_keeps", &["ls"]);
    let (libs, interp) = ldd("/bin/ls");
    let ldd_out = run(Command::new("ldd").arg("/bin/ls")).stdout;
    let mut paths: Vec<PathBuf> = ldd_out
        .lines()
        .filter_map(|l| l.split(" => ").nth(1))
        .filter_map(|r| r.split_whitespace().next())
        .map(PathBuf::from)
        .collect();
    assert_eq!(paths.len(), libs.len());
    paths.push(interp.into());
    paths.push(
        run(Command::new("sh").args(["-c", "command -v ls"]))
            .stdout
            .trim()
            .into(),
    );
    for host in &paths {
        let inside = dir.path().join(host.strip_prefix("/").unwrap());
        let (h, i) = (
            std::fs::symlink_metadata(host).unwrap(),
            std::fs::symlink_metadata(&inside)
                .unwrap_or_else(|e| panic!("{}: {e}", inside.display())),
        );
        assert_eq!(
            h.file_type().is_symlink(),
            i.file_type().is_symlink(),
            "{}",
            host.display()
        );
        if h.file_type().is_symlink() {
            assert_eq!(
                std::fs::read_link(host).unwrap(),
                std::fs::read_link(&inside).unwrap()
            );
        }
        assert_eq!(
            std::fs::read(host).unwrap(),
            std::fs::read(&inside).unwrap()
        );
    }
}

#[test]
fn install_twice_changes_nothing() {
    if !needs_root!() {
        return;
    }
    let dir = installed("install_twice", &["/bin/sh", "/bin/ls"]);
    let before = tree(dir.path());
    let again = run(cmd("rchroot")
        .arg("--install")
        .arg(dir.path())
        .args(["/bin/sh", "/bin/ls"]));
    assert_eq!((again.code, again.stderr.as_str()), (0, ""));
    assert_eq!(tree(dir.path()), before);
}

#[test]
fn install_of_a_missing_program_changes_nothing() {
    if !needs_root!() {
        return;
    }
    let dir = new_root("install_missing");
    for (program, why) in [
        ("bxt-no-such-program", "command not found in PATH"),
        ("/bxt/no/such/program", "No such file or directory"),
    ] {
        let ran = run(cmd("rchroot")
            .arg("--install")
            .arg(dir.path())
            .args(["/bin/sh", program]));
        assert_eq!(ran.code, 125);
        assert_eq!(
            ran.stderr,
            format!("rchroot: cannot install '{program}': {why}\n")
        );
        assert!(tree(dir.path()).is_empty());
    }
}

#[test]
fn install_into_a_read_only_root_changes_nothing() {
    if !needs_root!() {
        return;
    }
    let dir = new_root("install_ro");
    let newroot = dir.path().to_path_buf();
    let ran = in_mountns(move || {
        let ro = run(Command::new("mount")
            .args(["-t", "tmpfs", "-o", "ro,mode=755", "bxt-ro"])
            .arg(&newroot));
        assert_eq!(ro.code, 0, "{}", ro.stderr);
        let ran = run(cmd("rchroot").arg("--install").arg(&newroot).arg("/bin/ls"));
        assert!(tree(&newroot).is_empty());
        ran
    });
    assert_eq!(ran.code, 125);
    assert_eq!(ran.stderr.lines().count(), 1);
    assert!(
        ran.stderr.starts_with("rchroot: cannot create '"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.ends_with("': Read-only file system\n"),
        "{}",
        ran.stderr
    );
}

#[test]
fn install_failing_half_way_removes_what_it_copied() {
    if !needs_root!() {
        return;
    }
    // usr/lib as a file: the program and its links get copied, then the
    // libraries' directory cannot be made.
    let dir = new_root("install_rollback");
    std::fs::create_dir(dir.path().join("usr")).unwrap();
    std::fs::write(dir.path().join("usr/lib"), "in the way\n").unwrap();
    let before = tree(dir.path());
    let ran = run(cmd("rchroot")
        .arg("--install")
        .arg(dir.path())
        .arg("/usr/bin/id"));
    assert_eq!(ran.code, 125, "{ran:?}");
    assert_eq!(ran.stderr.lines().count(), 1);
    assert!(
        ran.stderr
            .starts_with("rchroot: cannot install '/usr/lib': '"),
        "{}",
        ran.stderr
    );
    assert_eq!(tree(dir.path()), before);
}

#[test]
fn install_brings_a_changed_copy_up_to_date() {
    if !needs_root!() {
        return;
    }
    let dir = installed("install_update", &["/bin/ls"]);
    let copy = dir.path().join("bin/ls");
    std::fs::write(&copy, "stale\n").unwrap();
    let again = run(cmd("rchroot")
        .arg("--install")
        .arg(dir.path())
        .arg("/bin/ls"));
    assert_eq!((again.code, again.stderr.as_str()), (0, ""));
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        std::fs::read("/bin/ls").unwrap()
    );
    let leftovers: Vec<_> = tree(dir.path())
        .into_iter()
        .filter(|(p, ..)| p.to_string_lossy().contains(".rchroot-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn scripts_name_a_missing_interpreter_and_install_brings_it() {
    if !needs_root!() {
        return;
    }
    let dir = new_root("script");
    let script = dir.path().join("hello.sh");
    crate::harness::write_exe(&script, "#!/bin/sh\necho hello from a script\n");
    let args = [dir.path().as_os_str(), "/hello.sh".as_ref()];
    let (ours, theirs) = both(&args);
    assert_eq!((ours.code, theirs.code), (127, 127));
    assert_eq!(
        ours.stderr,
        "rchroot: failed to run command '/hello.sh': No such file or directory \
         (missing in NEWROOT: /bin/sh)\n"
    );
    // Installing the script brings its interpreter along (the script lands
    // at its own host path inside NEWROOT).
    let install = run(cmd("rchroot").arg("--install").arg(dir.path()).arg(&script));
    assert_eq!((install.code, install.stderr.as_str()), (0, ""));
    let ran = run(cmd("rchroot").args(args));
    assert_eq!(
        (ran.code, ran.stdout.as_str()),
        (0, "hello from a script\n"),
        "{ran:?}"
    );
}

#[test]
fn install_killed_anywhere_is_finished_by_the_next_run() {
    if !needs_root!() {
        return;
    }
    let programs = ["/bin/sh", "/bin/ls"];
    let reference = installed("install_reference", &programs);
    let shape = |dir: &Path| -> Vec<(PathBuf, u32, u64)> {
        tree(dir)
            .into_iter()
            .map(|(p, kind, size, _)| (p, kind, size))
            .collect()
    };
    let dir = new_root("install_killed");
    // SIGKILL at spread-out moments of the copy; no undo runs then.
    for i in 0..30u64 {
        let mut child = crate::harness::Spawned::new(
            cmd("rchroot")
                .arg("--install")
                .arg(dir.path())
                .args(programs)
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        std::thread::sleep(std::time::Duration::from_micros(i * 300));
        let _ = child.kill();
        child.wait().unwrap();
        // Every replaced file is back in place by the next complete run.
        if i % 10 == 9 {
            let again = run(cmd("rchroot")
                .arg("--install")
                .arg(dir.path())
                .args(programs));
            assert_eq!((again.code, again.stderr.as_str()), (0, ""));
            assert_eq!(shape(dir.path()), shape(reference.path()));
        }
    }
}
