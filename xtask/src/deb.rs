//! `cargo xtask deb`: the Debian package, built with dpkg-deb from the
//! binaries, the man pages and completions rendered from the same clap
//! definitions, packaging/copyright, and dependencies that dpkg-shlibdeps
//! reads from the binaries. Every page is one binary, so a new tool is
//! packaged as soon as its page is in `pages()`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

/// The binaries installed in /usr/sbin, beside their anchors (coreutils
/// chroot); the others go to /usr/bin, as util-linux's and iproute2's do.
const SBIN: &[&str] = &["rchroot"];

/// Where to take the binaries from and where to write the package.
pub struct Options {
    /// A directory of built binaries; none: a release build of the workspace.
    pub bin_dir: Option<PathBuf>,
    pub out_dir: PathBuf,
}

/// Builds the package into `options.out_dir` and returns its path.
pub fn build(pages: &[common::cli::Page], options: &Options) -> anyhow::Result<PathBuf> {
    let bin_dir = match &options.bin_dir {
        Some(dir) => dir.clone(),
        None => {
            run(
                Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
                    .args([
                        "build",
                        "--release",
                        "--workspace",
                        "--exclude",
                        "xtask",
                        "--bins",
                        "--manifest-path",
                    ])
                    .arg(super::top().join("Cargo.toml")),
            )?;
            super::top().join("target/release")
        }
    };
    // dpkg-shlibdeps reads debian/control and wants the files under
    // debian/PACKAGE: the staging tree is laid out so.
    let work = tempfile::Builder::new().prefix("boxutils-deb.").tempdir()?;
    let stage = work.path().join("debian/boxutils");
    let usr = stage.join("usr");
    let mut binaries = Vec::new();
    for page in pages {
        let tool = page.command.get_name();
        let dir = if SBIN.contains(&tool) { "sbin" } else { "bin" };
        let target = usr.join(dir).join(tool);
        install(&bin_dir.join(tool), &target, 0o755)?;
        // As dh_strip does (a release build is stripped already).
        run(Command::new("strip")
            .args(["--strip-unneeded", "--remove-section=.comment"])
            .arg(&target))?;
        binaries.push(target);
        let (name, roff) = crate::man::render(page)?;
        let man = usr.join(format!("share/man/man{}/{name}.gz", page.section));
        write(&man, &gzip(&roff)?)?;
        for (shell, file, script) in crate::completions::render(page) {
            let dir = crate::completions::install_dir(shell);
            write(&usr.join("share").join(dir).join(file), &script)?;
        }
    }
    let doc = usr.join("share/doc/boxutils/copyright");
    install(&super::top().join("packaging/copyright"), &doc, 0o644)?;
    // Modes as dpkg wants them, whatever the umask: u=rwX, go=rX.
    run(Command::new("chmod")
        .args(["-R", "u+rwX,go+rX,go-w"])
        .arg(&stage))?;
    let depends = shlib_depends(work.path(), &binaries)?;
    let control = control(&depends, installed_size(&stage)?)?;
    write(&stage.join("DEBIAN/control"), control.as_bytes())?;
    std::fs::create_dir_all(&options.out_dir)
        .with_context(|| format!("cannot create {}", options.out_dir.display()))?;
    let deb = options.out_dir.join(format!(
        "boxutils_{}_{}.deb",
        env!("CARGO_PKG_VERSION"),
        architecture()?
    ));
    run(Command::new("dpkg-deb")
        .args(["--root-owner-group", "-Zxz", "--build"])
        .arg(&stage)
        .arg(&deb))?;
    Ok(deb)
}

/// The control file.
fn control(depends: &str, installed_kib: u64) -> anyhow::Result<String> {
    Ok(format!(
        "Package: boxutils\n\
         Version: {version}\n\
         Architecture: {arch}\n\
         Maintainer: boxutils developers <boxutils@example.invalid>\n\
         Installed-Size: {installed_kib}\n\
         Depends: {depends}\n\
         Section: admin\n\
         Priority: optional\n\
         Homepage: https://example.invalid/boxutils\n\
         Description: Linux container building blocks as small Unix tools\n \
         Drop-ins for chroot, unshare, nsenter, lsns, ipcmk, ipcs, ipcrm and\n \
         ip link/netns veth handling, with errors that say why, JSON output,\n \
         named network namespaces and rollback of partial work.\n",
        version = env!("CARGO_PKG_VERSION"),
        arch = architecture()?,
    ))
}

/// `Depends` as dpkg-shlibdeps computes it from the binaries' libraries.
fn shlib_depends(work: &Path, binaries: &[PathBuf]) -> anyhow::Result<String> {
    write(
        &work.join("debian/control"),
        b"Source: boxutils\n\nPackage: boxutils\nArchitecture: any\n",
    )?;
    let mut shlibdeps = Command::new("dpkg-shlibdeps");
    shlibdeps.current_dir(work).arg("-O");
    for binary in binaries {
        shlibdeps.arg("-e").arg(binary);
    }
    let out = output(&mut shlibdeps)?;
    match out.lines().find_map(|l| l.strip_prefix("shlibs:Depends=")) {
        Some(depends) => Ok(depends.to_string()),
        None => bail!("dpkg-shlibdeps gave no shlibs:Depends: {out}"),
    }
}

/// The size of the staged files in KiB, as dpkg counts it.
fn installed_size(stage: &Path) -> anyhow::Result<u64> {
    let out = output(
        Command::new("du")
            .args(["-sk", "--apparent-size"])
            .arg(stage),
    )?;
    let kib = out.split_whitespace().next().unwrap_or_default();
    kib.parse()
        .with_context(|| format!("cannot read du's output {out:?}"))
}

fn architecture() -> anyhow::Result<String> {
    Ok(output(Command::new("dpkg").arg("--print-architecture"))?
        .trim()
        .to_string())
}

/// `bytes` compressed as Debian compresses man pages (gzip -9n: no name, no time).
fn gzip(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    use std::io::Write;
    let mut child = Command::new("gzip")
        .arg("-9nc")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("cannot run gzip")?;
    let mut stdin = child.stdin.take().context("gzip has no stdin")?;
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().context("cannot run gzip")?;
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("cannot write to gzip"))?
        .context("cannot write to gzip")?;
    if !out.status.success() {
        bail!("gzip failed");
    }
    Ok(out.stdout)
}

/// Copies `from` to `to` with `mode`, making the directories on the way.
fn install(from: &Path, to: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let bytes = std::fs::read(from).with_context(|| format!("cannot read {}", from.display()))?;
    write(to, &bytes)?;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of {}", to.display()))
}

/// Writes `bytes` to `path`, making the directories on the way.
fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Runs `command`; its failure is an error.
fn run(command: &mut Command) -> anyhow::Result<()> {
    let status = command
        .status()
        .with_context(|| format!("cannot run {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed: {status}");
    }
    Ok(())
}

/// Runs `command` and returns its stdout; its failure is an error.
fn output(command: &mut Command) -> anyhow::Result<String> {
    let out = command
        .output()
        .with_context(|| format!("cannot run {command:?}"))?;
    if !out.status.success() {
        bail!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
