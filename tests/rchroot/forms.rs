//! rchroot against coreutils chroot on the forms scripts rely on: empty
//! --userspec parts, nesting, quoting in each locale; and what --install
//! refuses.

use std::ffi::OsStr;
use std::process::Command;

use super::{both, new_root};
use crate::harness::{anchor, bin, cmd, needs_root, run, skip};

#[test]
fn empty_userspec_parts_change_no_id_like_chroot() {
    if !needs_root!() {
        return;
    }
    for spec in ["--userspec=", "--userspec=:", "--user=:"] {
        let args: Vec<&OsStr> = [spec, "/", "id"].map(OsStr::new).to_vec();
        let (ours, theirs) = both(&args);
        assert_eq!(ours, theirs, "{spec}");
        assert_eq!(ours.code, 0, "{spec}: {ours:?}");
        let me = run(&mut Command::new("id"));
        assert_eq!(ours.stdout, me.stdout, "{spec}");
    }
}

#[test]
fn nested_rchroot_runs_like_nested_chroot() {
    if !needs_root!() {
        return;
    }
    let ours = run(cmd("rchroot").arg("/").arg(bin("rchroot")).args([
        "/",
        "sh",
        "-c",
        "echo nested; exit 4",
    ]));
    let chroot = run(Command::new("sh").args(["-c", "command -v chroot"]));
    let theirs = run(anchor("chroot").arg("/").arg(chroot.stdout.trim()).args([
        "/",
        "sh",
        "-c",
        "echo nested; exit 4",
    ]));
    assert_eq!(ours, theirs);
    assert_eq!((ours.code, ours.stdout.as_str()), (4, "nested\n"));
    // By name through PATH, as scripts write it.
    let path = format!(
        "{}:{}",
        bin("rchroot").parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let ours = run(cmd("rchroot").env("PATH", &path).args([
        "/",
        "rchroot",
        "--userspec=nobody",
        "/",
        "id",
        "-u",
    ]));
    assert_eq!(
        (ours.code, ours.stdout.as_str()),
        (0, "65534\n"),
        "{ours:?}"
    );
}

#[test]
fn own_binary_through_proc_is_refused_in_any_root() {
    if !needs_root!() {
        return;
    }
    // The /proc magic link, not the root, is what CVE-2019-5736 abuses.
    let ours = run(cmd("rchroot").args(["/", "/proc/self/exe", "/", "true"]));
    assert_eq!(
        (ours.code, ours.stderr.as_str()),
        (
            126,
            "rchroot: failed to run command '/proc/self/exe': refusing to run rchroot's own \
             binary inside NEWROOT (via '/proc/self/exe')\n"
        )
    );
    // A script whose interpreter is our binary through /proc/PID/exe.
    let dir = new_root("own_binary_through_proc");
    let script = dir.path().join("script");
    crate::harness::write_exe(&script, "#!/proc/self/exe\n");
    let ours = run(cmd("rchroot").arg("/").arg(&script));
    assert_eq!(ours.code, 126, "{ours:?}");
}

#[test]
fn install_refuses_what_is_not_a_program() {
    if !needs_root!() {
        return;
    }
    let dir = new_root("install_refuses");
    let from = new_root("install_refuses_from");
    let text = from.path().join("notes");
    std::fs::write(&text, "not a program\n").unwrap();
    let marked = from.path().join("marked");
    crate::harness::write_exe(&marked, "echo no #! line\n");
    for (file, why) in [
        (&text, "no execute permission"),
        (&marked, "neither ELF nor a #! script"),
    ] {
        let ran = run(cmd("rchroot").arg("--install").arg(dir.path()).arg(file));
        assert_eq!(
            (ran.code, ran.stderr),
            (
                125,
                format!(
                    "rchroot: cannot install '{}': not an executable program ({why})\n",
                    file.display()
                )
            )
        );
    }
    // Nothing was copied.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn messages_quote_names_as_chroot_does_in_each_locale() {
    if !needs_root!() {
        return;
    }
    let utf8 = run(Command::new("locale").arg("-a"));
    if !utf8
        .stdout
        .lines()
        .any(|l| l.eq_ignore_ascii_case("C.utf8"))
    {
        skip(
            "messages_quote_names_as_chroot_does_in_each_locale",
            "no C.UTF-8 locale",
        );
        return;
    }
    let cases: [&[&str]; 6] = [
        &["/", "/nonexistent/bxt"],
        &["/", "/bxt/it's"],
        &["/", "/bxt/\u{e9}\n"],
        &["--groups=,", "/", "true"],
        &["--groups=bxt-no-such-group", "/", "true"],
        &["/bxt/no\nsuch", "true"],
    ];
    for locale in ["C", "C.UTF-8", "xx_XX.UTF-8"] {
        for args in cases {
            let ours = run(cmd("rchroot").env("LC_ALL", locale).args(args));
            let theirs = run(anchor("chroot").env("LC_ALL", locale).args(args));
            assert_eq!(ours.code, theirs.code, "{locale} {args:?}");
            assert_eq!(
                ours.stderr,
                format!("r{}", theirs.stderr),
                "{locale} {args:?}"
            );
        }
    }
    let ours = run(cmd("rchroot")
        .env("LC_ALL", "C.UTF-8")
        .args(["/", "/bxt/x"]));
    assert!(ours.stderr.contains("\u{2018}/bxt/x\u{2019}"), "{ours:?}");
}
