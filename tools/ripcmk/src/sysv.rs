//! The System V IPC calls (nix has none of them) and /proc/sysvipc, where
//! the kernel lists the objects of the caller's IPC namespace in one read.

use std::ffi::c_int;

use anyhow::Context;
use nix::errno::Errno;
use serde::Serialize;

/// glibc's <sys/shm.h> values that the libc crate lacks.
const SHM_STAT: c_int = 13;
const SHM_INFO: c_int = 14;
/// Mode bits the kernel adds to a segment: marked for removal, locked.
pub const SHM_DEST: u32 = 0o1000;
pub const SHM_LOCKED: u32 = 0o2000;

/// The three kinds of System V IPC object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Shm,
    Msg,
    Sem,
}

impl Kind {
    /// The file under /proc/sysvipc and the word of `ipcrm shm|msg|sem`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Shm => "shm",
            Kind::Msg => "msg",
            Kind::Sem => "sem",
        }
    }
}

/// Who owns an object and what it may do, as in `struct ipc_perm`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Perm {
    pub key: i32,
    pub id: i32,
    #[serde(skip)]
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub cuid: u32,
    pub cgid: u32,
}

/// One shared memory segment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shm {
    pub perm: Perm,
    pub size: u64,
    pub cpid: u32,
    pub lpid: u32,
    pub nattch: u64,
    pub atime: i64,
    pub dtime: i64,
    pub ctime: i64,
}

/// One message queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Msg {
    pub perm: Perm,
    pub cbytes: u64,
    pub qnum: u64,
    pub lspid: u32,
    pub lrpid: u32,
    pub stime: i64,
    pub rtime: i64,
    pub ctime: i64,
}

/// One semaphore array.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sem {
    pub perm: Perm,
    pub nsems: u64,
    pub otime: i64,
    pub ctime: i64,
}

/// The fields of one /proc/sysvipc line, read in order.
struct Fields<'a>(std::str::SplitAsciiWhitespace<'a>);

impl Fields<'_> {
    fn next<T: std::str::FromStr>(&mut self) -> Option<T> {
        self.0.next()?.parse().ok()
    }
    fn mode(&mut self) -> Option<u32> {
        u32::from_str_radix(self.0.next()?, 8).ok()
    }
}

/// The lines of /proc/sysvipc/KIND after its header, each parsed by
/// `parse`; lines it cannot read are skipped, as ipcs skips them. Without
/// /proc (a chroot, a container without it) `by_stat` asks the kernel
/// object by object, as ipcs falls back to SHM_STAT and the like.
fn proc_list<T>(
    kind: Kind,
    parse: impl Fn(&mut Fields) -> Option<T>,
    by_stat: impl FnOnce() -> nix::Result<Vec<T>>,
) -> anyhow::Result<Vec<T>> {
    let path = format!("/proc/sysvipc/{}", kind.name());
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text
            .lines()
            .skip(1)
            .filter_map(|line| parse(&mut Fields(line.split_ascii_whitespace())))
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => by_stat()
            .map_err(crate::os_error)
            .with_context(|| format!("cannot list {} objects", kind.name())),
        Err(e) => Err(e).with_context(|| format!("cannot read {path}")),
    }
}

/// An object's `ipc_perm` as the STAT calls return it.
fn perm_of(p: &libc::ipc_perm, id: i32) -> Perm {
    Perm {
        key: p.__key,
        id,
        mode: u32::from(p.mode),
        uid: p.uid,
        gid: p.gid,
        cuid: p.cuid,
        cgid: p.cgid,
    }
}

/// Every index from 0 to `maxid` (what *_INFO returns), through `stat`,
/// which gives `None` for an empty slot.
fn by_index<T>(maxid: c_int, stat: impl Fn(c_int) -> Option<T>) -> Vec<T> {
    (0..=maxid).filter_map(stat).collect()
}

fn shms_by_stat() -> nix::Result<Vec<Shm>> {
    let (maxid, _) = shm_info()?;
    Ok(by_index(maxid, |index| {
        // SAFETY: shmid_ds is plain integers; all zeros is a valid value.
        let mut ds: libc::shmid_ds = unsafe { std::mem::zeroed() };
        // SAFETY: SHM_STAT writes one shmid_ds into the buffer we own.
        let id = Errno::result(unsafe { libc::shmctl(index, SHM_STAT, &mut ds) }).ok()?;
        Some(Shm {
            perm: perm_of(&ds.shm_perm, id),
            size: ds.shm_segsz as u64,
            cpid: ds.shm_cpid as u32,
            lpid: ds.shm_lpid as u32,
            nattch: ds.shm_nattch as u64,
            atime: ds.shm_atime,
            dtime: ds.shm_dtime,
            ctime: ds.shm_ctime,
        })
    }))
}

