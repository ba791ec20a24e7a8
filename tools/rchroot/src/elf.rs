//! What the dynamic loader would open for a program, found the way ld.so(8)
//! finds it: the ELF interpreter (PT_INTERP), then each DT_NEEDED library
//! through DT_RPATH, DT_RUNPATH, /etc/ld.so.cache and the standard
//! directories, recursively. Paths are those of the current root: the host
//! for --install, NEWROOT after chroot for the "missing in NEWROOT" message.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use goblin::elf::Elf;

use crate::quote::quote_file;

/// Most levels of `#!` the kernel follows (binfmt_script).
pub const MAX_SHEBANGS: usize = 4;

/// What a program needs, in the order the loader opens it.
#[derive(Debug, Default)]
pub struct Closure {
    /// Existing files: the program, its interpreters and libraries.
    pub files: Vec<PathBuf>,
    /// What could not be found: interpreter paths, library names.
    pub missing: Vec<(String, PathBuf)>,
}

/// One ELF object, as far as the loader cares.
struct Object {
    path: PathBuf,
    interp: Option<PathBuf>,
    needed: Vec<String>,
    rpath: Vec<PathBuf>,
    runpath: Vec<PathBuf>,
    is_64: bool,
    machine: u16,
}

impl Object {
    /// Reads `path`; `Ok(None)` when it is not ELF.
    fn read(path: &Path) -> anyhow::Result<Option<Object>> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", quote_file(path)))?;
        if !bytes.starts_with(b"\x7fELF") {
            return Ok(None);
        }
        let elf =
            Elf::parse(&bytes).with_context(|| format!("cannot parse {}", quote_file(path)))?;
        let origin = std::fs::canonicalize(path)
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from("/"));
        let dirs = |list: &[&str]| -> Vec<PathBuf> {
            list.iter()
                .flat_map(|l| l.split(':'))
                .filter(|d| !d.is_empty())
                .map(|d| expand_origin(d, &origin))
                .collect()
        };
        Ok(Some(Object {
            path: path.to_path_buf(),
            interp: elf.interpreter.map(PathBuf::from),
            needed: elf.libraries.iter().map(|s| s.to_string()).collect(),
            rpath: dirs(&elf.rpaths),
            runpath: dirs(&elf.runpaths),
            is_64: elf.is_64,
            machine: elf.header.e_machine,
        }))
    }

    /// The standard directories of this object's kind (Debian multiarch
    /// first, then the lib64 and plain ones of other distributions).
    fn default_dirs(&self) -> Vec<PathBuf> {
        use goblin::elf::header::{EM_386, EM_AARCH64, EM_ARM, EM_RISCV, EM_X86_64};
        let triplet = match self.machine {
            EM_X86_64 => "x86_64-linux-gnu",
            EM_AARCH64 => "aarch64-linux-gnu",
            EM_386 => "i386-linux-gnu",
            EM_ARM => "arm-linux-gnueabihf",
            EM_RISCV => "riscv64-linux-gnu",
            _ => "",
        };
        let mut dirs = Vec::new();
        if !triplet.is_empty() {
            dirs.push(Path::new("/lib").join(triplet));
            dirs.push(Path::new("/usr/lib").join(triplet));
        }
        let word = if self.is_64 { "64" } else { "32" };
        dirs.push(PathBuf::from(format!("/lib{word}")));
        dirs.push(PathBuf::from(format!("/usr/lib{word}")));
        dirs.push(PathBuf::from("/lib"));
        dirs.push(PathBuf::from("/usr/lib"));
        dirs
    }

    /// Whether `path` is an ELF file this object can load (same class and
    /// machine): the loader skips the others and goes on searching.
    fn fits(&self, path: &Path) -> bool {
        let mut head = [0u8; 64];
        let ok = std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head));
        ok.is_ok()
            && Elf::parse_header(&head)
                .is_ok_and(|h| h.e_machine == self.machine && (h.e_ident[4] == 2) == self.is_64)
    }
}

/// `$ORIGIN` and `${ORIGIN}`: the directory of the object.
fn expand_origin(dir: &str, origin: &Path) -> PathBuf {
    let origin = origin.to_string_lossy();
    PathBuf::from(
        dir.replace("${ORIGIN}", &origin)
            .replace("$ORIGIN", &origin),
    )
}

