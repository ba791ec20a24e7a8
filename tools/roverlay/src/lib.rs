//! roverlay: overlay mounts made by descriptor with any number of layers
//! (`mount -t overlay`), and upper dirs turned into OCI image layers and
//! back (`diff`, `commit`, `apply`).

mod apply;
mod at;
mod commit;
mod diff;
mod gzip;
mod list;
mod mount;
mod stage;
mod tree;

use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};

pub use mount::Plan;

/// Mount overlay filesystems by descriptor with any number of lower layers,
/// list and unmount them, and turn upper dirs into OCI image layers and back.
#[derive(Parser, Debug)]
#[command(
    name = "roverlay",
    version,
    infer_long_args = true,
    infer_subcommands = true,
    disable_help_subcommand = true,
    subcommand_value_name = "COMMAND"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Mount an overlay of the lower dirs (and an upper dir) on MERGED.
    Mount(MountArgs),
    /// Unmount the overlay on MERGED (refuses any other filesystem).
    #[command(alias = "unmount")]
    Umount {
        /// Detach now and clean up when the overlay is no longer busy.
        #[arg(short = 'l', long)]
        lazy: bool,
        /// The mount point of the overlay.
        merged: PathBuf,
    },
    /// List overlay mounts with their lower, upper and work dirs.
    List {
        /// JSON output: {"overlays": [...]}.
        #[arg(short = 'J', long)]
        json: bool,
    },
    /// Print the changes an upper dir holds as `docker diff` prints them:
    /// A (added), C (changed), D (deleted).
    Diff {
        /// JSON output: {"changes": [{"kind": ..., "path": ...}]}.
        #[arg(short = 'J', long)]
        json: bool,
        /// The lower dirs, top first, that UPPER changes (default: those
        /// of the overlay UPPER is mounted in, if any).
        #[arg(long, value_name = "DIR[:DIR...]")]
        lower: Option<String>,
        /// The upper dir of an overlay.
        upper: PathBuf,
    },
    /// Write an upper dir as an OCI image layer (gzip when LAYER ends in
    /// .gz or .tgz).
    Commit {
        /// The upper dir of an overlay.
        upper: PathBuf,
        /// The layer file to write: LAYER.tar or LAYER.tar.gz.
        layer: PathBuf,
    },
    /// Unpack an OCI or docker image layer (plain or gzip) into DIR in the
    /// form overlay takes as a layer.
    Apply {
        /// The layer file: a tar, gzip-compressed or not.
        layer: PathBuf,
        /// The directory to unpack into (made if missing).
        dir: PathBuf,
    },
}

#[derive(clap::Args, Debug)]
pub struct MountArgs {
    /// The lower dirs, top first, separated by ':' (a literal ':' as '\:');
    /// repeatable, each adding layers below the ones before.
    #[arg(long, value_name = "DIR[:DIR...]", required = true)]
    pub lower: Vec<String>,
    /// The upper dir, where changes go (without it the overlay is read-only).
    #[arg(long, value_name = "DIR")]
    pub upper: Option<PathBuf>,
    /// The work dir overlay needs beside an upper dir: empty, on the upper
    /// dir's filesystem.
    #[arg(long, value_name = "DIR")]
    pub work: Option<PathBuf>,
    /// Mount options, comma-separated: ro, nosuid, nodev, noexec, noatime,
    /// relatime, index=, redirect_dir=, metacopy=, volatile, xino=,
    /// nfs_export=, uuid=, userxattr.
    #[arg(short = 'o', long = "options", value_name = "OPT,...")]
    pub options: Vec<String>,
    /// The directory to mount the overlay on.
    pub merged: PathBuf,
}

/// What the subcommands do, for the man page: one page for the binary.
const COMMANDS: &str =
    "  roverlay mount --lower DIR[:DIR...] [--upper DIR --work DIR] [-o OPT,...] MERGED

Mount an overlay on MERGED. Lower dirs are given top first, as mount(8) takes them; without \
--upper the overlay is read-only and needs at least two lower dirs. Every layer, the upper, work and MERGED are opened once \
(O_PATH|O_NOFOLLOW) and the overlay is made with fsopen(2), fsconfig(2), fsmount(2) and \
move_mount(2) by descriptor, adding lower layers one at a time with lowerdir+ (Linux 6.8), so \
the kernel's 500 layers mount whatever their paths' length. Inside a user namespace userxattr is \
added. metacopy is off unless -o metacopy=on is given. Before mounting, --upper and --work must \
come together, be directories on one mount, and the work dir must be empty (or hold only the \
work and index dirs overlay itself left there).

  roverlay umount [-l|--lazy] MERGED

Unmount the overlay on MERGED; anything else mounted there is refused.

  roverlay list [-J|--json]

List overlay mounts of this mount namespace with their lower, upper and work dirs, from \
/proc/self/mountinfo, whether made by roverlay or by mount(8).

  roverlay diff [-J|--json] [--lower DIR[:DIR...]] UPPER

Print the changes UPPER holds, sorted by path, as docker diff prints them: A PATH for an added \
file, C PATH for a changed one, D PATH for a deleted one (a whiteout: a 0/0 character device or \
a .wh.NAME file). A directory with changes below it is C; an opaque directory is C, and what the \
lower dirs held in it is D. Whether a path is A or C, and the old content of an opaque directory, \
come from the lower dirs: --lower, else those of the overlay UPPER is mounted in; with neither, \
every path that is not deleted is A.

  roverlay commit UPPER LAYER.tar[.gz]

