//! What a command line means, checked before any namespace or link is
//! touched: names, addresses, and the mistakes refused up front (the same
//! address on both ends, a gateway the peer cannot reach).

use std::net::IpAddr;

use anyhow::{bail, Context};

use common::error::Code;

use crate::{AddArgs, Cli, Command};

/// An address with its prefix length, as `ip addr add` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    /// Parses `ADDR/PREFIX`; a bare address is a host address (/32, /128),
    /// as iproute2 takes it.
    pub fn parse(text: &str) -> anyhow::Result<Cidr> {
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .parse()
            .with_context(|| format!("invalid address '{text}'"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            // ip reads "/024" as octal (/20): a leading zero is refused
            // rather than read either way.
            Some(p) if p.len() > 1 && p.starts_with('0') => {
                bail!("invalid prefix length '{p}' in '{text}' (a leading zero is ambiguous)")
            }
            Some(p) => match p.parse::<u8>() {
                Ok(n) if p.bytes().all(|b| b.is_ascii_digit()) && n <= max => n,
                _ => bail!("invalid prefix length '{p}' in '{text}' (0 to {max})"),
            },
        };
        Ok(Cidr { addr, prefix })
    }

    /// True when `ip` lies in this address's subnet.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(a) & mask == u32::from(b) & mask
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(a) & mask == u128::from(b) & mask
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Refuses a name the kernel would refuse or mangle (dev_valid_name(): at
/// most 15 bytes, no `/`, no whitespace, not `.` or `..`), and `:` which
/// iproute2 reads as an alias label.
pub fn link_name(name: &str) -> anyhow::Result<()> {
    let why = if name.is_empty() {
        "empty"
    } else if name.len() > 15 {
        "longer than 15 bytes"
    } else if name == "." || name == ".." {
        "reserved"
    } else if name.contains('/') {
        "contains '/'"
    } else if name.contains(':') {
        "contains ':'"
    } else if name.chars().any(char::is_whitespace) {
        "contains whitespace"
    } else {
        return Ok(());
    };
    bail!("invalid link name '{name}': {why}")
}

/// Refuses a namespace name that is not one file name under /run/netns,
/// as ip's is_valid_netns_name() does, in its words.
pub fn netns_name(name: &str) -> anyhow::Result<()> {
    let too_long = name.len() > libc::NAME_MAX as usize;
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || too_long {
        return Err(ip_usage(format!("invalid netns name \"{name}\"")));
    }
    Ok(())
}

/// A failure ip ends with exit status 255 (`usage()`, `invalid_arg()`).
pub fn ip_usage(text: String) -> anyhow::Error {
    anyhow::Error::new(Code(255, text))
}

/// `netns WORDS` as ip's do_netns reads them: the first word, or any
/// prefix of it, names the command (tried in ip's order: list, show, lst,
/// help, add, delete); every later word of add and del is a name, `--` and
/// `-x` too. An unknown command and `help` end with 255, as ip's do.
fn netns(words: &[String]) -> anyhow::Result<Plan> {
    let Some((first, rest)) = words.split_first() else {
        return Ok(Plan::NetnsList { json: false });
    };
    let is = |command: &str| !first.is_empty() && command.starts_with(first.as_str());
    if is("list") || is("show") || is("lst") {
        // ip ignores what follows; ours takes -J (--json) from it.
        let json = rest.iter().any(|w| {
            matches!(w.as_str(), "-J" | "-j") || (w.len() > 2 && "--json".starts_with(w.as_str()))
        });
        return Ok(Plan::NetnsList { json });
    }
    if is("help") {
        return Err(ip_usage(
            "usage: rvethpair netns { add | del } NAME... | rvethpair netns [ list [-J] ]".into(),
        ));
    }
    let add = is("add");
    if !add && !is("delete") {
        return Err(ip_usage(format!(
            "command \"{first}\" is unknown, try \"rvethpair netns help\""
        )));
    }
    if rest.is_empty() {
        bail!("no netns name specified");
    }
    for (i, name) in rest.iter().enumerate() {
        netns_name(name)?;
        if rest[..i].contains(name) {
            bail!("network namespace '{name}' given twice");
        }
    }
    Ok(if add {
        Plan::NetnsAdd(rest.to_vec())
    } else {
        Plan::NetnsDel(rest.to_vec())
    })
}

/// What `add` will do, with every check that needs no system call done.
#[derive(Debug, PartialEq)]
pub struct AddPlan {
    pub name: String,
    pub peer: String,
    pub netns: Option<String>,
    pub peer_netns: Option<String>,
    pub addrs: Vec<Cidr>,
    pub peer_addrs: Vec<Cidr>,
    pub mtu: Option<u32>,
    pub master: Option<String>,
    /// The default route to give the peer's namespace.
    pub gateway: Option<IpAddr>,
    pub up: bool,
    /// Said on stderr before the work starts (nothing is refused for them).
    pub warnings: Vec<String>,
}

impl AddPlan {
    pub fn new(args: &AddArgs) -> anyhow::Result<AddPlan> {
        link_name(&args.name)?;
        link_name(&args.peer)?;
        if args.name == args.peer && args.netns == args.peer_netns {
            bail!("both ends are named '{}' in one namespace", args.name);
        }
        let parse = |list: &[String]| -> anyhow::Result<Vec<Cidr>> {
            list.iter().map(|a| Cidr::parse(a)).collect()
        };
        let addrs = parse(&args.addrs)?;
        let peer_addrs = parse(&args.peer_addrs)?;
        let all: Vec<&Cidr> = addrs.iter().chain(&peer_addrs).collect();
        for (i, a) in all.iter().enumerate() {
            if let Some(j) = (i + 1..all.len()).find(|&j| all[j].addr == a.addr) {
                // The notebook's mistake: a ping to "the other end" then goes
                // to an address nobody answers on.
                let both = (i < addrs.len()) != (j < addrs.len());
                bail!(
                    "{} given {}",
                    a.addr,
                    if both { "to both ends" } else { "twice" }
                );
            }
        }
        let gateway = if args.peer_gateway {
            let Some(first) = addrs.first() else {
                bail!("--peer-gateway needs an --addr for {}", args.name);
            };
            if !peer_addrs.iter().any(|p| p.contains(first.addr)) {
                bail!(
                    "--peer-gateway: {} is in no subnet of {}'s addresses",
                    first.addr,
                    args.peer
                );
            }
            if args.down {
                bail!("--peer-gateway needs the links up (without --down)");
            }
            Some(first.addr)
        } else {
            None
        };
        if let Some(master) = &args.master {
            link_name(master)?;
        }
        if let Some(mtu) = args.mtu {
            // veth_setup(): ETH_MIN_MTU to ETH_MAX_MTU; the kernel says only
            // EINVAL for either end.
            if !(68..=65535).contains(&mtu) {
                bail!("invalid MTU {mtu}: a veth takes 68 to 65535");
            }
        }
        let mut warnings = Vec::new();
        for v4 in [true, false] {
            let ours: Vec<_> = addrs.iter().filter(|a| a.addr.is_ipv4() == v4).collect();
            let theirs: Vec<_> = peer_addrs
                .iter()
                .filter(|a| a.addr.is_ipv4() == v4)
                .collect();
            let linked = ours.iter().any(|a| {
                theirs
                    .iter()
                    .any(|b| a.contains(b.addr) && b.contains(a.addr))
            });
            if !ours.is_empty() && !theirs.is_empty() && !linked {
                warnings.push(format!(
                    "{} and {} are in different subnets: the ends cannot reach each other without a route",
                    ours[0], theirs[0]
                ));
            }
        }
        Ok(AddPlan {
            name: args.name.clone(),
            peer: args.peer.clone(),
            netns: args.netns.clone(),
            peer_netns: args.peer_netns.clone(),
            addrs,
            peer_addrs,
            mtu: args.mtu,
            master: args.master.clone(),
            gateway,
            up: !args.down,
            warnings,
        })
    }
}

/// One command with its input checked.
#[derive(Debug, PartialEq)]
pub enum Plan {
    Add(Box<AddPlan>),
    Del { name: String, netns: Option<String> },
    List { netns: Option<String>, json: bool },
    NetnsAdd(Vec<String>),
    NetnsDel(Vec<String>),
    NetnsList { json: bool },
}

impl Plan {
    /// True for the plans that finish in the next flush (`del`, `netns
    /// del`): a run of them in a batch is done together.
    pub fn defers(&self) -> bool {
        matches!(self, Plan::Del { .. } | Plan::NetnsDel(_))
    }

    /// The plan of a command line, JSON output for a list when `-j` came
    /// before the command or `json` (the batch's own `-j`) is set.
    pub fn of(cli: &Cli, json: bool) -> anyhow::Result<Plan> {
        let mut plan = Plan::new(&cli.command)?;
        if let Plan::List { json: j, .. } | Plan::NetnsList { json: j } = &mut plan {
            *j |= cli.json || json;
        }
        Ok(plan)
    }

    /// The plan of any command but `batch`.
    pub fn new(command: &Command) -> anyhow::Result<Plan> {
        Ok(match command {
            Command::Add(args) => Plan::Add(Box::new(AddPlan::new(args)?)),
            Command::Del { name, netns } => {
                link_name(name)?;
                Plan::Del {
                    name: name.clone(),
                    netns: netns.clone(),
                }
            }
            Command::List { netns, json } => Plan::List {
                netns: netns.clone(),
                json: *json,
            },
            Command::Netns { words } => netns(words)?,
            Command::Batch(_) => bail!("batch cannot be nested"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cli;
    use clap::Parser;

    fn plan(args: &[&str]) -> anyhow::Result<Plan> {
        let cli = Cli::try_parse_from(std::iter::once("rvethpair").chain(args.iter().copied()))
            .expect("parses");
        Plan::new(&cli.command)
    }

    fn err(args: &[&str]) -> String {
        common::error::one_line(&plan(args).unwrap_err())
    }

    /// `add a b --addr ADDR --peer-addr PEER`, then `extra`.
    fn add_addrs<'a>(addr: &'a str, peer: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec!["add", "a", "b", "--addr", addr, "--peer-addr", peer];
        args.extend_from_slice(extra);
        args
    }

    /// The add plan `args` make.
    fn add_plan(args: &[&str]) -> AddPlan {
        let Plan::Add(p) = plan(args).unwrap() else {
            panic!("not an add plan")
        };
        *p
    }

    #[test]
    fn cidr_parses_v4_v6_and_bare_hosts() {
        assert_eq!(
            Cidr::parse("10.200.1.1/24").unwrap().to_string(),
            "10.200.1.1/24"
        );
        assert_eq!(Cidr::parse("fd00:200::1/64").unwrap().prefix, 64);
        assert_eq!(Cidr::parse("10.200.1.1").unwrap().prefix, 32);
        assert!(Cidr::parse("10.200.1/24").is_err());
        assert!(Cidr::parse("10.200.1.1/33").is_err());
        assert!(Cidr::parse("10.200.1.1/+3").is_err());
        assert!(Cidr::parse("fd00::1/129").is_err());
        // ip would read these as octal: 8.200.4.1, /20.
        assert!(Cidr::parse("010.200.4.1/24").is_err());
        assert!(Cidr::parse("10.200.3.1/024").is_err());
        assert!(Cidr::parse("fd00::1/064").is_err());
        assert_eq!(Cidr::parse("10.200.3.1/0").unwrap().prefix, 0);
    }

    #[test]
    fn subnets() {
        let a = Cidr::parse("10.200.1.1/24").unwrap();
        assert!(a.contains("10.200.1.254".parse().unwrap()));
        assert!(!a.contains("10.200.2.1".parse().unwrap()));
        assert!(Cidr::parse("10.200.1.1/0")
            .unwrap()
            .contains("10.9.9.9".parse().unwrap()));
        assert!(!a.contains("fd00::1".parse().unwrap()));
    }

    #[test]
    fn same_address_on_both_ends_is_refused() {
        assert_eq!(
            err(&add_addrs("10.200.1.1/24", "10.200.1.1/24", &[])),
            "10.200.1.1 given to both ends"
        );
    }

    #[test]
    fn names_are_checked() {
        for (args, want) in [
            (
                ["add", "a234567890123456", "b"],
                "invalid link name 'a234567890123456': longer than 15 bytes",
            ),
            (["add", "a/b", "b"], "invalid link name 'a/b': contains '/'"),
            (
                ["add", "a b", "b"],
                "invalid link name 'a b': contains whitespace",
            ),
            (
                ["add", "a", "a"],
                "both ends are named 'a' in one namespace",
            ),
        ] {
            assert_eq!(err(&args), want);
        }
        assert!(plan(&["add", "a", "a", "--peer-netns", "RED"]).is_ok());
        assert!(plan(&["netns", "add", "x/y"]).is_err());
    }

    #[test]
    fn gateway_needs_a_reachable_address() {
        assert!(err(&["add", "a", "b", "--peer-gateway"]).contains("needs an --addr"));
        assert!(err(&add_addrs(
            "10.200.1.1/24",
            "10.200.2.2/24",
            &["--peer-gateway"]
        ))
        .contains("no subnet"));
        let p = add_plan(&add_addrs(
            "10.200.1.1/24",
            "10.200.1.2/24",
            &["--peer-gateway"],
        ));
        assert_eq!(p.gateway, Some("10.200.1.1".parse().unwrap()));
        assert!(p.warnings.is_empty());
    }

    /// Generated input (a fixed-seed generator, no extra crate): the CIDR
    /// parser never panics, and what it accepts prints back as it reads.
    #[test]
    fn cidr_parser_takes_any_input() {
        let alphabet = b"0123456789./:abcdefx -+";
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            let mut text = String::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            for i in 0..(seed % 24) {
                let pick = (seed >> (i % 48)) as usize ^ (i as usize * 7);
                text.push(alphabet[pick % alphabet.len()] as char);
            }
            if let Ok(cidr) = Cidr::parse(&text) {
                assert_eq!(Cidr::parse(&cidr.to_string()).unwrap(), cidr, "{text}");
            }
        }
    }

    #[test]
    fn different_subnets_warn() {
        let p = add_plan(&add_addrs("10.200.1.1/24", "10.200.2.2/24", &[]));
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    }

    #[test]
    fn netns_words_are_read_as_ip_reads_them() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            plan(&["netns", "add", "--", "-x"]).unwrap(),
            Plan::NetnsAdd(names(&["--", "-x"]))
        );
        assert_eq!(
            plan(&["netns", "d", "A", "B"]).unwrap(),
            Plan::NetnsDel(names(&["A", "B"]))
        );
        for words in [&["netns"][..], &["netns", "s"], &["netns", "lst", "x"]] {
            assert_eq!(plan(words).unwrap(), Plan::NetnsList { json: false });
        }
        assert_eq!(
            plan(&["netns", "list", "--js"]).unwrap(),
            Plan::NetnsList { json: true }
        );
        let code = |args: &[&str]| common::error::code_of(&plan(args).unwrap_err(), 1);
        assert_eq!(code(&["netns", "bogus"]), 255);
        assert_eq!(code(&["netns", "help"]), 255);
        assert_eq!(code(&["netns", "add", "a/b"]), 255);
        assert_eq!(code(&["netns", "add"]), 1);
        assert_eq!(err(&["netns", "del"]), "no netns name specified");
    }
}
