//! rchroot against coreutils chroot.

use crate::harness::{anchor, cmd, root, run, tempdir};

#[test]
fn missing_newroot_fails_like_chroot() {
    if !root("missing_newroot_fails_like_chroot") {
        return;
    }
    let dir = tempdir("missing_newroot");
    let missing = dir.path().join("nope");
    let ours = run(cmd("rchroot").arg(&missing).arg("/bin/true"));
    let theirs = run(anchor("chroot").arg(&missing).arg("/bin/true"));
    assert_eq!(ours.code, 125);
    assert_eq!(ours.code, theirs.code);
    assert_eq!(
        ours.stderr,
        format!(
            "rchroot: cannot change root directory to '{}': No such file or directory\n",
            missing.display()
        )
    );
}
