//! The figures of `-l` (limits) and `-u` (usage) of one IPC namespace, read
//! once for both the text and the JSON output. A section the kernel does
//! not give is None (ipcs then prints "unable to fetch ..." or "kernel not
//! configured for ...").

use serde::Serialize;

use crate::sysv;

/// Message queue limits (kernel.msgmni, msgmax, msgmnb; bytes).
#[derive(Debug, Serialize)]
pub struct MsgLimits {
    pub msgmni: i32,
    pub msgmax: u64,
    pub msgmnb: i32,
}

/// Shared memory limits: shmmax in bytes, shmall in pages of `page_size`
/// bytes, as the kernel keeps them; shmmin is always 1.
#[derive(Debug, Serialize)]
pub struct ShmLimits {
    pub shmmni: u64,
    pub shmmax: u64,
    pub shmall: u64,
    pub shmmin: u64,
    pub page_size: u64,
}

/// Semaphore limits (kernel.sem, and SEMVMX, fixed at 32767).
#[derive(Debug, Serialize)]
pub struct SemLimits {
    pub semmni: i32,
    pub semmsl: i32,
    pub semmns: i32,
    pub semopm: i32,
    pub semvmx: i32,
}

/// Message queue usage (MSG_INFO).
#[derive(Debug, Serialize)]
pub struct MsgStatus {
    pub allocated_queues: i64,
    pub used_headers: i64,
    pub used_bytes: i64,
}

/// Shared memory usage (SHM_INFO).
#[derive(Debug, Serialize)]
pub struct ShmStatus {
    pub segments_allocated: i64,
    pub pages_allocated: u64,
    pub pages_resident: u64,
    pub pages_swapped: u64,
    pub swap_attempts: u64,
    pub swap_successes: u64,
}

/// Semaphore usage (SEM_INFO).
#[derive(Debug, Serialize)]
pub struct SemStatus {
    pub used_arrays: i64,
    pub allocated_semaphores: i64,
}

pub fn msg_limits() -> Option<MsgLimits> {
    Some(MsgLimits {
        msgmni: sysv::kernel_limit("msgmni")?,
        msgmax: sysv::kernel_limit("msgmax")?,
        msgmnb: sysv::kernel_limit("msgmnb")?,
    })
}

pub fn shm_limits() -> Option<ShmLimits> {
    Some(ShmLimits {
        shmmni: sysv::kernel_limit("shmmni")?,
        shmmax: sysv::kernel_limit("shmmax")?,
        shmall: sysv::kernel_limit("shmall")?,
        shmmin: 1,
        page_size: nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
            .ok()
            .flatten()
            .map_or(4096, |p| p as u64),
    })
}

pub fn sem_limits() -> Option<SemLimits> {
    let [semmsl, semmns, semopm, semmni] = sysv::sem_limits()?;
    Some(SemLimits {
        semmni,
        semmsl,
        semmns,
        semopm,
        semvmx: 32767,
    })
}

pub fn msg_status() -> Option<MsgStatus> {
    let (_, info) = sysv::msg_info().ok()?;
    Some(MsgStatus {
        allocated_queues: info.msgpool.into(),
        used_headers: info.msgmap.into(),
        used_bytes: info.msgtql.into(),
    })
}

pub fn shm_status() -> Option<ShmStatus> {
    let (_, info) = sysv::shm_info().ok()?;
    Some(ShmStatus {
        segments_allocated: info.used_ids.into(),
        pages_allocated: info.shm_tot,
        pages_resident: info.shm_rss,
        pages_swapped: info.shm_swp,
        swap_attempts: info.swap_attempts,
        swap_successes: info.swap_successes,
    })
}

pub fn sem_status() -> Option<SemStatus> {
    let (_, info) = sysv::sem_info().ok()?;
    Some(SemStatus {
        used_arrays: info.semusz.into(),
        allocated_semaphores: info.semaem.into(),
    })
}
