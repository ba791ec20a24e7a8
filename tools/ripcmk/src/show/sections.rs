//! ipcs's three sections (message queues, shared memory, semaphores) in
//! each of its views: the plain list, -c, -t, -p, -l and -u.

use std::fmt::Write as _;

use common::names::Names;

use super::figures::{self, MsgLimits, SemLimits, ShmLimits};
use super::format::*;
use super::{Format, Plan, Unit};
use crate::sysv::{self, SHM_DEST, SHM_LOCKED};

pub(super) fn shm_section(out: &mut String, names: &mut Names, plan: &Plan) -> anyhow::Result<()> {
    let unit = plan.unit;
    match plan.format {
        Format::Limits => {
            let Some(ShmLimits {
                shmmni,
                shmmax,
                shmall,
                shmmin,
                page_size: page,
            }) = figures::shm_limits()
            else {
                out.push_str("unable to fetch shared memory limits\n");
                return Ok(());
            };
            out.push_str("------ Shared Memory Limits --------\n");
            let _ = writeln!(out, "max number of segments = {shmmni}");
            size(
                out,
                unit.or(Unit::Kb),
                Some("max seg size"),
                shmmax,
                "\n",
                0,
            );
            // ipcs: on overflow print the largest multiple, not a wrapped value.
            if unit == Unit::Default {
                let per = page / 1024;
                let total = shmall.checked_mul(per).unwrap_or(u64::MAX - u64::MAX % per);
                size(
                    out,
                    Unit::Default,
                    Some("max total shared memory (kbytes)"),
                    total,
                    "\n",
                    0,
                );
            } else {
                let total = shmall
                    .checked_mul(page)
                    .unwrap_or(u64::MAX - u64::MAX % page);
                size(out, unit, Some("max total shared memory"), total, "\n", 0);
            }
            size(
                out,
                unit.or(Unit::Bytes),
                Some("min seg size"),
                shmmin,
                "\n",
                0,
            );
            return Ok(());
        }
        Format::Summary => {
            let Some(info) = figures::shm_status() else {
                out.push_str("kernel not configured for shared memory\n");
                return Ok(());
            };
            out.push_str("------ Shared Memory Status --------\n");
            let _ = write!(
                out,
                "segments allocated {}\npages allocated {}\npages resident  {}\npages swapped   {}\n\
                 Swap performance: {} attempts\t {} successes\n",
                info.segments_allocated,
                info.pages_allocated,
                info.pages_resident,
                info.pages_swapped,
                info.swap_attempts,
                info.swap_successes
            );
            return Ok(());
        }
        Format::Creator => creator_header(out, "Shared Memory Segment Creators/Owners", "shmid"),
        Format::Time => header(
            out,
            "Shared Memory Attach/Detach/Change Times",
            &[
                ("shmid", 10),
                ("owner", 10),
                ("attached", 20),
                ("detached", 20),
                ("changed", 20),
            ],
        ),
        Format::Pid => header(
            out,
            "Shared Memory Creator/Last-op PIDs",
            &[("shmid", 10), ("owner", 10), ("cpid", 10), ("lpid", 10)],
        ),
        Format::Normal => plain_header(
            out,
            "Shared Memory Segments",
            "shmid",
            &[
                (if unit == Unit::Human { "size" } else { "bytes" }, 10),
                ("nattch", 10),
                ("status", 12),
            ],
        ),
    }
    for s in sysv::shms()? {
        let p = &s.perm;
        match plan.format {
            Format::Creator => creator_row(out, names, p),
            Format::Time => times_row(out, names, p, 10, [s.atime, s.dtime, s.ctime]),
            Format::Pid => {
                id_owner(out, names, p.id, p.uid, 10);
                let _ = writeln!(out, " {:<10} {:<10}", s.cpid, s.lpid);
            }
            _ => {
                key_row_start(out, names, p);
                column_size(out, unit, s.size, "    ", 10);
                let _ = writeln!(
                    out,
                    " {:<10} {:<6} {:<6}",
                    s.nattch,
                    if p.mode & SHM_DEST != 0 { "dest" } else { " " },
                    if p.mode & SHM_LOCKED != 0 {
                        "locked"
                    } else {
                        " "
                    }
                );
            }
        }
    }
    Ok(())
}

