# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_roverlay_global_optspecs
    string join \n h/help V/version
end

function __fish_roverlay_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_roverlay_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_roverlay_using_subcommand
    set -l cmd (__fish_roverlay_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c roverlay -n "__fish_roverlay_needs_command" -s h -l help -d 'Print help'
complete -c roverlay -n "__fish_roverlay_needs_command" -s V -l version -d 'Print version'
complete -c roverlay -n "__fish_roverlay_needs_command" -f -a "mount" -d 'Mount an overlay of the lower dirs (and an upper dir) on MERGED'
complete -c roverlay -n "__fish_roverlay_needs_command" -f -a "umount" -d 'Unmount the overlay on MERGED (refuses any other filesystem)'
complete -c roverlay -n "__fish_roverlay_needs_command" -f -a "list" -d 'List overlay mounts with their lower, upper and work dirs'
complete -c roverlay -n "__fish_roverlay_needs_command" -f -a "diff" -d 'Print the changes an upper dir holds as `docker diff` prints them: A (added), C (changed), D (deleted)'
complete -c roverlay -n "__fish_roverlay_needs_command" -f -a "commit" -d 'Write an upper dir as an OCI image layer (gzip when LAYER ends in .gz or .tgz)'
complete -c roverlay -n "__fish_roverlay_needs_command" -f -a "apply" -d 'Unpack an OCI or docker image layer (plain or gzip) into DIR in the form overlay takes as a layer'
complete -c roverlay -n "__fish_roverlay_using_subcommand mount" -l lower -d 'The lower dirs, top first, separated by \':\' (a literal \':\' as \'\\:\'); repeatable, each adding layers below the ones before' -r
complete -c roverlay -n "__fish_roverlay_using_subcommand mount" -l upper -d 'The upper dir, where changes go (without it the overlay is read-only)' -r -F
complete -c roverlay -n "__fish_roverlay_using_subcommand mount" -l work -d 'The work dir overlay needs beside an upper dir: empty, on the upper dir\'s filesystem' -r -F
complete -c roverlay -n "__fish_roverlay_using_subcommand mount" -s o -l options -d 'Mount options, comma-separated: ro, nosuid, nodev, noexec, noatime, relatime, index=, redirect_dir=, metacopy=, volatile, xino=, nfs_export=, uuid=, userxattr' -r
complete -c roverlay -n "__fish_roverlay_using_subcommand mount" -s h -l help -d 'Print help'
complete -c roverlay -n "__fish_roverlay_using_subcommand umount" -s l -l lazy -d 'Detach now and clean up when the overlay is no longer busy'
complete -c roverlay -n "__fish_roverlay_using_subcommand umount" -s h -l help -d 'Print help'
complete -c roverlay -n "__fish_roverlay_using_subcommand list" -s J -l json -d 'JSON output: {"overlays": [...]}'
complete -c roverlay -n "__fish_roverlay_using_subcommand list" -s h -l help -d 'Print help'
complete -c roverlay -n "__fish_roverlay_using_subcommand diff" -l lower -d 'The lower dirs, top first, that UPPER changes (default: those of the overlay UPPER is mounted in, if any)' -r
complete -c roverlay -n "__fish_roverlay_using_subcommand diff" -s J -l json -d 'JSON output: {"changes": [{"kind": ..., "path": ...}]}'
complete -c roverlay -n "__fish_roverlay_using_subcommand diff" -s h -l help -d 'Print help'
complete -c roverlay -n "__fish_roverlay_using_subcommand commit" -s h -l help -d 'Print help'
complete -c roverlay -n "__fish_roverlay_using_subcommand apply" -s h -l help -d 'Print help'
