//! rvethpair: veth links and named network namespaces over netlink, each
//! end made directly in its namespace (`ip link add … type veth`, `ip netns`).

mod batch;
mod netlink;
mod netns;
mod plan;

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};

pub use plan::{AddPlan, Cidr, Plan};

/// Make veth pairs with each end directly in its network namespace, and
/// manage named network namespaces as iproute2 does.
#[derive(Parser, Debug)]
#[command(
    name = "rvethpair",
    version,
    infer_long_args = true,
    // ip takes any prefix of a command word (`ip link d`, `ip netns l`).
    infer_subcommands = true,
    disable_help_subcommand = true,
    // A missing command is a usage error naming the commands, not the help.
    arg_required_else_help = false,
    subcommand_value_name = "COMMAND"
)]
pub struct Cli {
    /// JSON output for list commands, given before the command as to ip
    /// (`rvethpair -j netns list`, `ip -j netns list`).
    #[arg(short = 'j', long = "json", short_alias = 'J')]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create the veth pair NAME and PEER, addresses and routes included,
    /// or nothing at all.
    Add(AddArgs),
    /// Delete the veth pair that NAME belongs to.
    #[command(alias = "delete")]
    Del {
        /// Either end of the pair.
        name: String,
        /// The namespace NAME is in: a name under /run/netns, a PID or a
        /// path (default: the current one).
        #[arg(long, value_name = "NS")]
        netns: Option<String>,
    },
    /// List veth links: name, peer, the peer's namespace, state, MTU and
    /// addresses.
    #[command(alias = "show")]
    List {
        /// The namespace to list: a name under /run/netns, a PID or a path
        /// (default: the current one).
        #[arg(long, value_name = "NS")]
        netns: Option<String>,
        /// JSON output, with the field names of `ip -j link` and `ip -j addr`.
        #[arg(short = 'J', long, short_alias = 'j')]
        json: bool,
    },
    /// Named network namespaces under /run/netns, as `ip netns` makes them:
    /// `add NAME...`, `del NAME...`, `list [-J]` (also without a command).
    /// Every word after add or del is a name, as for ip (`netns add -x`).
    Netns {
        /// The command (add, del, list; or a prefix of one) and its words.
        #[arg(
            value_name = "COMMAND",
            trailing_var_arg = true,
            allow_hyphen_values = true
        )]
        words: Vec<String>,
    },
    /// Run `add`, `del`, `list` and `netns` lines from FILE (default or `-`:
    /// stdin) in one process, with one netlink session per namespace.
    Batch(BatchArgs),
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// The name of the first end.
    pub name: String,
    /// The name of the other end.
    pub peer: String,
    /// The namespace of NAME: a name under /run/netns, a PID or a path
    /// (default: the current one).
    #[arg(long, value_name = "NS")]
    pub netns: Option<String>,
    /// The namespace of PEER: a name under /run/netns, a PID or a path
    /// (default: the current one).
    #[arg(long, value_name = "NS")]
    pub peer_netns: Option<String>,
    /// An address for NAME as ADDR/PREFIX, IPv4 or IPv6 (repeatable).
    #[arg(long = "addr", value_name = "CIDR")]
    pub addrs: Vec<String>,
    /// An address for PEER as ADDR/PREFIX, IPv4 or IPv6 (repeatable).
    #[arg(long = "peer-addr", value_name = "CIDR")]
    pub peer_addrs: Vec<String>,
    /// The MTU of both ends.
    #[arg(long, value_name = "N")]
    pub mtu: Option<u32>,
    /// Enslave NAME to this bridge (in NAME's namespace).
    #[arg(long, value_name = "BRIDGE")]
    pub master: Option<String>,
    /// Give PEER's namespace a default route via NAME's first address.
    #[arg(long)]
    pub peer_gateway: bool,
    /// Leave both ends down.
    #[arg(long)]
    pub down: bool,
}

#[derive(Args, Debug)]
pub struct BatchArgs {
    /// The file of commands, one per line (`-` or none: stdin).
    pub file: Option<PathBuf>,
    /// Go on after a failed line, as `ip -force -batch` does (the exit
    /// status is still 1).
    #[arg(long)]
    pub force: bool,
}

/// Man page text beside the clap definition. packaging/install.sh takes
/// one page per binary, so the subcommands' options are in COMMANDS (a test
/// keeps it complete).
pub fn pages() -> Vec<common::cli::Page> {
    vec![main_page()]
}

/// The subcommands and their options, for the man page.
const COMMANDS: &str = "  rvethpair add NAME PEER [--netns NS] [--peer-netns NS] [--addr CIDR]... \
[--peer-addr CIDR]... [--mtu N] [--master BRIDGE] [--peer-gateway] [--down]

Create the veth pair NAME and PEER, each end directly in its namespace (--netns, --peer-netns: \
a name under /run/netns, a PID or a path, digits taken as a name first as ip link does; default: \
the current namespace). --addr and --peer-addr \
add addresses (IPv4 or IPv6, repeatable), --mtu sets the MTU of both ends, --master enslaves NAME \
to a bridge in NAME's namespace, --peer-gateway gives PEER's namespace a default route via NAME's \
first address, --down leaves both ends down.

  rvethpair del NAME [--netns NS]

Delete the veth pair NAME belongs to.

  rvethpair list [--netns NS] [-J|--json]

