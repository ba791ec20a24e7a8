//! Layers: commit and apply round trip, tar slips and corrupt layers
//! refused with DIR unchanged, and layers read and written by umoci.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{ok, overlay_on, populate, refused, rov_in};
use crate::harness::{have, in_mountns, needs, needs_root, root, run, tempdir, Mounted};

/// A tree as `path → type, mode, owner, content or target`, for
/// comparing; whiteouts (0/0 character devices) are absence, and the
/// root's own attributes and times are left out.
pub fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    for entry in fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        let meta = fs::symlink_metadata(&path).expect("lstat");
        let t = meta.file_type();
        if t.is_char_device() && meta.rdev() == 0 {
            continue;
        }
        let what = if t.is_dir() {
            walk(root, &path, out);
            "dir".to_string()
        } else if t.is_symlink() {
            format!("-> {}", fs::read_link(&path).unwrap().display())
        } else if t.is_file() {
            format!("file {:?}", fs::read(&path).unwrap())
        } else {
            format!("special {:o} {}", t.is_char_device() as u8, meta.rdev())
        };
        let rel = path.strip_prefix(root).unwrap().display().to_string();
        let mode = meta.mode() & 0o7777;
        out.insert(
            rel,
            format!("{what} mode {mode:o} owner {}:{}", meta.uid(), meta.gid()),
        );
    }
}

