//! ripcmk, ripcs, ripcrm: util-linux ipcmk, ipcs and ipcrm for System V
//! IPC objects (shared memory segments, message queues, semaphore arrays),
//! three binaries sharing one crate: the kernel calls live in `sysv`, each
//! tool's `Cli`, `Plan` and `run()` in its own module.

use clap::CommandFactory;
use nix::errno::Errno;

pub mod make;
mod posix;
pub mod remove;
pub mod show;
mod size;
mod sysv;

pub use common::error::Usage;

/// An errno as an error with the C library's text ("Numerical result out
/// of range", "Cannot allocate memory"), where nix's own wording differs.
pub fn os_error(errno: Errno) -> anyhow::Error {
    let text = std::io::Error::from_raw_os_error(errno as i32).to_string();
    let text = text.split(" (os error").next().unwrap_or_default();
    anyhow::anyhow!("{text}")
}

/// The three man pages (section 1, as util-linux's).
pub fn pages() -> Vec<common::cli::Page> {
    vec![
        common::cli::Page {
            command: make::Cli::command(),
            section: "1",
            sections: &[
                (
                    "EXIT STATUS",
                    "0 when every object asked for was made, else 1. When one of several \
                     objects cannot be made, the ones made before it are removed again \
                     (ipcmk leaves them) and nothing is printed but the error.",
                ),
                (
                    "NOTES",
                    "Each object gets a random key; a key already in use is never reused \
                     (ipcmk would hand back the existing object). A size the kernel refuses \
                     is explained with the limit it exceeds: kernel.shmmax and kernel.sem \
                     are per IPC namespace. POSIX objects (-m, -q, -s with --name, as in \
                     util-linux 2.41) are made with O_EXCL: shared memory and semaphores \
                     are files in /dev/shm, message queues belong to the IPC namespace.",
                ),
                (
                    "EXAMPLES",
                    "  ripcmk -M 1M -p 0600\n  ripcmk -m 4K -s -n /demo\n  unshare -i sh -c 'ripcmk -M 100; ripcs -m'",
                ),
                (
                    "SEE ALSO",
                    "ripcs(1), ripcrm(1), ipcmk(1), shmget(2), msgget(2), semget(2)",
                ),
            ],
        },
        common::cli::Page {
            command: show::Cli::command(),
            section: "1",
            sections: &[
                (
                    "EXIT STATUS",
                    "0, also when -i names no object (a warning says so, as ipcs does); \
                     1 for bad arguments or when the kernel cannot be asked.",
                ),
                (
                    "NOTES",
                    "The text layout is that of util-linux ipcs, byte for byte. -J (which \
                     ipcs does not have) prints {\"messages\": ..., \"sharedmemory\": ..., \
                     \"semaphores\": ...} for the kinds asked for, in the view asked for. \
                     By default each is a list of objects with every field, times in seconds \
                     since the epoch (null when never set); with -i ID only that object, and \
                     for a semaphore array its values. With -c, -t or -p the objects keep only \
                     that view's fields: id, owner and perms with cuid, cgid, uid and gid; the \
                     three times (stime, rtime, ctime; atime, dtime, ctime; otime, ctime); \
                     the pids (lspid, lrpid; cpid, lpid; -p leaves semaphores out, as ipcs \
                     shows none). With -l each kind is an object of its limits in bytes, named \
                     after the kernel's parameters (msgmni, msgmax, msgmnb; shmmni, shmmax, \
                     shmall in pages of page_size bytes, shmmin; semmni, semmsl, semmns, \
                     semopm, semvmx); with -u of its usage (allocated_queues, used_headers, \
                     used_bytes; segments_allocated, pages_allocated, pages_resident, \
                     pages_swapped, swap_attempts, swap_successes; used_arrays, \
                     allocated_semaphores); null where the kernel gives none. Objects are \
                     read from /proc/sysvipc, which shows those of the caller's IPC \
                     namespace.",
                ),
                (
                    "EXAMPLES",
                    "  ripcs -m\n  ripcs -q -i 0\n  ripcs -l --human\n  ripcs -J\n  ripcs -J -l -m",
                ),
                ("SEE ALSO", "ripcmk(1), ripcrm(1), ipcs(1), lsipc(1)"),
            ],
        },
        common::cli::Page {
            command: remove::Cli::command(),
            section: "1",
            sections: &[
                (
                    "EXIT STATUS",
                    "0 when everything named was removed, else 1; an object that cannot be \
                     removed is reported and the others are still removed. Every id and key \
                     is read before anything is removed, so a malformed one removes nothing \
                     (ipcrm stops half way).",
                ),
                (
                    "NOTES",
                    "A plain -a removes the System V objects of the IPC namespace only, as \
                     util-linux 2.40 does; POSIX objects go with --all=pshm, --all=pmsg or \
                     --all=psem (2.41 also removes them on -a, which reaches a /dev/shm \
                     shared with the host).",
                ),
                (
                    "EXAMPLES",
                    "  ripcrm -m 3 -Q 0x1234\n  ripcrm --all=shm\n  ripcrm sem 0 1\n  ripcrm --posix-semaphore /demo",
                ),
                (
                    "SEE ALSO",
                    "ripcmk(1), ripcs(1), ipcrm(1), shmctl(2), msgctl(2), semctl(2)",
                ),
            ],
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn getopt_tables_match_the_options() {
        for (table, command) in [
            (make::GETOPT, make::Cli::command()),
            (show::GETOPT, show::Cli::command()),
            (remove::GETOPT, remove::Cli::command()),
        ] {
            let name = command.get_name().to_owned();
            assert_eq!(table.differences(command), Vec::<String>::new(), "{name}");
        }
    }

    #[test]
    fn s32_errors_read_as_util_linux() {
        use common::num::strtos32_or_err as parse_s32;
        assert_eq!(parse_s32(" -5", "x").unwrap(), -5);
        assert_eq!(parse_s32("+7", "x").unwrap(), 7);
        let err = parse_s32("99999999999", "failed to parse elements").unwrap_err();
        assert_eq!(
            common::error::one_line(&err),
            "failed to parse elements: '99999999999': Numerical result out of range"
        );
        for text in ["", "5x", "0x5", "5 "] {
            let err = parse_s32(text, "e").unwrap_err();
            assert_eq!(common::error::one_line(&err), format!("e: '{text}'"));
        }
    }
}
