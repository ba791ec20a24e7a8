//! What ships: every binary of the workspace has a man page, completions
//! and a place in the Debian package (cargo-deb's, from
//! `[package.metadata.deb]` of the root Cargo.toml); `--version` and
//! `--help` agree with the package and the man page; the package installs
//! and leaves nothing behind when purged.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::harness::{cmd, needs, needs_root, run, run_within, skip, tempdir, test_name, Ran};

/// The top of the workspace.
fn top() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The cargo running the tests.
fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// `cargo metadata` of the workspace's own packages.
fn metadata() -> serde_json::Value {
    let out = cargo()
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(top().join("Cargo.toml"))
        .output()
        .expect("cannot run cargo metadata");
    assert!(out.status.success(), "cargo metadata failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every binary the workspace builds, but the xtask's and the multi-call
/// one (tests/multicall.rs: its tools are these).
fn binaries() -> Vec<String> {
    binaries_in(&metadata())
}

/// Every binary of the workspace's metadata `meta`, as [`binaries`].
fn binaries_in(meta: &serde_json::Value) -> Vec<String> {
    let mut bins: Vec<String> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] != "xtask" && p["name"] != "boxutils-multicall")
        .flat_map(|p| p["targets"].as_array().unwrap().iter())
        .filter(|t| t["kind"].as_array().unwrap().iter().any(|k| k == "bin"))
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    bins.sort();
    assert!(bins.len() >= 8, "too few binaries found: {bins:?}");
    bins
}

/// The man page of `tool`: man/TOOL.1 or man/TOOL.8.
fn man_page(tool: &str) -> Option<PathBuf> {
    ["1", "8"]
        .iter()
        .map(|section| top().join("man").join(format!("{tool}.{section}")))
        .find(|p| p.is_file())
}

/// The options (`-x`, `--long`) of the OPTIONS section of a man page.
fn man_options(roff: &str) -> BTreeSet<String> {
    let section = roff
        .split("\n.SH ")
        .find(|s| s.starts_with("OPTIONS"))
        .unwrap_or_default();
    let lines: Vec<&str> = section.lines().collect();
    lines
        .windows(2)
        .filter(|w| w[0] == ".TP")
        .flat_map(|w| w[1].split("\\fB").skip(1))
        .filter_map(|word| word.split("\\fR").next())
        .filter(|word| word.starts_with("\\-"))
        .map(|word| word.replace("\\-", "-"))
        .collect()
}

/// The options that `--help` lists: the words that open an entry (indented
/// by at most six spaces, as clap indents `-x, --long` and `--long`), up to
/// the two spaces before its help text.
fn help_options(help: &str) -> BTreeSet<String> {
    help.lines()
        .filter_map(|line| {
            let body = line.trim_start();
            (body.starts_with('-') && line.len() - body.len() <= 6)
                .then(|| body.split("  ").next().unwrap_or_default())
        })
        .flat_map(|synopsis| synopsis.split([',', ' ', '[', '=']))
        .filter(|w| w.starts_with('-') && w.len() > 1)
        .map(str::to_string)
        .collect()
}

/// Every binary has one man page, and every page is a binary's; every
/// binary has its bash, zsh and fish completions.
#[test]
fn tools_list_is_every_binary() {
    let mut listed: Vec<&str> = crate::harness::TOOLS.iter().map(|t| t.0).collect();
    listed.sort_unstable();
    assert_eq!(
        listed,
        binaries(),
        "harness::TOOLS is not the workspace's binaries"
    );
}

#[test]
fn every_binary_has_a_man_page_and_completions() {
    let bins = binaries();
    for tool in &bins {
        assert!(man_page(tool).is_some(), "{tool} has no man page in man/");
        for file in [
            format!("bash/{tool}"),
            format!("zsh/_{tool}"),
            format!("fish/{tool}.fish"),
        ] {
            let path = top().join("completions").join(&file);
            assert!(path.is_file(), "{tool} has no completions/{file}");
        }
    }
    for entry in std::fs::read_dir(top().join("man")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let tool = name.rsplit_once('.').map_or(name.as_str(), |(t, _)| t);
        assert!(bins.iter().any(|b| b == tool), "man/{name} is no binary's");
    }
}

/// `TOOL --version` prints `TOOL VERSION` of the package, and exits 0.
#[test]
fn version_is_the_package_version() {
    for tool in binaries() {
        let ran = run(cmd(&tool).arg("--version"));
        assert_eq!(
            (ran.code, ran.stdout.as_str(), ran.stderr.as_str()),
            (
                0,
                format!("{tool} {}\n", env!("CARGO_PKG_VERSION")).as_str(),
                ""
            ),
            "{tool} --version"
        );
    }
}