Write UPPER as an OCI image layer: whiteouts as .wh.NAME, opaque directories with a \
.wh..wh..opq entry, hard links as links (never a whiteout), modes, owners, times and extended \
attributes kept, overlay's own (trusted.overlay.*, user.overlay.*) dropped. A name ending in .gz \
or .tgz is gzip-compressed on every core, as one gzip member per MiB of tar (gzip(1) and OCI \
tools read them as one stream). The layer is written to an unnamed file and linked in when whole: a \
failure leaves no partial file.

  roverlay apply LAYER.tar[.gz] DIR

Unpack an OCI or docker image layer (gzip-compressed or not) into DIR as overlay takes a layer: \
.wh.NAME becomes a whiteout (a 0/0 character device), .wh..wh..opq makes its directory opaque \
(trusted.overlay.opaque, or user.overlay.opaque in a user namespace). Refused, naming the \
entry: a name with a .. component or an absolute one, a symbolic link whose relative target \
climbs out of DIR, a hard link to a name that is not in DIR, an entry written through a \
symbolic link, a *.overlay.* extended attribute. An absolute symbolic link target is kept: it \
is read inside the image's root. A refused or corrupt layer leaves DIR as it was: an empty or \
missing DIR is filled through a staging directory beside it that replaces it when whole; a \
non-empty DIR is changed only after the whole layer has been read and checked.";

/// Man page text beside the clap definition.
pub fn pages() -> Vec<common::cli::Page> {
    vec![common::cli::Page {
        command: Cli::command(),
        section: "8",
        sections: &[
            ("COMMANDS", COMMANDS),
            (
                "NOTES",
                "mount(8) hands overlay one page of options, which runs out near 165 layers \
                 with long paths, and the new mount API takes at most 255 bytes per value. \
                 roverlay adds layers one by one with lowerdir+ and, from Linux 6.13, by \
                 descriptor (FSCONFIG_SET_FD); on 6.8 to 6.12 by /proc/self/fd/N. On kernels \
                 without lowerdir+ it falls back to mount(2) with the layers named by their \
                 descriptor numbers relative to /proc/self/fd, and says so when even those \
                 do not fit in a page.\n\n\
                 An interrupted commit or apply (killed) leaves at most a staging name \
                 beginning with .roverlay- beside LAYER or DIR; the next run for the same \
                 LAYER or DIR removes it and says so on stderr.",
            ),
            (
                "EXIT STATUS",
                "0 on success, 1 on a usage error or when anything failed.",
            ),
            (
                "EXAMPLES",
                "  roverlay mount --lower tools:myroot --upper rootfs/container --work rootfs/work rootfs/merge\n\
                 \x20 rm rootfs/merge/escape_chroot\n\
                 \x20 roverlay diff rootfs/container\n\
                 \x20 roverlay umount rootfs/merge\n\
                 \x20 roverlay commit rootfs/container layer.tar.gz\n\
                 \x20 roverlay apply layer.tar.gz layers/2",
            ),
            (
                "SEE ALSO",
                "mount(8), umount(8), fsopen(2), move_mount(2), tar(1), umoci(1)",
            ),
        ],
    }]
}

/// The binary's whole life, `roverlay` and the multi-call binary's `roverlay`
/// alike (`common::main!`): the command line `args` (`argv[0]` first) read by
/// clap, [`run`], and the exit code.
pub fn main(args: impl IntoIterator<Item = std::ffi::OsString>) -> i32 {
    common::cli::main::<Cli>("roverlay", 1, args, run)
}

/// Runs one subcommand.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Mount(args) => mount::mount(&Plan::new(args)?),
        Command::Umount { lazy, merged } => mount::umount(&merged, lazy),
        Command::List { json } => list::list(json),
        Command::Diff { json, lower, upper } => diff::diff(&upper, lower.as_deref(), json),
        Command::Commit { upper, layer } => commit::commit(&upper, &layer),
        Command::Apply { layer, dir } => apply::apply(&layer, &dir),
    }?;
    Ok(0)
}

/// Splits a `DIR[:DIR...]` list, top first; `\:` is a literal ':' (and
/// `\\` a backslash), as overlay reads its lowerdir option.
pub fn split_layers(list: &str) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let mut cur = String::new();
    let mut chars = list.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => cur.extend(chars.next()),
            ':' => dirs.push(PathBuf::from(std::mem::take(&mut cur))),
            c => cur.push(c),
        }
    }
    dirs.push(PathBuf::from(cur));
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_split_on_unescaped_colons() {
        assert_eq!(
            split_layers(r"a:b\:c:d\\"),
            [PathBuf::from("a"), "b:c".into(), r"d\".into()]
        );
    }

    /// COMMANDS names every subcommand and every option of each.
    #[test]
    fn man_page_lists_every_option() {
        for sub in Cli::command().get_subcommands() {
            let path = format!("roverlay {}", sub.get_name());
            assert!(COMMANDS.contains(&path), "{path} missing");
            for arg in sub.get_arguments() {
                if let Some(long) = arg.get_long().filter(|l| *l != "help") {
                    let short = arg.get_short().map(|s| format!("-{s}|"));
                    assert!(
                        COMMANDS.contains(&format!("--{long}")) || long == "options",
                        "{path} --{long} {short:?}"
                    );
                }
            }
        }
    }
}
