//! SECURITY.md, rows that hold for every tool: no set-user-ID, set-group-ID
//! or file capabilities on a binary (bubblewrap CVE-2016-8659,
//! CVE-2020-5291), and a tool that finds itself set-user-ID fails closed.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::harness::{bin, have, root, run, tempdir};

/// Every binary, with the exit code of its own failures.
const TOOLS: [(&str, i32); 8] = [
    ("rchroot", 125),
    ("runshare", 1),
    ("rnsenter", 1),
    ("rlsns", 1),
    ("ripcmk", 1),
    ("ripcs", 1),
    ("ripcrm", 1),
    ("rvethpair", 1),
];

/// Why `path` would run with more privilege than its caller's: the
/// set-user-ID or set-group-ID bit, or file capabilities; None if neither.
fn privileged(path: &Path) -> Option<String> {
    let mode = std::fs::metadata(path).unwrap().permissions().mode();
    if mode & 0o6000 != 0 {
        return Some(format!("{} has mode {:o}", path.display(), mode & 0o7777));
    }
    let cpath = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: both strings are NUL-terminated; a null buffer of size 0 only asks for the length.
    let size = unsafe {
        libc::getxattr(
            cpath.as_ptr(),
            c"security.capability".as_ptr(),
            std::ptr::null_mut(),
            0,
        )
    };
    let errno = std::io::Error::last_os_error().raw_os_error();
    (size >= 0 || errno != Some(libc::ENODATA))
        .then(|| format!("{} has file capabilities", path.display()))
}

#[test]
fn the_privilege_check_sees_setuid_setgid_and_capabilities() {
    let test = "the_privilege_check_sees_setuid_setgid_and_capabilities";
    if !root(test) || !have(test, "setcap") {
        return;
    }
    let dir = tempdir("privileged");
    for (name, mode) in [("plain", "755"), ("setuid", "4755"), ("setgid", "2755")] {
        let copy = dir.path().join(name);
        let made = run(Command::new("install")
            .args(["-m", mode])
            .arg(bin("rlsns"))
            .arg(&copy));
        assert_eq!(made.code, 0, "{made:?}");
        assert_eq!(privileged(&copy).is_some(), name != "plain", "{name}");
    }
    let caps = dir.path().join("plain");
    let set = run(Command::new("setcap").arg("cap_net_admin+ep").arg(&caps));
    assert_eq!(set.code, 0, "{set:?}");
    assert_eq!(
        privileged(&caps),
        Some(format!("{} has file capabilities", caps.display()))
    );
}

#[test]
fn no_binary_is_setuid_setgid_or_has_file_capabilities() {
    // What the tests run, and every copy of a tool installed on PATH.
    let mut found = Vec::new();
    for (tool, _) in TOOLS {
        found.extend(privileged(&bin(tool)));
        if let Some(path) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&path) {
                let installed = dir.join(tool);
                if installed.is_file() {
                    found.extend(privileged(&installed));
                }
            }
        }
    }
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn the_installer_installs_no_privileged_binary() {
    if !root("the_installer_installs_no_privileged_binary") {
        return;
    }
    // packaging/install.sh as it is, run on a copy of the tree whose
    // release binaries are this build's, with a cargo that builds nothing:
    // what it installs is checked, not what a build happens to produce.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempdir("installer");
    let tree = dir.path().join("tree");
    let release = tree.join("target/release");
    std::fs::create_dir_all(&release).unwrap();
    std::fs::create_dir_all(dir.path().join("bin")).unwrap();
    let copied = run(Command::new("cp")
        .arg("-r")
        .arg(repo.join("packaging"))
        .arg(repo.join("man"))
        .arg(&tree));
    assert_eq!(copied.code, 0, "{copied:?}");
    for (tool, _) in TOOLS {
        crate::harness::copy_exe(&bin(tool), &release.join(tool));
    }
    crate::harness::write_exe(&dir.path().join("bin/cargo"), "#!/bin/sh\nexit 0\n");
    let path = format!(
        "{}:{}",
        dir.path().join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let dest = dir.path().join("dest");
    let ran = run(Command::new("bash")
        .arg(tree.join("packaging/install.sh"))
        .arg("/usr/local")
        .env("PATH", path)
        .env("DESTDIR", &dest));
    assert_eq!(ran.code, 0, "{ran:?}");
    let mut found = Vec::new();
    for (tool, _) in TOOLS {
        let installed = dest.join("usr/local/bin").join(tool);
        assert!(installed.is_file(), "{tool} not installed: {ran:?}");
        found.extend(privileged(&installed));
    }
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_setuid_copy_refuses_to_run() {
    if !root("a_setuid_copy_refuses_to_run") || !have("a_setuid_copy_refuses_to_run", "setpriv") {
        return;
    }
    let dir = tempdir("setuid_copy");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    for (tool, code) in TOOLS {
        let copy = dir.path().join(tool);
        // Copied by a child process: a copy written here would be open for
        // writing in any child that another test thread forks meanwhile,
        // and exec'ing it would fail with ETXTBSY.
        let install = run(Command::new("install")
            .args(["-m", "4755"])
            .arg(bin(tool))
            .arg(&copy));
        assert_eq!(install.code, 0, "{install:?}");
        let ran = run(Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&copy)
            .arg("--help"));
        assert_eq!(ran.code, code, "{tool}: {ran:?}");
        assert_eq!(
            ran.stderr,
            format!("{tool}: refusing to run set-user-ID or set-group-ID\n")
        );
        assert_eq!(
            ran.stdout, "",
            "{tool} printed its help although set-user-ID"
        );
    }
}