/// `TOOL --help` lists exactly the options of the OPTIONS section of its
/// man page.
#[test]
fn help_lists_the_options_of_the_man_page() {
    for tool in binaries() {
        let ran = run(cmd(&tool).arg("--help"));
        assert_eq!(ran.code, 0, "{tool} --help: {}", ran.stderr);
        let page = man_page(&tool).unwrap_or_else(|| panic!("{tool} has no man page"));
        let man = man_options(&std::fs::read_to_string(page).unwrap());
        let help = help_options(&ran.stdout);
        assert!(help.contains("--help"), "{tool} --help: no options read");
        assert_eq!(help, man, "{tool}: --help (left) and man page (right)");
    }
}

/// Where the package puts `tool`: beside its anchor (coreutils chroot is
/// in /usr/sbin), else /usr/bin as util-linux, iproute2 and libcgroup do.
fn install_dir(tool: &str) -> &'static str {
    if tool == "rchroot" {
        "/usr/sbin"
    } else {
        "/usr/bin"
    }
}

/// `[package.metadata.deb]` of the root package installs every binary of
/// the workspace where [`install_dir`] says, and no other binary: a new
/// tool fails here, without root, until it has its line there.
#[test]
fn every_binary_has_a_place_in_the_package() {
    let meta = metadata();
    let deb = &package_metadata(&meta)["deb"];
    let packaged: Vec<(String, String)> = binary_assets(&deb["assets"]);
    let expected: Vec<(String, String)> = binaries_in(&meta)
        .into_iter()
        .map(|tool| {
            let dir = format!("{}/", install_dir(&tool).trim_start_matches('/'));
            (tool, dir)
        })
        .collect();
    assert_eq!(packaged, expected, "(binary, directory) in the package");
}

/// The multi-call variant (`packaging/install.sh --multi-call`) holds the
/// multi-call binary in /usr/bin, each binary as a symlink to it where
/// [`install_dir`] puts the binary, and every other file of the package.
#[test]
fn multi_call_package_links_every_binary_where_it_would_be() {
    let meta = metadata();
    let deb = &package_metadata(&meta)["deb"];
    let variant = &deb["variants"]["multi-call"];
    assert_eq!(variant["name"], "boxutils", "the same package name");
    let assets = &variant["assets"];
    assert_eq!(
        binary_assets(assets),
        [("boxutils".to_string(), "usr/bin/".to_string())]
    );
    let mut links: Vec<(String, String)> = assets
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| Some((a["dest"].as_str()?.into(), a["link_name"].as_str()?.into())))
        .collect();
    links.sort();
    let mut expected: Vec<(String, String)> = binaries_in(&meta)
        .into_iter()
        .map(|tool| {
            let dest = format!("{}/{tool}", install_dir(&tool).trim_start_matches('/'));
            (dest, "/usr/bin/boxutils".to_string())
        })
        .collect();
    expected.sort();
    assert_eq!(links, expected, "(link, target) in the multi-call package");
    assert_eq!(
        other_assets(assets),
        other_assets(&deb["assets"]),
        "files but the binaries: the multi-call package (left), the package (right)"
    );
}

/// `[package.metadata]` of the root package.
fn package_metadata(meta: &serde_json::Value) -> &serde_json::Value {
    &meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "boxutils")
        .expect("no boxutils package")["metadata"]
}

/// The `(binary, directory)` of each built binary among cargo-deb `assets`.
fn binary_assets(assets: &serde_json::Value) -> Vec<(String, String)> {
    let mut binaries: Vec<(String, String)> = assets
        .as_array()
        .expect("no [package.metadata.deb] assets")
        .iter()
        .filter_map(|asset| {
            let tool = asset[0].as_str()?.strip_prefix("target/release/")?;
            Some((tool.to_string(), asset[1].as_str()?.to_string()))
        })
        .collect();
    binaries.sort();
    binaries
}

/// The cargo-deb `assets` that are files of the tree (man pages, ...).
fn other_assets(assets: &serde_json::Value) -> Vec<&serde_json::Value> {
    assets
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a[0].as_str().is_some_and(|src| !src.starts_with("target/")))
        .collect()
}

/// Purges the package on drop, so that a failing test leaves nothing.
struct Purge;

impl Drop for Purge {
    fn drop(&mut self) {
        let purge = run(Command::new("dpkg").args(["--purge", "boxutils"]));
        assert!(purge.code == 0 || std::thread::panicking(), "{purge:?}");
    }
}