List the veth links of a namespace: name, peer, the peer's namespace (its name, else its nsid), \
state, MTU and addresses. -J prints fields of ip -j link and ip -j addr with their values (ifname, ifindex, mtu, \
operstate, master, address, link or link_index and link_netnsid, addr_info with family, local, \
prefixlen and scope) and adds peer and peer_netns.

  rvethpair netns add NAME...
  rvethpair netns del NAME...
  rvethpair netns list [-J|--json]

Create named network namespaces (lo up in each), delete them (saying which processes keep one \
alive), or list them as ip netns list does (also rvethpair netns alone). As for ip, every word \
after add or del is a name (netns add -- -x makes -- and -x). del removes every name that is \
there, then names those that were not and exits 1, so a cleanup never leaks the names it could \
remove; add makes all its names or none.

As ip does, a command word may be abbreviated (d for del, l for list), and delete and show are \
taken for del and list.

  rvethpair batch [FILE|-] [--force]

Run add, del, list and netns lines from FILE or stdin in one process, with one netlink session \
per namespace. --force goes on after a failed line, as ip -force -batch does.";

fn main_page() -> common::cli::Page {
    common::cli::Page {
        command: Cli::command(),
        section: "8",
        sections: &[
            ("COMMANDS", COMMANDS),
            (
                "NOTES",
                "Each end of a pair is created directly in its namespace: one RTM_NEWLINK \
                 request carries IFLA_NET_NS_FD for the link and for its peer, because \
                 moving a link to another namespace flushes its addresses. Addresses and \
                 routes are then added over a netlink socket opened inside each namespace.\n\n\
                 Refused before anything is made: the same address on both ends, an address \
                 already on a link of either namespace, a name in use, a name longer than 15 \
                 bytes or with '/', ':' or whitespace, an MTU outside 68 to 65535, a --master \
                 that is not a bridge. If a later step fails, the pair is \
                 deleted again. Ends with addresses in different subnets are only warned about.\n\n\
                 Named namespaces follow ip-netns(8): /run/netns is a shared bind mount of \
                 itself, and NAME is a bind mount of the namespace, so `ip netns exec` works on \
                 ours and rvethpair works on iproute2's. `netns del` names the processes that \
                 keep a namespace (and its links) alive after its name is gone.\n\n\
                 A batch file holds one command per line without the program name, read as \
                 `ip -batch` reads one: `#` starts a comment, a line ending in `\\` goes on on \
                 the next, and a word starting with ' or \" runs to the same quote. Every line is checked before the first runs, so a line that cannot \
                 be read changes nothing. Without --force the batch stops at the first failure \
                 and says how many lines were done. A run of del lines is carried out together: \
                 the links of each namespace get a device group no other link there has and go \
                 in one request, as `ip link del group` does, so the kernel waits for one RCU \
                 grace period instead of one per link. Processes keeping deleted namespaces \
                 alive are looked up once, at the end of a run of netns del lines.\n\n\
                 A name under /run/netns that is an empty mode-0 file is what an interrupted \
                 `netns add` leaves; `netns add` removes it and says so (a name is bound only once \
                 its namespace is whole, lo up). Likewise a pair is made in device group \
                 0x72766570 and moved to the default group as the last step of `add`: a pair \
                 still in that group was left by an interrupted add, and the next `add` of either \
                 name deletes it and says so.",
            ),
            (
                "EXIT STATUS",
                "0 on success, 1 on a usage error or when anything failed; 255, as ip, when \
                 a namespace given by --netns or --peer-netns cannot be opened, for a netns \
                 name ip refuses, an unknown netns command and netns help.",
            ),
            (
                "EXAMPLES",
                "  rvethpair netns add RED BLUE\n  \
                 rvethpair add veth0 veth1 --netns RED --peer-netns BLUE --addr 10.200.1.1/24 --peer-addr 10.200.1.2/24\n  \
                 ip netns exec RED ping -c1 10.200.1.2\n  \
                 rvethpair list --netns RED\n  \
                 rvethpair netns del RED BLUE",
            ),
            (
                "SEE ALSO",
                "ip-link(8), ip-netns(8), veth(4), network_namespaces(7)",
            ),
        ],
    }
}

/// The binary's whole life, `rvethpair` and the multi-call binary's
/// `rvethpair` alike (`common::main!`): the command line `args` (`argv[0]`
/// first) read by clap, [`run`], and the exit code.
pub fn main(args: impl IntoIterator<Item = std::ffi::OsString>) -> i32 {
    common::cli::main::<Cli>("rvethpair", 1, args, run)
}

/// Runs one command (or a batch of them) on a current-thread runtime.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let mut nl = netlink::Netlink::new()?;
        match &cli.command {
            Command::Batch(args) => batch::run(&mut nl, args, cli.json).await,
            _ => {
                let plan = Plan::of(&cli, false)?;
                // What a failing `netns del` did remove is flushed too.
                let done = nl.execute(&plan).await;
                let flushed = nl.flush().await;
                done.and(flushed).map(|()| 0)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// COMMANDS names every subcommand and every option of each.
    #[test]
    fn man_page_lists_every_option() {
        fn walk(command: &clap::Command, path: &str) {
            for sub in command.get_subcommands() {
                let path = format!("{path} {}", sub.get_name());
                assert!(super::COMMANDS.contains(&path), "{path} missing");
                for arg in sub.get_arguments() {
                    if let Some(long) = arg.get_long().filter(|l| *l != "help") {
                        assert!(
                            super::COMMANDS.contains(&format!("--{long}")),
                            "{path} --{long}"
                        );
                    }
                }
                walk(sub, &path);
            }
        }
        walk(&super::Cli::command(), "rvethpair");
    }
}
