# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_rvethpair_global_optspecs
    string join \n j/json h/help V/version
end

function __fish_rvethpair_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_rvethpair_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_rvethpair_using_subcommand
    set -l cmd (__fish_rvethpair_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c rvethpair -n "__fish_rvethpair_needs_command" -s j -l json -d 'JSON output for list commands, given before the command as to ip (`rvethpair -j netns list`, `ip -j netns list`)'
complete -c rvethpair -n "__fish_rvethpair_needs_command" -s h -l help -d 'Print help'
complete -c rvethpair -n "__fish_rvethpair_needs_command" -s V -l version -d 'Print version'
complete -c rvethpair -n "__fish_rvethpair_needs_command" -f -a "add" -d 'Create the veth pair NAME and PEER, addresses and routes included, or nothing at all'
complete -c rvethpair -n "__fish_rvethpair_needs_command" -f -a "del" -d 'Delete the veth pair that NAME belongs to'
complete -c rvethpair -n "__fish_rvethpair_needs_command" -f -a "list" -d 'List veth links: name, peer, the peer\'s namespace, state, MTU and addresses'
complete -c rvethpair -n "__fish_rvethpair_needs_command" -f -a "netns" -d 'Named network namespaces under /run/netns, as `ip netns` makes them: `add NAME...`, `del NAME...`, `list [-J]` (also without a command). Every word after add or del is a name, as for ip (`netns add -x`)'
complete -c rvethpair -n "__fish_rvethpair_needs_command" -f -a "batch" -d 'Run `add`, `del`, `list` and `netns` lines from FILE (default or `-`: stdin) in one process, with one netlink session per namespace'
complete -c rvethpair -n "__fish_rvethpair_using_subcommand add" -l netns -d 'The namespace of NAME: a name under /run/netns, a PID or a path (default: the current one)' -r
complete -c rvethpair -n "__fish_rvethpair_using_subcommand add" -l peer-netns -d 'The namespace of PEER: a name under /run/netns, a PID or a path (default: the current one)' -r
complete -c rvethpair -n "__fish_rvethpair_using_subcommand add" -l addr -d 'An address for NAME as ADDR/PREFIX, IPv4 or IPv6 (repeatable)' -r
complete -c rvethpair -n "__fish_rvethpair_using_subcommand add" -l peer-addr -d 'An address for PEER as ADDR/PREFIX, IPv4 or IPv6 (repeatable)' -r
complete -c rvethpair -n "__fish_rvethpair_using_subcommand add" -l mtu -d 'The MTU of both ends' -r
complete -c rvethpair -n "__fish_rvethpair_using_subcommand add" -l master -d 'Enslave NAME to this bridge (in NAME\'s namespace)' -r
complete -c rvethpair -n "__fish_rvethpair_using_subcommand add" -l peer-gateway -d 'Give PEER\'s namespace a default route via NAME\'s first address'
complete -c rvethpair -n "__fish_rvethpair_using_subcommand add" -l down -d 'Leave both ends down'
complete -c rvethpair -n "__fish_rvethpair_using_subcommand add" -s h -l help -d 'Print help'
complete -c rvethpair -n "__fish_rvethpair_using_subcommand del" -l netns -d 'The namespace NAME is in: a name under /run/netns, a PID or a path (default: the current one)' -r
complete -c rvethpair -n "__fish_rvethpair_using_subcommand del" -s h -l help -d 'Print help'
complete -c rvethpair -n "__fish_rvethpair_using_subcommand list" -l netns -d 'The namespace to list: a name under /run/netns, a PID or a path (default: the current one)' -r
complete -c rvethpair -n "__fish_rvethpair_using_subcommand list" -s J -l json -d 'JSON output, with the field names of `ip -j link` and `ip -j addr`'
complete -c rvethpair -n "__fish_rvethpair_using_subcommand list" -s h -l help -d 'Print help'
complete -c rvethpair -n "__fish_rvethpair_using_subcommand netns" -s h -l help -d 'Print help'
complete -c rvethpair -n "__fish_rvethpair_using_subcommand batch" -l force -d 'Go on after a failed line, as `ip -force -batch` does (the exit status is still 1)'
complete -c rvethpair -n "__fish_rvethpair_using_subcommand batch" -s h -l help -d 'Print help'