fn msgs_by_stat() -> nix::Result<Vec<Msg>> {
    let (maxid, _) = msg_info()?;
    Ok(by_index(maxid, |index| {
        // SAFETY: msqid_ds is plain integers; all zeros is a valid value.
        let mut ds: libc::msqid_ds = unsafe { std::mem::zeroed() };
        // SAFETY: MSG_STAT writes one msqid_ds into the buffer we own.
        let id = Errno::result(unsafe { libc::msgctl(index, libc::MSG_STAT, &mut ds) }).ok()?;
        Some(Msg {
            perm: perm_of(&ds.msg_perm, id),
            cbytes: ds.__msg_cbytes,
            qnum: ds.msg_qnum as u64,
            lspid: ds.msg_lspid as u32,
            lrpid: ds.msg_lrpid as u32,
            stime: ds.msg_stime,
            rtime: ds.msg_rtime,
            ctime: ds.msg_ctime,
        })
    }))
}

fn sems_by_stat() -> nix::Result<Vec<Sem>> {
    let (maxid, _) = sem_info()?;
    Ok(by_index(maxid, |index| {
        // SAFETY: semid_ds is plain integers; all zeros is a valid value.
        let mut ds: libc::semid_ds = unsafe { std::mem::zeroed() };
        // SAFETY: SEM_STAT takes `union semun` whose `buf` member points to
        // a semid_ds we own; a pointer is passed the same way as the union.
        let ret = unsafe { libc::semctl(index, 0, libc::SEM_STAT, &mut ds as *mut libc::semid_ds) };
        let id = Errno::result(ret).ok()?;
        Some(Sem {
            perm: perm_of(&ds.sem_perm, id),
            nsems: ds.sem_nsems as u64,
            otime: ds.sem_otime,
            ctime: ds.sem_ctime,
        })
    }))
}

/// Reads the fields every line starts with: key id perms.
fn key_id_mode(f: &mut Fields, perm: &mut Perm) -> Option<()> {
    perm.key = f.next()?;
    perm.id = f.next()?;
    perm.mode = f.mode()?;
    Some(())
}

/// Reads owner fields in /proc order: uid gid cuid cgid.
fn owners(f: &mut Fields, perm: &mut Perm) -> Option<()> {
    perm.uid = f.next()?;
    perm.gid = f.next()?;
    perm.cuid = f.next()?;
    perm.cgid = f.next()?;
    Some(())
}

/// Every shared memory segment of this IPC namespace, in kernel order.
pub fn shms() -> anyhow::Result<Vec<Shm>> {
    // key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime ...
    proc_list(
        Kind::Shm,
        |f| {
            let mut s = Shm::default();
            key_id_mode(f, &mut s.perm)?;
            s.size = f.next()?;
            s.cpid = f.next()?;
            s.lpid = f.next()?;
            s.nattch = f.next()?;
            owners(f, &mut s.perm)?;
            s.atime = f.next()?;
            s.dtime = f.next()?;
            s.ctime = f.next()?;
            Some(s)
        },
        shms_by_stat,
    )
}

/// Every message queue of this IPC namespace, in kernel order.
pub fn msgs() -> anyhow::Result<Vec<Msg>> {
    // key msqid perms cbytes qnum lspid lrpid uid gid cuid cgid stime rtime ctime
    proc_list(
        Kind::Msg,
        |f| {
            let mut m = Msg::default();
            key_id_mode(f, &mut m.perm)?;
            m.cbytes = f.next()?;
            m.qnum = f.next()?;
            m.lspid = f.next()?;
            m.lrpid = f.next()?;
            owners(f, &mut m.perm)?;
            m.stime = f.next()?;
            m.rtime = f.next()?;
            m.ctime = f.next()?;
            Some(m)
        },
        msgs_by_stat,
    )
}