/// Finds everything `program` needs. The program itself must exist; a
/// script's `#!` interpreter is followed like the kernel does.
pub fn closure(program: &Path) -> anyhow::Result<Closure> {
    let mut found = Closure::default();
    let mut path = program.to_path_buf();
    for _ in 0..=MAX_SHEBANGS {
        found.files.push(path.clone());
        if let Some(interp) = shebang(&path) {
            if !interp.exists() {
                found.missing.push((interp.display().to_string(), path));
                return Ok(found);
            }
            path = interp;
            continue;
        }
        if let Some(object) = Object::read(&path)? {
            libraries(object, &mut found)?;
        }
        return Ok(found);
    }
    Ok(found)
}

/// Whether exec(2) takes `path` for a program of its own: an ELF
/// executable or position-independent executable, or a `#!` script (not an
/// object file, nor text that only a shell's ENOEXEC fallback would run).
pub fn is_program(path: &Path) -> anyhow::Result<bool> {
    use goblin::elf::header::{ET_DYN, ET_EXEC};
    let mut head = [0u8; 64];
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", quote_file(path)))?;
    let n = read_full(&mut file, &mut head)
        .with_context(|| format!("cannot read {}", quote_file(path)))?;
    let head = &head[..n];
    if head.starts_with(b"#!") {
        return Ok(true);
    }
    Ok(head.starts_with(b"\x7fELF")
        && Elf::parse_header(head).is_ok_and(|h| matches!(h.e_type, ET_EXEC | ET_DYN)))
}

/// Reads until `buf` is full or the file ends.
fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            read => n += read,
        }
    }
    Ok(n)
}

/// The interpreter of a `#!` script.
pub fn shebang(path: &Path) -> Option<PathBuf> {
    let mut head = [0u8; 256];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .ok()?;
    let line = head[..n].strip_prefix(b"#!")?;
    let line = line.split(|&b| b == b'\n').next()?;
    let text = std::str::from_utf8(line).ok()?;
    text.split_whitespace().next().map(PathBuf::from)
}

/// Adds the interpreter and the libraries of `program`, breadth first as
/// the loader maps them, each soname once.
fn libraries(program: Object, found: &mut Closure) -> anyhow::Result<()> {
    // /etc/ld.so.cache, read when a library is first looked up there.
    let mut cache = None;
    if let Some(interp) = &program.interp {
        if interp.exists() {
            found.files.push(interp.clone());
        } else {
            found
                .missing
                .push((interp.display().to_string(), program.path.clone()));
        }
    }
    let mut seen: HashSet<String> = HashSet::new();
    // Each object with the DT_RPATH lists of itself and the objects that
    // loaded it: DT_RPATH is inherited, DT_RUNPATH is not.
    let mut queue = std::collections::VecDeque::new();
    let chain = vec![program.rpath.clone()];
    queue.push_back((program, chain));
    while let Some((object, chain)) = queue.pop_front() {
        for name in &object.needed {
            if !seen.insert(name.clone()) {
                continue;
            }
            match search(&object, &chain, name, &mut cache) {
                Some(path) => {
                    found.files.push(path.clone());
                    if let Some(lib) = Object::read(&path)? {
                        let mut inner = vec![lib.rpath.clone()];
                        inner.extend(chain.iter().cloned());
                        queue.push_back((lib, inner));
                    }
                }
                None => found.missing.push((name.clone(), object.path.clone())),
            }
        }
    }
    Ok(())
}

/// Where the loader finds `name` for `object` (glibc _dl_map_object).
fn search(
    object: &Object,
    rpaths: &[Vec<PathBuf>],
    name: &str,
    cache: &mut Option<Vec<(String, PathBuf)>>,
) -> Option<PathBuf> {
    if name.contains('/') {
        return Some(PathBuf::from(name)).filter(|p| object.fits(p));
    }
    let in_dirs = |dirs: &[PathBuf]| dirs.iter().map(|d| d.join(name)).find(|p| object.fits(p));
    if object.runpath.is_empty() {
        if let Some(p) = rpaths.iter().find_map(|dirs| in_dirs(dirs)) {
            return Some(p);
        }
    }
    if let Some(p) = in_dirs(&object.runpath) {
        return Some(p);
    }
    let cache = cache.get_or_insert_with(|| {
        std::fs::read("/etc/ld.so.cache")
            .map(|b| ld_so_cache(&b))
            .unwrap_or_default()
    });
    if let Some(p) = cache
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, p)| p)
        .find(|p| object.fits(p))
    {
        return Some(p.clone());
    }
    in_dirs(&object.default_dirs())
}