/// ipcs's message queue section.
pub(super) fn msg_section(out: &mut String, names: &mut Names, plan: &Plan) -> anyhow::Result<()> {
    let unit = plan.unit;
    match plan.format {
        Format::Limits => {
            let Some(MsgLimits {
                msgmni,
                msgmax,
                msgmnb,
            }) = figures::msg_limits()
            else {
                out.push_str("unable to fetch message limits\n");
                return Ok(());
            };
            out.push_str("------ Messages Limits --------\n");
            let _ = writeln!(out, "max queues system wide = {msgmni}");
            let u = unit.or(Unit::Bytes);
            size(out, u, Some("max size of message"), msgmax, "\n", 0);
            // msgmnb is an int in ipcs; a negative one prints as it wraps.
            size(
                out,
                u,
                Some("default max size of queue"),
                msgmnb as u64,
                "\n",
                0,
            );
            return Ok(());
        }
        Format::Summary => {
            let Some(info) = figures::msg_status() else {
                out.push_str("kernel not configured for message queues\n");
                return Ok(());
            };
            out.push_str("------ Messages Status --------\n");
            let _ = writeln!(out, "allocated queues = {}", info.allocated_queues);
            let _ = writeln!(out, "used headers = {}", info.used_headers);
            let end = if unit == Unit::Default {
                " bytes\n"
            } else {
                "\n"
            };
            size(
                out,
                unit,
                Some("used space"),
                info.used_bytes as u64,
                end,
                0,
            );
            return Ok(());
        }
        Format::Creator => creator_header(out, "Message Queues Creators/Owners", "msqid"),
        Format::Time => header(
            out,
            "Message Queues Send/Recv/Change Times",
            &[
                ("msqid", 8),
                ("owner", 10),
                ("send", 20),
                ("recv", 20),
                ("change", 20),
            ],
        ),
        Format::Pid => header(
            out,
            "Message Queues PIDs",
            &[("msqid", 10), ("owner", 10), ("lspid", 10), ("lrpid", 10)],
        ),
        Format::Normal => plain_header(
            out,
            "Message Queues",
            "msqid",
            &[
                (
                    if unit == Unit::Human {
                        "size"
                    } else {
                        "used-bytes"
                    },
                    12,
                ),
                ("messages", 12),
            ],
        ),
    }
    for m in sysv::msgs()? {
        let p = &m.perm;
        match plan.format {
            Format::Creator => creator_row(out, names, p),
            Format::Time => times_row(out, names, p, 8, [m.stime, m.rtime, m.ctime]),
            Format::Pid => {
                id_owner(out, names, p.id, p.uid, 8);
                let _ = writeln!(out, "  {:5}     {:5}", m.lspid, m.lrpid);
            }
            _ => {
                key_row_start(out, names, p);
                column_size(out, unit, m.cbytes, "      ", 12);
                let _ = writeln!(out, " {:<12}", m.qnum);
            }
        }
    }
    Ok(())
}

/// ipcs's semaphore section.
pub(super) fn sem_section(out: &mut String, names: &mut Names, plan: &Plan) -> anyhow::Result<()> {
    match plan.format {
        Format::Limits => {
            let Some(SemLimits {
                semmni,
                semmsl,
                semmns,
                semopm,
                semvmx,
            }) = figures::sem_limits()
            else {
                out.push_str("unable to fetch semaphore limits\n");
                return Ok(());
            };
            out.push_str("------ Semaphore Limits --------\n");
            let _ = write!(
                out,
                "max number of arrays = {semmni}\nmax semaphores per array = {semmsl}\n\
                 max semaphores system wide = {semmns}\nmax ops per semop call = {semopm}\n\
                 semaphore max value = {semvmx}\n"
            );
            return Ok(());
        }
        Format::Summary => {
            let Some(info) = figures::sem_status() else {
                out.push_str("kernel not configured for semaphores\n");
                return Ok(());
            };
            out.push_str("------ Semaphore Status --------\n");
            let _ = writeln!(out, "used arrays = {}", info.used_arrays);
            let _ = writeln!(out, "allocated semaphores = {}", info.allocated_semaphores);
            return Ok(());
        }
        // ipcs has no PID view of semaphores: nothing at all.
        Format::Pid => return Ok(()),
        Format::Creator => creator_header(out, "Semaphore Arrays Creators/Owners", "semid"),
        Format::Time => header(
            out,
            "Semaphore Operation/Change Times",
            &[
                ("semid", 8),
                ("owner", 10),
                ("last-op", 26),
                ("last-changed", 26),
            ],
        ),
        Format::Normal => plain_header(out, "Semaphore Arrays", "semid", &[("nsems", 10)]),
    }
    for s in sysv::sems()? {
        let p = &s.perm;
        match plan.format {
            Format::Creator => creator_row(out, names, p),
            Format::Time => {
                id_owner(out, names, p.id, p.uid, 8);
                let _ = writeln!(out, "  {} {}", long_time(s.otime), long_time(s.ctime));
            }
            _ => {
                key_row_start(out, names, p);
                let _ = writeln!(out, "{:<10}", s.nsems);
            }
        }
    }
    Ok(())
}