/// A base tree: files, a directory tree, a symlink, a hard link, owners.
fn base_tree(dir: &Path) {
    populate(
        dir,
        &["etc", "bin", "srv/data/deep", "gone/sub"],
        &[
            ("etc/conf", "conf\n"),
            ("bin/tool", "#!/bin/sh\n"),
            ("srv/data/a", "a\n"),
            ("srv/data/deep/b", "b\n"),
            ("gone/sub/x", "x\n"),
            ("keep", "keep\n"),
        ],
    );
    std::os::unix::fs::symlink("../etc/conf", dir.join("bin/conf")).unwrap();
    fs::hard_link(dir.join("keep"), dir.join("keep2")).unwrap();
    std::os::unix::fs::chown(dir.join("srv/data/a"), Some(1000), Some(100)).unwrap();
    fs::set_permissions(
        dir.join("bin/tool"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
}

/// The changes every layer test makes in a merged view: add, change,
/// delete (a file, a whole directory, a directory then made again).
/// The `user.roverlay` xattr of `path`, if it has one.
fn user_xattr_of(path: &Path) -> Option<Vec<u8>> {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    let mut buf = [0u8; 64];
    // SAFETY: NUL-terminated path and name, a buffer of the length given.
    let n = unsafe {
        libc::lgetxattr(
            c.as_ptr(),
            c"user.roverlay".as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    (n >= 0).then(|| buf[..n as usize].to_vec())
}

fn change(m: &Path) {
    fs::write(m.join("added"), "added\n").unwrap();
    let c = std::ffi::CString::new(m.join("added").as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: NUL-terminated path and name, a value of the length given.
    let rc = unsafe {
        libc::lsetxattr(
            c.as_ptr(),
            c"user.roverlay".as_ptr(),
            b"yes".as_ptr().cast(),
            3,
            0,
        )
    };
    assert_eq!(rc, 0, "lsetxattr: {}", std::io::Error::last_os_error());
    fs::OpenOptions::new()
        .append(true)
        .open(m.join("etc/conf"))
        .unwrap()
        .write_all(b"more\n")
        .unwrap();
    fs::remove_file(m.join("keep2")).unwrap();
    fs::remove_dir_all(m.join("gone")).unwrap();
    fs::remove_dir_all(m.join("srv/data")).unwrap();
    populate(m, &["srv/data"], &[("srv/data/fresh", "fresh\n")]);
    std::os::unix::fs::symlink("/etc/conf", m.join("abs")).unwrap();
    std::os::unix::fs::chown(m.join("bin/tool"), Some(2), Some(2)).unwrap();
}

#[test]
fn round_trip_apply_mount_change_diff_commit_apply_equals_merged() {
    if !needs_root!() {
        return;
    }
    in_mountns(|| {
        let d = tempdir("roverlay-roundtrip");
        let b = d.path().to_path_buf();
        base_tree(&b.join("base"));
        // A layer made by GNU tar, applied as the lower layer.
        let t = run(Command::new("tar")
            .arg("-C")
            .arg(b.join("base"))
            .args(["-cf"])
            .arg(b.join("base.tar"))
            .arg("."));
        assert_eq!(t.code, 0, "{t:?}");
        ok(rov_in(&b, &["apply", "base.tar", "lower"]));
        assert_eq!(snapshot(&b.join("lower")), snapshot(&b.join("base")));
        populate(&b, &["up", "work", "m"], &[]);
        ok(rov_in(
            &b,
            &[
                "mount", "--lower", "lower", "--upper", "up", "--work", "work", "m",
            ],
        ));
        let _guard = Mounted(b.join("m"));
        change(&b.join("m"));
        let diff = ok(rov_in(&b, &["diff", "up"]));
        assert_eq!(
            diff,
            "A /abs\nA /added\nC /bin\nC /bin/tool\nC /etc\nC /etc/conf\nD /gone\nD /keep2\nC /srv\nC /srv/data\nD /srv/data/a\nD /srv/data/deep\nA /srv/data/fresh\n"
        );
        // Random bytes, more than a chunk of roverlay's parallel gzip: a
        // layer of several gzip members, which gzip(1) and tar read whole.
        let big = random_file(&b.join("m/big"), 3 << 19);
        ok(rov_in(&b, &["commit", "up", "layer.tar.gz"]));
        let gzip = run(Command::new("gzip").arg("-t").arg(b.join("layer.tar.gz")));
        assert_eq!(gzip.code, 0, "{gzip:?}");
        let mut first = Vec::new();
        flate2::read::GzDecoder::new(fs::File::open(b.join("layer.tar.gz")).unwrap())
            .read_to_end(&mut first)
            .unwrap();
        assert!(first.len() < big, "one gzip member: {}", first.len());
        let names = run(Command::new("tar").arg("-tzf").arg(b.join("layer.tar.gz")));
        assert!(
            names.stdout.contains(".wh.gone\n") && names.stdout.contains("srv/data/.wh..wh..opq\n"),
            "{names:?}"
        );
        assert!(!names.stdout.contains("gone/"), "{}", names.stdout);
        // Whiteouts (one inode, linked) are plain files, never hard links;
        // overlay's xattrs stay behind, the user's go along.
        let gz = flate2::read::MultiGzDecoder::new(fs::File::open(b.join("layer.tar.gz")).unwrap());
        let mut archive = tar::Archive::new(gz);
        let mut user_xattr = false;
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            if name.contains(".wh.") {
                assert_eq!(
                    entry.header().entry_type(),
                    tar::EntryType::Regular,
                    "{name}"
                );
            }
            if let Some(pax) = entry.pax_extensions().unwrap() {
                for ext in pax {
                    let key = ext.unwrap().key().unwrap().to_string();
                    assert!(!key.contains("overlay."), "{name}: {key}");
                    user_xattr |= name == "added" && key == "SCHILY.xattr.user.roverlay";
                }
            }
        }
        assert!(user_xattr, "the user xattr of /added is not in the layer");
        let cp = run(Command::new("cp")
            .arg("-a")
            .arg(b.join("lower"))
            .arg(b.join("copy")));
        assert_eq!(cp.code, 0);
        ok(rov_in(&b, &["apply", "layer.tar.gz", "copy"]));
        let merged = snapshot(&b.join("m"));
        assert!(merged.contains_key("srv/data/fresh") && !merged.contains_key("gone"));
        assert_eq!(
            user_xattr_of(&b.join("copy/added")).as_deref(),
            Some(&b"yes"[..])
        );
        assert_eq!(snapshot(&b.join("copy")), merged);
        // And applied into an empty dir, it stacks on the lower as overlay's layer.
        ok(rov_in(&b, &["apply", "layer.tar.gz", "top"]));
        populate(&b, &["m2"], &[]);
        ok(rov_in(&b, &["mount", "--lower", "top:lower", "m2"]));
        let _guard2 = Mounted(b.join("m2"));
        assert_eq!(snapshot(&b.join("m2")), merged);
    });
}

/// One entry of a hand-made tar: name as raw bytes, kind, link target,
/// PAX records.
type Raw<'a> = (
    &'a [u8],
    tar::EntryType,
    &'a [u8],
    &'a [(&'a str, &'a [u8])],
);

/// A tar of `entries`.
/// Names are written byte for byte (the tar crate refuses `..`).
fn evil_tar(path: &Path, entries: &[Raw<'_>]) {
    let mut t = tar::Builder::new(fs::File::create(path).unwrap());
    for (name, kind, link, pax) in entries {
        if !pax.is_empty() {
            t.append_pax_extensions(pax.iter().map(|(k, v)| (*k, *v)))
                .unwrap();
        }
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(*kind);
        h.set_mode(0o644);
        let body: &[u8] = if *kind == tar::EntryType::Regular {
            b"pwned\n"
        } else {
            b""
        };
        h.set_size(body.len() as u64);
        let old = h.as_old_mut();
        old.name[..name.len()].copy_from_slice(name);
        old.linkname[..link.len()].copy_from_slice(link);
        h.set_cksum();
        t.append(&h, body).unwrap();
    }
    t.finish().unwrap();
}

#[test]
fn tar_slips_and_corrupt_layers_are_refused_and_change_nothing() {
    if !needs_root!() {
        return;
    }
    let d = tempdir("roverlay-slip");
    let b = d.path().to_path_buf();
    populate(&b, &["victim", "full/sub"], &[("full/sub/old", "old\n")]);
    std::os::unix::fs::symlink(b.join("victim"), b.join("full/link")).unwrap();
    let victim = b.join("victim");
    let abs = victim.join("abs");
    let file = tar::EntryType::Regular;
    let ok_entry: Raw<'_> = (b"ok", file, b"", &[]);
    let cases: Vec<(&str, Vec<Raw<'_>>, &str)> = vec![
        (
            "dotdot",
            vec![ok_entry, (b"../../victim/x", file, b"", &[])],
            "entry '../../victim/x': a '..' component",
        ),
        (
            "absolute",
            vec![
                ok_entry,
                (abs.as_os_str().as_encoded_bytes(), file, b"", &[]),
            ],
            "an absolute name",
        ),
        (
            "symlink-out",
            vec![
                ok_entry,
                (b"l", tar::EntryType::Symlink, b"../../../victim", &[]),
            ],
            "entry 'l': symbolic link to '../../../victim' leads outside",
        ),
        (
            "symlink-then-file",
            vec![
                ok_entry,
                (
                    b"l",
                    tar::EntryType::Symlink,
                    victim.as_os_str().as_encoded_bytes(),
                    &[],
                ),
                (b"l/x", file, b"", &[]),
            ],
            "entry 'l/x': written through the symbolic link 'l'",
        ),
        (
            "hardlink-shadow",
            vec![ok_entry, (b"h", tar::EntryType::Link, b"/etc/shadow", &[])],
            "entry 'h': hard link to '/etc/shadow' leads outside",
        ),
        (
            "hardlink-up",
            vec![
                ok_entry,
                (b"h", tar::EntryType::Link, b"../../etc/shadow", &[]),
            ],
            "leads outside",
        ),
        (
            "overlay-xattr",
            vec![
                ok_entry,
                (
                    b"r",
                    file,
                    b"",
                    &[("SCHILY.xattr.trusted.overlay.redirect", b"/etc")],
                ),
            ],
            "entry 'r': xattr 'trusted.overlay.redirect' is overlay's own",
        ),
        (
            "through-existing-link",
            vec![(b"link/x", file, b"", &[])],
            "entry 'link/x': written through a symbolic link",
        ),
    ];
    for (name, entries, says) in cases {
        let layer = b.join(format!("{name}.tar"));
        evil_tar(&layer, &entries);
        // A missing DIR has no symbolic link to write through.
        let dirs: &[&str] = if name == "through-existing-link" {
            &["full"]
        } else {
            &["fresh", "full"]
        };
        for dir in dirs {
            let before = snapshot(&b);
            let ran = rov_in(&b, &["apply", layer.to_str().unwrap(), dir]);
            refused(&ran, says);
            assert_eq!(snapshot(&b), before, "{name} into {dir} changed something");
            assert_eq!(fs::read_dir(&victim).unwrap().count(), 0, "{name}");
        }
    }
    // A gzip layer cut short: refused, nothing changes.
    let good = b.join("good.tar.gz");
    {
        let gz = flate2::write::GzEncoder::new(
            fs::File::create(&good).unwrap(),
            flate2::Compression::default(),
        );
        let mut t = tar::Builder::new(gz);
        let mut h = tar::Header::new_gnu();
        h.set_size(200_000);
        h.set_mode(0o644);
        t.append_data(&mut h, "big", &vec![7u8; 200_000][..])
            .unwrap();
        t.into_inner().unwrap().finish().unwrap();
    }
    let bytes = fs::read(&good).unwrap();
    fs::write(b.join("cut.tar.gz"), &bytes[..bytes.len() / 2]).unwrap();
    for dir in ["fresh", "full"] {
        let before = snapshot(&b);
        let ran = rov_in(&b, &["apply", "cut.tar.gz", dir]);
        refused(&ran, "cannot apply 'cut.tar.gz'");
        assert_eq!(snapshot(&b), before, "truncated into {dir}");
    }
    ok(rov_in(&b, &["apply", "good.tar.gz", "full"]));
    assert_eq!(fs::read(b.join("full/big")).unwrap().len(), 200_000);
}

/// umoci with a fresh OCI layout `img` holding the tag `t`.
fn umoci(b: &Path, args: &[&str]) -> String {
    let ran = run(Command::new("umoci").current_dir(b).args(args));
    assert_eq!(ran.code, 0, "umoci {args:?}: {ran:?}");
    ran.stdout
}

/// In `b`: the base tree committed as `base.tar`, an overlay on it changed
/// (by `change`, then `more`) and its upper committed as `layer`; the
/// merged view, from before the overlay was unmounted.
fn commit_base_and_change(
    b: &Path,
    layer: &str,
    more: impl FnOnce(&Path),
) -> BTreeMap<String, String> {
    base_tree(&b.join("lower"));
    populate(b, &["up", "work", "m"], &[]);
    ok(rov_in(b, &["commit", "lower", "base.tar"]));
    ok(rov_in(
        b,
        &[
            "mount", "--lower", "lower", "--upper", "up", "--work", "work", "m",
        ],
    ));
    let _mounted = Mounted(b.join("m"));
    change(&b.join("m"));
    more(&b.join("m"));
    ok(rov_in(b, &["commit", "up", layer]));
    snapshot(&b.join("m"))
}

#[test]
fn a_committed_layer_is_read_by_umoci_as_our_merged_view() {
    let test = "a_committed_layer_is_read_by_umoci_as_our_merged_view";
    if !root(test) || !have(test, "umoci") {
        return;
    }
    in_mountns(|| {
        let d = tempdir("roverlay-umoci-add");
        let b = d.path().to_path_buf();
        let merged = commit_base_and_change(&b, "change.tar", |_| {});
        umoci(&b, &["init", "--layout", "img"]);
        umoci(&b, &["new", "--image", "img:t"]);
        umoci(&b, &["raw", "add-layer", "--image", "img:t", "base.tar"]);
        umoci(&b, &["raw", "add-layer", "--image", "img:t", "change.tar"]);
        umoci(&b, &["unpack", "--image", "img:t", "bundle"]);
        assert_eq!(snapshot(&b.join("bundle/rootfs")), merged);
    });
}

/// A file of `len` seeded random bytes (more than a chunk of roverlay's
/// parallel gzip makes a layer of several members); its length.
fn random_file(path: &Path, len: usize) -> usize {
    let mut bytes = vec![0u8; len];
    fastrand::Rng::with_seed(7).fill(&mut bytes);
    fs::write(path, &bytes).unwrap();
    len
}

/// sha256 of `path`, as `sha256sum` prints it.
fn sha256(path: &Path) -> String {
    let ran = run(Command::new("sha256sum").arg(path));
    assert_eq!(ran.code, 0, "sha256sum: {ran:?}");
    ran.stdout.split_whitespace().next().unwrap().to_string()
}

/// Writes `value` as a blob of the layout in `b`; its digest and size.
fn put_blob(b: &Path, value: &serde_json::Value) -> (String, usize) {
    let bytes = serde_json::to_vec(value).unwrap();
    let staged = b.join("blob.json");
    fs::write(&staged, &bytes).unwrap();
    let digest = format!("sha256:{}", sha256(&staged));
    fs::rename(&staged, blob(b, &digest.as_str().into())).unwrap();
    (digest, bytes.len())
}

/// A gzip layer as roverlay commits it (one gzip member per MiB of tar,
/// written on every core) is a layer umoci unpacks: here the layer of a
/// tree of more than 1 MiB, put by hand into the image `img:t` above a base
/// layer added by umoci, unpacks to our merged view.
#[test]
fn a_committed_gzip_layer_of_many_members_is_unpacked_by_umoci() {
    if !needs_root!() || !needs!("umoci") {
        return;
    }
    in_mountns(|| {
        let d = tempdir("roverlay-umoci-gz");
        let b = d.path().to_path_buf();
        let merged = commit_base_and_change(&b, "change.tar.gz", |m| {
            random_file(&m.join("big"), 3 << 20);
        });
        let gz = b.join("change.tar.gz");
        let mut tar = Vec::new();
        flate2::read::MultiGzDecoder::new(fs::File::open(&gz).unwrap())
            .read_to_end(&mut tar)
            .unwrap();
        let mut first = Vec::new();
        flate2::read::GzDecoder::new(fs::File::open(&gz).unwrap())
            .read_to_end(&mut first)
            .unwrap();
        assert!(first.len() < tar.len(), "one gzip member: {}", first.len());
        fs::write(b.join("change.tar"), &tar).unwrap();

        umoci(&b, &["init", "--layout", "img"]);
        umoci(&b, &["new", "--image", "img:t"]);
        umoci(&b, &["raw", "add-layer", "--image", "img:t", "base.tar"]);
        let layer = sha256(&gz);
        fs::copy(&gz, blob(&b, &format!("sha256:{layer}").into())).unwrap();
        let mut index = json(b.join("img/index.json"));
        let mut manifest = json(blob(&b, &index["manifests"][0]["digest"]));
        let mut config = json(blob(&b, &manifest["config"]["digest"]));
        config["rootfs"]["diff_ids"]
            .as_array_mut()
            .unwrap()
            .push(format!("sha256:{}", sha256(&b.join("change.tar"))).into());
        let (digest, size) = put_blob(&b, &config);
        manifest["config"]["digest"] = digest.into();
        manifest["config"]["size"] = size.into();
        manifest["layers"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": format!("sha256:{layer}"),
                "size": fs::metadata(&gz).unwrap().len(),
            }));
        let (digest, size) = put_blob(&b, &manifest);
        index["manifests"][0]["digest"] = digest.into();
        index["manifests"][0]["size"] = size.into();
        fs::write(
            b.join("img/index.json"),
            serde_json::to_vec(&index).unwrap(),
        )
        .unwrap();

        umoci(&b, &["unpack", "--image", "img:t", "bundle"]);
        assert_eq!(snapshot(&b.join("bundle/rootfs")), merged);
    });
}

/// A JSON file of the OCI layout.
fn json(path: PathBuf) -> serde_json::Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

/// The blob of the layout in `b` that `digest` (`sha256:HEX`) names.
fn blob(b: &Path, digest: &serde_json::Value) -> PathBuf {
    let digest = digest.as_str().unwrap();
    b.join("img/blobs/sha256")
        .join(digest.trim_start_matches("sha256:"))
}

/// The layer blobs of `img:t`, bottom first.
fn layer_blobs(b: &Path) -> Vec<PathBuf> {
    let index = json(b.join("img/index.json"));
    let manifest = json(blob(b, &index["manifests"][0]["digest"]));
    manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| blob(b, &l["digest"]))
        .collect()
}

#[test]
fn layers_made_by_umoci_repack_apply_and_mount_as_umoci_unpacks_them() {
    let test = "layers_made_by_umoci_repack_apply_and_mount_as_umoci_unpacks_them";
    if !root(test) || !have(test, "umoci") {
        return;
    }
    in_mountns(|| {
        let d = tempdir("roverlay-umoci-repack");
        let b = d.path().to_path_buf();
        umoci(&b, &["init", "--layout", "img"]);
        umoci(&b, &["new", "--image", "img:t"]);
        umoci(&b, &["unpack", "--image", "img:t", "b1"]);
        base_tree(&b.join("b1/rootfs"));
        umoci(&b, &["repack", "--image", "img:t", "b1"]);
        umoci(&b, &["unpack", "--image", "img:t", "b2"]);
        change(&b.join("b2/rootfs"));
        umoci(&b, &["repack", "--image", "img:t", "b2"]);
        umoci(&b, &["unpack", "--image", "img:t", "want"]);
        let blobs = layer_blobs(&b);
        assert!(blobs.len() >= 2, "{blobs:?}");
        let mut lowers = Vec::new();
        for (i, blob) in blobs.iter().enumerate() {
            let dir = format!("layer{i}");
            ok(rov_in(&b, &["apply", blob.to_str().unwrap(), &dir]));
            lowers.insert(0, dir);
        }
        populate(&b, &["m"], &[]);
        ok(rov_in(&b, &["mount", "--lower", &lowers.join(":"), "m"]));
        let _guard = Mounted(b.join("m"));
        let want = snapshot(&b.join("want/rootfs"));
        assert!(want.contains_key("srv/data/fresh") && !want.contains_key("srv/data/a"));
        assert_eq!(snapshot(&b.join("m")), want);
        assert!(overlay_on(&b.join("m")).is_some());
    });
}

/// Layers with random bytes changed (a fixed seed): apply never panics,
/// refuses with one line or unpacks, and writes nothing outside DIR.
#[test]
fn damaged_layers_are_refused_or_unpacked_never_a_crash() {
    if !needs_root!() {
        return;
    }
    let d = tempdir("roverlay-fuzz");
    let b = d.path().to_path_buf();
    base_tree(&b.join("src"));
    populate(&b, &["out"], &[]);
    ok(rov_in(&b, &["commit", "src", "good.tar"]));
    ok(rov_in(&b, &["commit", "src", "good.tar.gz"]));
    let mut seed = 0x00c0_ffee_u64;
    let mut next = move |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize % n
    };
    let (mut refused_n, mut unpacked) = (0, 0);
    for (i, good) in ["good.tar", "good.tar.gz"]
        .iter()
        .cycle()
        .take(120)
        .enumerate()
    {
        let mut bytes = fs::read(b.join(good)).unwrap();
        for _ in 0..1 + next(8) {
            let at = next(bytes.len().min(4096));
            bytes[at] = next(256) as u8;
        }
        let layer = b.join("bad.layer");
        fs::write(&layer, &bytes).unwrap();
        let dir = format!("out/{i}");
        let ran = rov_in(&b, &["apply", "bad.layer", &dir]);
        assert!(
            !ran.stderr.contains("internal error") && !ran.stderr.contains("panicked"),
            "{ran:?}"
        );
        if ran.code == 0 {
            unpacked += 1;
        } else {
            refused(&ran, "cannot apply 'bad.layer'");
            assert!(!b.join(&dir).exists(), "a refused layer left {dir}");
            refused_n += 1;
        }
        let top: Vec<_> = fs::read_dir(&b)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(top.len(), 5, "{top:?}");
    }
    assert_eq!(refused_n + unpacked, 120);
    assert!(refused_n > 0, "no damaged layer was refused");
}