/// The entries `(soname, path)` of an ld.so.cache in glibc's format 1.1
/// (possibly after an old-format part), plain entries before the
/// glibc-hwcaps ones; unreadable parts are skipped.
fn ld_so_cache(bytes: &[u8]) -> Vec<(String, PathBuf)> {
    const MAGIC: &[u8] = b"glibc-ld.so.cache1.1";
    const HEADER: usize = 48;
    const ENTRY: usize = 24;
    let Some(start) = bytes.windows(MAGIC.len()).position(|w| w == MAGIC) else {
        return Vec::new();
    };
    let cache = &bytes[start..];
    let u32_at = |at: usize| -> Option<u32> {
        Some(u32::from_ne_bytes(cache.get(at..at + 4)?.try_into().ok()?))
    };
    let string_at = |at: u32| -> Option<String> {
        let rest = cache.get(at as usize..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        Some(String::from_utf8_lossy(&rest[..end]).into_owned())
    };
    let count = u32_at(20).unwrap_or(0) as usize;
    let mut entries: Vec<(u64, String, PathBuf)> = (0..count)
        .filter_map(|i| {
            let at = HEADER + i * ENTRY;
            let key = string_at(u32_at(at + 4)?)?;
            let value = string_at(u32_at(at + 8)?)?;
            let hwcap = u64::from_ne_bytes(cache.get(at + 16..at + 24)?.try_into().ok()?);
            Some((hwcap, key, PathBuf::from(value)))
        })
        .collect();
    entries.sort_by_key(|(hwcap, _, _)| *hwcap != 0);
    entries.into_iter().map(|(_, k, v)| (k, v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_cache_finds_libc() {
        // glibc's cache; the tests below assume a glibc host as well.
        let bytes = std::fs::read("/etc/ld.so.cache").expect("/etc/ld.so.cache (a glibc host)");
        let entries = ld_so_cache(&bytes);
        assert!(entries.iter().any(|(n, p)| n == "libc.so.6" && p.exists()));
    }

    #[test]
    fn closure_of_a_dynamic_program_has_interpreter_and_libc() {
        let sh = Path::new("/bin/sh");
        let found = closure(sh).unwrap();
        assert_eq!(found.files[0], sh);
        assert!(found.missing.is_empty(), "{:?}", found.missing);
        assert!(found.files.iter().any(|p| p.ends_with("libc.so.6")));
    }

    #[test]
    fn origin_is_expanded() {
        assert_eq!(
            expand_origin("$ORIGIN/../lib:${ORIGIN}", Path::new("/opt/x/bin")),
            Path::new("/opt/x/bin/../lib:/opt/x/bin")
        );
    }
}

/// Property tests (docs/SECURITY.md, "Parsers"): a program file whose ELF header
/// or body is damaged, or that is not ELF at all, gives a closure or an
/// error naming the file, never a panic.
#[cfg(test)]
mod prop {
    use super::*;
    use proptest::prelude::*;

    /// A file in a temp dir of this test, removed on drop.
    struct Written(PathBuf);

    impl Written {
        fn new(bytes: &[u8]) -> Written {
            static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let path =
                std::env::temp_dir().join(format!("boxutils-elf-prop-{}-{n}", std::process::id()));
            std::fs::write(&path, bytes).unwrap();
            Written(path)
        }
    }

    impl Drop for Written {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn checked(bytes: &[u8]) -> Result<(), TestCaseError> {
        let file = Written::new(bytes);
        match closure(&file.0) {
            Ok(found) => prop_assert_eq!(&found.files[0], &file.0),
            Err(e) => {
                let msg = format!("{e:#}");
                prop_assert!(
                    msg.starts_with(&format!("cannot parse '{}'", file.0.display())),
                    "{}",
                    msg
                );
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn damaged_headers_never_panic(
            flips in proptest::collection::vec((0usize..128, any::<u8>()), 1..6),
        ) {
            let mut bytes = std::fs::read("/bin/true").unwrap();
            for (at, value) in flips {
                bytes[at] = value;
            }
            checked(&bytes)?;
        }

        #[test]
        fn damaged_bodies_never_panic(
            flips in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..12),
        ) {
            let mut bytes = std::fs::read("/bin/true").unwrap();
            let len = bytes.len();
            for (at, value) in flips {
                bytes[at.index(len)] = value;
            }
            checked(&bytes)?;
        }

        #[test]
        fn any_bytes_after_the_magic_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut bytes = b"\x7fELF".to_vec();
            bytes.extend(tail);
            checked(&bytes)?;
        }

        #[test]
        fn any_first_line_is_a_script_or_not(head in "#!\\PC{0,40}\n?|\\PC{0,20}") {
            let file = Written::new(head.as_bytes());
            let _ = shebang(&file.0);
            let _ = closure(&file.0);
        }
    }
}