/// Completes `words` (the last is the word being completed) as bash does
/// with bash-completion loaded and its completion for `words[0]` loaded on
/// demand from where packages put it.
fn bash_complete(words: &[&str]) -> Ran {
    let script = r#"
        . /usr/share/bash-completion/bash_completion
        _completion_loader "$1"
        spec=$(complete -p "$1") || exit 1
        fn=${spec##*-F }; fn=${fn%% *}
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        "$fn" "$1" "${@: -1}" "${@: -2:1}"
        printf '%s\n' "${COMPREPLY[@]}"
    "#;
    run(Command::new("bash")
        .args(["-c", script, "bash"])
        .args(words))
}

/// How long `cargo deb` may take: a release build of every tool, from
/// scratch on a fresh CI machine, beside the other tests.
const DEB_BUILD_LIMIT: Duration = Duration::from_secs(30 * 60);

/// The package that cargo-deb builds (as packaging/install.sh does: a
/// release build) installs every binary, its compressed man page,
/// completions and the copyright where Debian looks for them, depends on
/// the libraries the binaries link, and leaves nothing when purged.
#[test]
fn deb_installs_everything_and_purges_clean() {
    let completion = "/usr/share/bash-completion/bash_completion";
    if !needs_root!() || !needs!("cargo-deb") || !needs!("dpkg-shlibdeps") || !needs!("man") {
        return;
    }
    if !Path::new(completion).is_file() {
        return skip(test_name!(), "bash-completion is not installed");
    }
    if run(Command::new("dpkg").args(["-s", "boxutils"])).code == 0 {
        return skip(
            test_name!(),
            "the boxutils package is installed here: not touching it",
        );
    }
    let out = tempdir("deb");
    let built = run_within(
        cargo()
            .args(["deb", "--package", "boxutils", "--manifest-path"])
            .arg(top().join("Cargo.toml"))
            .arg("--output")
            .arg(out.path()),
        DEB_BUILD_LIMIT,
    );
    assert_eq!(built.code, 0, "cargo deb: {}", built.stderr);
    let deb = built.stdout.lines().last().unwrap().to_string();
    // $auto: dpkg-shlibdeps read the binaries (Rust's std links libc,
    // roverlay zlib); and glibc 2.36 for their packed relocations (DT_RELR), which it
    // cannot see.
    let depends = run(Command::new("dpkg-deb").args(["--field", &deb, "Depends"]));
    let relr = run(Command::new("readelf")
        .arg("-V")
        .arg(top().join("target/release/rlsns")));
    assert!(
        relr.stdout.contains("GLIBC_ABI_DT_RELR"),
        "rlsns without DT_RELR: {relr:?}"
    );
    assert!(
        depends.stdout.matches("libc6 (>= ").count() == 2
            && depends.stdout.contains("libc6 (>= 2.36)")
            && depends.stdout.contains("zlib1g (>= "),
        "Depends: {depends:?}"
    );

    let _purge = Purge;
    let installed = run(Command::new("dpkg").args(["-i", &deb]));
    assert_eq!(installed.code, 0, "dpkg -i: {installed:?}");
    let listed = run(Command::new("dpkg").args(["-L", "boxutils"]));
    let files: Vec<&str> = listed.stdout.lines().collect();
    for tool in binaries() {
        let path = format!("{}/{tool}", install_dir(&tool));
        assert!(
            files.contains(&path.as_str()),
            "{path} is not in the package"
        );
        // SECURITY: what the package installs is never privileged.
        assert_eq!(crate::security::privileged(Path::new(&path)), None);
    }
    assert_eq!(
        run(Command::new("man").args(["-w", "rvethpair"])).stdout,
        "/usr/share/man/man8/rvethpair.8.gz\n"
    );
    assert_eq!(bash_complete(&["rlsns", "--ty"]).stdout, "--type\n");
    // Release binaries carry no unwind tables (common/release-link.rs),
    // and a backtrace asked for by the environment neither aborts nor
    // shows: the error is the usual one line and exit status.
    let sections = run(Command::new("readelf")
        .arg("-SW")
        .arg(top().join("target/release/rchroot")));
    assert!(
        sections.code == 0 && !sections.stdout.contains(" .eh_frame "),
        "rchroot with unwind tables: {sections:?}"
    );
    let failed = run(Command::new("/usr/sbin/rchroot")
        .args(["/nonexistent-root", "true"])
        .env("RUST_BACKTRACE", "full")
        .env("RUST_LIB_BACKTRACE", "1"));
    assert_eq!(
        (failed.code, failed.stderr.as_str()),
        (
            125,
            "rchroot: cannot change root directory to '/nonexistent-root': No such file or directory\n"
        )
    );
    let version = run(Command::new("/usr/bin/rlsns").arg("--version"));
    assert_eq!(
        (version.code, version.stdout),
        (0, format!("rlsns {}\n", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(
        std::fs::read("/usr/share/doc/boxutils/copyright").unwrap(),
        std::fs::read(top().join("packaging/copyright")).unwrap(),
        "/usr/share/doc/boxutils/copyright is not packaging/copyright"
    );

    drop(_purge);
    assert_ne!(run(Command::new("dpkg").args(["-s", "boxutils"])).code, 0);
    let left: Vec<&&str> = files
        .iter()
        .filter(|f| {
            let path = Path::new(f);
            // Directories other packages own (/usr/bin, ...) stay.
            path.exists() && (!path.is_dir() || f.contains("boxutils"))
        })
        .collect();
    assert!(left.is_empty(), "left after purge: {left:?}");
}