/// Every semaphore array of this IPC namespace, in kernel order.
pub fn sems() -> anyhow::Result<Vec<Sem>> {
    // key semid perms nsems uid gid cuid cgid otime ctime
    proc_list(
        Kind::Sem,
        |f| {
            let mut s = Sem::default();
            key_id_mode(f, &mut s.perm)?;
            s.nsems = f.next()?;
            owners(f, &mut s.perm)?;
            s.otime = f.next()?;
            s.ctime = f.next()?;
            Some(s)
        },
        sems_by_stat,
    )
}

/// The ids of every object of one kind.
pub fn ids(kind: Kind) -> anyhow::Result<Vec<i32>> {
    Ok(match kind {
        Kind::Shm => shms()?.into_iter().map(|s| s.perm.id).collect(),
        Kind::Msg => msgs()?.into_iter().map(|m| m.perm.id).collect(),
        Kind::Sem => sems()?.into_iter().map(|s| s.perm.id).collect(),
    })
}

/// Creates a new object with `key` (IPC_EXCL: never an existing one);
/// `arg` is the size of a segment or the number of semaphores.
pub fn create(kind: Kind, key: i32, arg: u64, mode: u32) -> nix::Result<i32> {
    let flags = libc::IPC_CREAT | libc::IPC_EXCL | (mode & 0o777) as c_int;
    let ret = match kind {
        // SAFETY: shmget takes only integers.
        Kind::Shm => unsafe { libc::shmget(key, arg as libc::size_t, flags) },
        // SAFETY: msgget takes only integers.
        Kind::Msg => unsafe { libc::msgget(key, flags) },
        // SAFETY: semget takes only integers; a count beyond c_int is
        // passed as -1, which the kernel refuses with EINVAL.
        Kind::Sem => unsafe { libc::semget(key, c_int::try_from(arg).unwrap_or(-1), flags) },
    };
    Errno::result(ret)
}

/// The id of the object of `kind` that has `key`.
pub fn id_of_key(kind: Kind, key: i32) -> nix::Result<i32> {
    let ret = match kind {
        // SAFETY: shmget takes only integers.
        Kind::Shm => unsafe { libc::shmget(key, 0, 0) },
        // SAFETY: msgget takes only integers.
        Kind::Msg => unsafe { libc::msgget(key, 0) },
        // SAFETY: semget takes only integers.
        Kind::Sem => unsafe { libc::semget(key, 0, 0) },
    };
    Errno::result(ret)
}

/// Removes the object `id` of `kind` (IPC_RMID).
pub fn remove(kind: Kind, id: i32) -> nix::Result<()> {
    let ret = match kind {
        // SAFETY: IPC_RMID reads no buffer, so a null one is allowed.
        Kind::Shm => unsafe { libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut()) },
        // SAFETY: IPC_RMID reads no buffer, so a null one is allowed.
        Kind::Msg => unsafe { libc::msgctl(id, libc::IPC_RMID, std::ptr::null_mut()) },
        // SAFETY: IPC_RMID takes no fourth argument.
        Kind::Sem => unsafe { libc::semctl(id, 0, libc::IPC_RMID) },
    };
    Errno::result(ret).map(drop)
}

/// The most bytes a message queue may hold (only IPC_STAT tells).
pub fn msg_qbytes(id: i32) -> Option<u64> {
    // SAFETY: msqid_ds is plain integers; all zeros is a valid value.
    let mut ds: libc::msqid_ds = unsafe { std::mem::zeroed() };
    // SAFETY: IPC_STAT writes one msqid_ds into the buffer we own.
    let ret = unsafe { libc::msgctl(id, libc::IPC_STAT, &mut ds) };
    Errno::result(ret).ok().map(|_| ds.msg_qbytes as u64)
}

/// One semaphore: value, waiters for increase, waiters for zero, last pid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SemValue {
    pub value: i32,
    pub ncount: i32,
    pub zcount: i32,
    pub pid: i32,
}

/// The semaphores of array `id`.
pub fn sem_values(id: i32, nsems: u64) -> anyhow::Result<Vec<SemValue>> {
    let get = |num: c_int, cmd: c_int, what: &str| {
        // SAFETY: GETVAL, GETNCNT, GETZCNT and GETPID take no fourth argument.
        Errno::result(unsafe { libc::semctl(id, num, cmd) })
            .map_err(crate::os_error)
            .with_context(|| format!("semctl({what}) failed"))
    };
    (0..c_int::try_from(nsems).unwrap_or(c_int::MAX))
        .map(|num| {
            Ok(SemValue {
                value: get(num, libc::GETVAL, "GETVAL")?,
                ncount: get(num, libc::GETNCNT, "GETNCNT")?,
                zcount: get(num, libc::GETZCNT, "GETZCNT")?,
                pid: get(num, libc::GETPID, "GETPID")?,
            })
        })
        .collect()
}

