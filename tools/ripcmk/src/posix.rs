//! POSIX IPC objects by name (util-linux 2.41's ipcmk -m/-q/-s and ipcrm
//! --posix-*): shared memory and named semaphores are files in /dev/shm,
//! message queues live in the caller's IPC namespace (listed in
//! /dev/mqueue when that is mounted).

use std::ffi::CString;
use std::os::fd::{FromRawFd, OwnedFd};

use nix::errno::Errno;

use crate::sysv::Kind;

/// What a POSIX object of `kind` is called in messages.
pub fn what(kind: Kind) -> &'static str {
    match kind {
        Kind::Shm => "POSIX shared memory",
        Kind::Msg => "POSIX message queue",
        Kind::Sem => "POSIX semaphore",
    }
}

fn c_name(name: &str) -> nix::Result<CString> {
    CString::new(name).map_err(|_| Errno::EINVAL)
}

/// Creates a new object `name` (O_EXCL: never an existing one); `size` is
/// the length of a shared memory object.
pub fn create(kind: Kind, name: &str, size: u64, mode: u32) -> nix::Result<()> {
    let c = c_name(name)?;
    let flags = libc::O_CREAT | libc::O_EXCL;
    match kind {
        Kind::Shm => {
            // SAFETY: shm_open reads a NUL-terminated name we own.
            let fd = Errno::result(unsafe {
                libc::shm_open(c.as_ptr(), flags | libc::O_RDWR, mode as libc::mode_t)
            })?;
            // SAFETY: shm_open just returned this descriptor; nothing else owns it.
            let fd = unsafe { OwnedFd::from_raw_fd(fd) };
            let len = libc::off_t::try_from(size).map_err(|_| Errno::EFBIG);
            if let Err(e) = len.and_then(|len| nix::unistd::ftruncate(&fd, len)) {
                let _ = unlink(kind, name);
                return Err(e);
            }
            Ok(())
        }
        Kind::Msg => {
            // SAFETY: mq_open reads a NUL-terminated name we own; a null
            // attribute pointer asks for the default queue size.
            let mq = Errno::result(unsafe {
                libc::mq_open(
                    c.as_ptr(),
                    flags | libc::O_RDWR,
                    mode as libc::mode_t,
                    std::ptr::null_mut::<libc::mq_attr>(),
                )
            })?;
            // SAFETY: mq is the descriptor mq_open just returned.
            Errno::result(unsafe { libc::mq_close(mq) }).map(drop)
        }
        Kind::Sem => {
            // SAFETY: sem_open reads a NUL-terminated name we own; mode and
            // the initial value 0 are passed as the unsigned ints it expects.
            let sem = unsafe {
                libc::sem_open(c.as_ptr(), flags, mode as libc::c_uint, 0 as libc::c_uint)
            };
            if sem == libc::SEM_FAILED {
                return Err(Errno::last());
            }
            // SAFETY: sem is the semaphore sem_open just returned.
            Errno::result(unsafe { libc::sem_close(sem) }).map(drop)
        }
    }
}

/// Removes the object `name`.
pub fn unlink(kind: Kind, name: &str) -> nix::Result<()> {
    let c = c_name(name)?;
    let ret = match kind {
        // SAFETY: shm_unlink reads a NUL-terminated name we own.
        Kind::Shm => unsafe { libc::shm_unlink(c.as_ptr()) },
        // SAFETY: mq_unlink reads a NUL-terminated name we own.
        Kind::Msg => unsafe { libc::mq_unlink(c.as_ptr()) },
        // SAFETY: sem_unlink reads a NUL-terminated name we own.
        Kind::Sem => unsafe { libc::sem_unlink(c.as_ptr()) },
    };
    Errno::result(ret).map(drop)
}

/// The names of every object of `kind`, as `/NAME`: /dev/shm holds shared
/// memory as NAME and semaphores as sem.NAME; /dev/mqueue the queues.
pub fn names(kind: Kind) -> Vec<String> {
    let dir = if kind == Kind::Msg {
        "/dev/mqueue"
    } else {
        "/dev/shm"
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter_map(|name| match (kind, name.strip_prefix("sem.")) {
            (Kind::Sem, Some(sem)) => Some(format!("/{sem}")),
            (Kind::Sem, None) | (Kind::Shm, Some(_)) => None,
            _ => Some(format!("/{name}")),
        })
        .collect();
    names.sort();
    names
}
