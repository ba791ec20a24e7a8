//! SECURITY.md, rows that hold for every tool: no set-user-ID, set-group-ID
//! or file capabilities on a binary (bubblewrap CVE-2016-8659,
//! CVE-2020-5291), and a tool that finds itself set-user-ID fails closed.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
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

#[test]
fn no_binary_is_setuid_setgid_or_has_file_capabilities() {
    for (tool, _) in TOOLS {
        let path = bin(tool);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o6000, 0, "{tool} is set-user-ID or set-group-ID");
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
        assert!(
            size < 0 && errno == Some(libc::ENODATA),
            "{tool} has file capabilities"
        );
    }
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