/// The kernel's `struct shm_info` (SHM_INFO), absent from the libc crate.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct ShmInfo {
    pub used_ids: c_int,
    pub shm_tot: libc::c_ulong,
    pub shm_rss: libc::c_ulong,
    pub shm_swp: libc::c_ulong,
    pub swap_attempts: libc::c_ulong,
    pub swap_successes: libc::c_ulong,
}

/// shmctl's buffer: SHM_INFO writes a shm_info where a shmid_ds is declared.
#[repr(C)]
union ShmBuf {
    ds: libc::shmid_ds,
    info: ShmInfo,
}

/// The highest index in use and the segment usage of this namespace (SHM_INFO).
pub fn shm_info() -> nix::Result<(c_int, ShmInfo)> {
    // SAFETY: both union members are plain integers; all zeros is valid.
    let mut buf: ShmBuf = unsafe { std::mem::zeroed() };
    // SAFETY: SHM_INFO writes a shm_info, which fits in the union we own.
    let maxid = Errno::result(unsafe { libc::shmctl(0, SHM_INFO, &mut buf.ds) })?;
    // SAFETY: the kernel filled `info`; it is plain integers either way.
    Ok((maxid, unsafe { buf.info }))
}

/// msgctl's buffer: MSG_INFO writes a msginfo where a msqid_ds is declared.
#[repr(C)]
union MsgBuf {
    ds: libc::msqid_ds,
    info: libc::msginfo,
}

/// The highest index in use and the queue usage of this namespace (MSG_INFO).
pub fn msg_info() -> nix::Result<(c_int, libc::msginfo)> {
    // SAFETY: both union members are plain integers; all zeros is valid.
    let mut buf: MsgBuf = unsafe { std::mem::zeroed() };
    // SAFETY: MSG_INFO writes a msginfo, which fits in the union we own.
    let maxid = Errno::result(unsafe { libc::msgctl(0, libc::MSG_INFO, &mut buf.ds) })?;
    // SAFETY: the kernel filled `info`; it is plain integers either way.
    Ok((maxid, unsafe { buf.info }))
}

/// The highest index in use and the semaphore usage of this namespace (SEM_INFO).
pub fn sem_info() -> nix::Result<(c_int, libc::seminfo)> {
    // SAFETY: seminfo is plain integers; all zeros is valid.
    let mut info: libc::seminfo = unsafe { std::mem::zeroed() };
    // SAFETY: SEM_INFO takes `union semun` whose `__buf` member is a
    // pointer to a seminfo; a pointer is passed the same way as the union.
    let maxid = Errno::result(unsafe {
        libc::semctl(0, 0, libc::SEM_INFO, &mut info as *mut libc::seminfo)
    })?;
    Ok((maxid, info))
}

/// A number from /proc/sys/kernel (per IPC namespace).
pub fn kernel_limit<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::fs::read_to_string(format!("/proc/sys/kernel/{name}"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// kernel.sem: SEMMSL SEMMNS SEMOPM SEMMNI.
pub fn sem_limits() -> Option<[i32; 4]> {
    let text = std::fs::read_to_string("/proc/sys/kernel/sem").ok()?;
    let mut fields = text.split_ascii_whitespace().map(|f| f.parse().ok());
    Some([
        fields.next()??,
        fields.next()??,
        fields.next()??,
        fields.next()??,
    ])
}

/// A random key that is not IPC_PRIVATE, as ipcmk picks one.
pub fn random_key() -> anyhow::Result<i32> {
    loop {
        let mut bytes = [0u8; 4];
        // SAFETY: getrandom writes at most `len` bytes into our buffer.
        let got = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
        Errno::result(got).context("cannot get a random key")?;
        let key = i32::from_ne_bytes(bytes);
        if got == 4 && key != libc::IPC_PRIVATE {
            return Ok(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_fields_parse_in_order() {
        let line = "  1234  5  1644  4096  10  0  0  0  0  0  0  0  0  1700000000  0  0";
        let mut f = Fields(line.split_ascii_whitespace());
        assert_eq!(f.next::<i32>(), Some(1234));
        assert_eq!(f.next::<i32>(), Some(5));
        assert_eq!(f.mode(), Some(0o1644));
    }
}
