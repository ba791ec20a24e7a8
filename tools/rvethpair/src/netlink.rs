//! The work itself, over rtnetlink: one session per network namespace,
//! opened from inside it (a netlink socket acts in the namespace of the
//! thread that opened it) and kept for the rest of the process, so a batch
//! of a hundred commands opens one socket per namespace, not per line.

use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use anyhow::{bail, Context};
use futures::{StreamExt, TryStreamExt};
use rtnetlink::packet_core::{NetlinkMessage, NetlinkPayload, NLM_F_REQUEST};
use rtnetlink::packet_route::address::{AddressAttribute, AddressMessage, AddressScope};
use rtnetlink::packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkInfo, LinkMessage,
};
use rtnetlink::packet_route::nsid::{NsidAttribute, NsidMessage};
use rtnetlink::packet_route::route::RouteProtocol;
use rtnetlink::packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::{Handle, LinkMessageBuilder, LinkUnspec, LinkVeth, RouteMessageBuilder};
use serde::Serialize;

use crate::netns::{self, Key, Ns};
use crate::plan::{AddPlan, Plan};
use common::netns::named;

/// A netlink socket in one namespace and the task that drives it.
struct Session {
    handle: Handle,
    task: tokio::task::JoinHandle<()>,
}

impl Session {
    /// Opens a socket in the namespace this thread is in now.
    fn open() -> anyhow::Result<Session> {
        let (connection, handle, _) =
            rtnetlink::new_connection().context("cannot open a netlink socket")?;
        Ok(Session {
            handle,
            task: tokio::spawn(connection),
        })
    }
}

impl Drop for Session {
    // The socket holds its namespace alive: close it with the session.
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Every session this process has, by namespace, and the deletions that
/// wait for [`Netlink::flush`].
pub struct Netlink {
    origin: Ns,
    sessions: HashMap<Key, Session>,
    run_dir_ready: bool,
    /// Links to delete, by namespace: deleting many at once costs the
    /// kernel one RCU grace period instead of one per link.
    doomed_links: HashMap<Key, Doomed>,
    /// Namespaces whose names are gone, for one /proc scan of their pids.
    doomed_netns: Vec<(String, Key)>,
    /// Sessions of deleted namespaces, kept until the flush needs no more.
    retired: Vec<Session>,
}

/// The links of one namespace that wait to be deleted.
struct Doomed {
    handle: Handle,
    /// ifindex and name of each, with the ifindex of a peer in the same
    /// namespace (deleting either end deletes both).
    links: Vec<(u32, String, Option<u32>)>,
}

impl fmt::Display for Ns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.label.is_empty() {
            f.write_str("the current network namespace")
        } else {
            write!(f, "network namespace \"{}\"", self.label)
        }
    }
}

/// A netlink NACK as the errno it carries, so the message reads as strerror.
fn nl(err: rtnetlink::Error) -> anyhow::Error {
    match err {
        rtnetlink::Error::NetlinkError(msg) => msg.to_io().into(),
        other => anyhow::anyhow!(other.to_string()),
    }
}

fn warn(text: &str) {
    common::error::warn("rvethpair", text);
}

impl Netlink {
    pub fn new() -> anyhow::Result<Netlink> {
        let mut origin = Ns::current()?;
        origin.label.clear();
        Ok(Netlink {
            origin,
            sessions: HashMap::new(),
            run_dir_ready: false,
            doomed_links: HashMap::new(),
            doomed_netns: Vec::new(),
            retired: Vec::new(),
        })
    }

    /// Runs one plan. `del` and `netns del` finish in [`Netlink::flush`],
    /// which must come before any other plan and before the end.
    pub async fn execute(&mut self, plan: &Plan) -> anyhow::Result<()> {
        match plan {
            Plan::Add(add) => self
                .add(add)
                .await
                .with_context(|| format!("cannot add {}/{}", add.name, add.peer)),
            Plan::Del { name, netns } => self.del(name, netns.as_deref()).await,
            Plan::List { netns, json } => self.list(netns.as_deref(), *json).await,
            Plan::NetnsAdd(names) => self.netns_add(names).await,
            Plan::NetnsDel(names) => self.netns_del(names),
            Plan::NetnsList { json } => self.netns_list(*json).await,
        }
    }

    /// The namespace `spec` names, or the one the tool started in.
    fn open(&self, spec: Option<&str>) -> anyhow::Result<Ns> {
        match spec {
            Some(spec) => Ns::open(spec),
            None => Ok(Ns {
                label: String::new(),
                fd: self
                    .origin
                    .fd
                    .try_clone()
                    .context("cannot duplicate a namespace fd")?,
                key: self.origin.key,
            }),
        }
    }

    /// The session in `ns`, opened from inside it on first use.
    fn handle(&mut self, ns: &Ns) -> anyhow::Result<Handle> {
        if let Some(session) = self.sessions.get(&ns.key) {
            return Ok(session.handle.clone());
        }
        let session = if ns.key == self.origin.key {
            Session::open()?
        } else {
            ns.enter()?;
            let session = Session::open();
            self.back()?;
            session?
        };
        let handle = session.handle.clone();
        self.sessions.insert(ns.key, session);
        Ok(handle)
    }

    /// Returns this thread to the namespace the tool started in.
    fn back(&self) -> anyhow::Result<()> {
        self.origin
            .enter()
            .context("cannot return to the original network namespace")
    }

    async fn add(&mut self, plan: &AddPlan) -> anyhow::Result<()> {
        let a = self.open(plan.netns.as_deref())?;
        let b = self.open(plan.peer_netns.as_deref())?;
        if a.key == b.key && plan.name == plan.peer {
            bail!("both ends are named '{}' in {a}", plan.name);
        }
        let ha = self.handle(&a)?;
        let hb = self.handle(&b)?;
        let ho = self.handle(&self.open(None)?)?;

        // Refusals, before anything is made. A pair still marked as being
        // made is what a killed add left: it goes, and the user is told.
        for (h, ns, name) in [(&ha, &a, &plan.name), (&hb, &b, &plan.peer)] {
            match link_by_name(h, name).await? {
                None => {}
                Some(link) if is_veth(&link) && group(&link) == Some(INCOMPLETE_GROUP) => {
                    h.link()
                        .del(link.header.index)
                        .execute()
                        .await
                        .map_err(nl)
                        .with_context(|| format!("cannot delete the leftover {name}"))?;
                    warn(&format!(
                        "removed {name} in {ns}: a pair left by an interrupted add"
                    ));
                }
                Some(_) => bail!("a link named {name} already exists in {ns}"),
            }
        }
        let planned: Vec<IpAddr> = plan
            .addrs
            .iter()
            .chain(&plan.peer_addrs)
            .map(|c| c.addr)
            .collect();
        // Only the families planned are dumped: the host side of a hundred
        // pairs holds hundreds of link-local addresses.
        let family = match (
            planned.iter().any(IpAddr::is_ipv4),
            planned.iter().any(IpAddr::is_ipv6),
        ) {
            (false, false) => None,
            (true, false) => Some(AddressFamily::Inet),
            (false, true) => Some(AddressFamily::Inet6),
            (true, true) => Some(AddressFamily::Unspec),
        };
        let spaces = if a.key == b.key {
            vec![(&ha, &a)]
        } else {
            vec![(&ha, &a), (&hb, &b)]
        };
        for (h, ns) in spaces {
            let Some(family) = family else { break };
            for (m, ip) in addresses(h, family).await? {
                if planned.contains(&ip) {
                    let index = m.header.index;
                    let dev = link_by_index(h, index)
                        .await?
                        .and_then(|l| ifname(&l).map(str::to_string))
                        .unwrap_or_else(|| format!("link {index}"));
                    bail!("address {ip} is already in use on {dev} in {ns}");
                }
            }
        }
        let master = match &plan.master {
            Some(bridge) => match link_by_name(&ha, bridge).await? {
                Some(link) if kind(&link) == Some(&InfoKind::Bridge) => Some(link.header.index),
                // The kernel would say EOPNOTSUPP for NAME; the user meant a bridge.
                Some(_) => bail!("{bridge} in {a} is not a bridge"),
                None => bail!("cannot find bridge \"{bridge}\" in {a}"),
            },
            None => None,
        };

        // Said once nothing is refused any more.
        for text in &plan.warnings {
            warn(text);
        }

        // One request makes both ends, each directly in its namespace:
        // a link moved later would lose its addresses.
        // Both ends carry INCOMPLETE_GROUP until the last step.
        let mut peer = LinkUnspec::new_with_name(&plan.peer)
            .setns_by_fd(b.fd.as_raw_fd())
            .link_group(INCOMPLETE_GROUP);
        let mut link = LinkVeth::new(&plan.name, &plan.peer)
            .setns_by_fd(a.fd.as_raw_fd())
            .link_group(INCOMPLETE_GROUP);
        if let Some(mtu) = plan.mtu {
            peer = peer.mtu(mtu);
            link = link.mtu(mtu);
        }
        // Only NAME comes up in the request: the kernel configures PEER
        // before the two are joined, and opening a veth without its peer
        // fails (ENOTCONN), so PEER is set up afterwards.
        if plan.up {
            link = link.up();
        }
        if let Some(index) = master {
            link = link.controller(index);
        }
        let link = link
            .set_info_data(InfoData::Veth(InfoVeth::Peer(peer.build())))
            .build();
        ho.link()
            .add(link)
            .execute()
            .await
            .map_err(nl)
            .context("cannot create the veth pair")?;

        let rest = async {
            let index_a = index_of(&ha, &plan.name, &a).await?;
            let index_b = index_of(&hb, &plan.peer, &b).await?;
            let mut peer = LinkUnspec::new_with_index(index_b).link_group(DEFAULT_GROUP);
            if plan.up {
                peer = peer.up();
            }
            hb.link()
                .set(peer.build())
                .execute()
                .await
                .map_err(nl)
                .with_context(|| format!("cannot set up {}", plan.peer))?;
            for (h, index, addrs, name) in [
                (&ha, index_a, &plan.addrs, &plan.name),
                (&hb, index_b, &plan.peer_addrs, &plan.peer),
            ] {
                for cidr in addrs {
                    let mut request = h.address().add(index, cidr.addr, cidr.prefix);
                    // As `ip addr add CIDR` (no `brd`): rtnetlink would add
                    // a broadcast address that ip leaves out.
                    request
                        .message_mut()
                        .attributes
                        .retain(|a| !matches!(a, AddressAttribute::Broadcast(_)));
                    request
                        .execute()
                        .await
                        .map_err(nl)
                        .with_context(|| format!("cannot add address {cidr} to {name}"))?;
                }
            }
            if let Some(gateway) = plan.gateway {
                // proto boot, as `ip route add default via GW` (rtnetlink's
                // default would show as "proto static").
                let route = match gateway {
                    IpAddr::V4(gw) => RouteMessageBuilder::<std::net::Ipv4Addr>::new()
                        .gateway(gw)
                        .output_interface(index_b)
                        .protocol(RouteProtocol::Boot)
                        .build(),
                    IpAddr::V6(gw) => RouteMessageBuilder::<std::net::Ipv6Addr>::new()
                        .gateway(gw)
                        .output_interface(index_b)
                        .protocol(RouteProtocol::Boot)
                        .build(),
                };
                hb.route()
                    .add(route)
                    .execute()
                    .await
                    .map_err(nl)
                    .with_context(|| format!("cannot add a default route via {gateway} in {b}"))?;
            }
            // Last: NAME leaves INCOMPLETE_GROUP, and the pair is whole.
            ha.link()
                .set(
                    LinkUnspec::new_with_index(index_a)
                        .link_group(DEFAULT_GROUP)
                        .build(),
                )
                .execute()
                .await
                .map_err(nl)
                .with_context(|| format!("cannot set up {}", plan.name))?;
            anyhow::Ok(())
        }
        .await;
        if let Err(err) = rest {
            // Deleting one end deletes the pair, addresses and routes with it.
            let undo = ha
                .link()
                .del_with_message(LinkUnspec::new_with_name(&plan.name).build())
                .execute()
                .await;
            if let Err(undo) = undo {
                let undo = nl(undo).context(format!("cannot delete {} again", plan.name));
                bail!(
                    "{}; {}",
                    common::error::one_line(&err),
                    common::error::one_line(&undo)
                );
            }
            return Err(err);
        }
        Ok(())
    }

    /// Checks that NAME is a veth and queues it for deletion.
    async fn del(&mut self, name: &str, netns: Option<&str>) -> anyhow::Result<()> {
        let ns = self.open(netns)?;
        let h = self.handle(&ns)?;
        let link = link_by_name(&h, name).await?;
        // An end of a pair queued already is as good as gone.
        let queued = |index: u32| {
            self.doomed_links.get(&ns.key).is_some_and(|d| {
                d.links
                    .iter()
                    .any(|(i, _, peer)| *i == index || *peer == Some(index))
            })
        };
        let Some(link) = link.filter(|l| !queued(l.header.index)) else {
            bail!("cannot find device \"{name}\" in {ns}");
        };
        if !is_veth(&link) {
            bail!("{name} is not a veth link");
        }
        let same_ns_peer = match (peer_index(&link), peer_netnsid(&link)) {
            (Some(peer), None) => Some(peer),
            _ => None,
        };
        self.doomed_links
            .entry(ns.key)
            .or_insert_with(|| Doomed {
                handle: h,
                links: Vec::new(),
            })
            .links
            .push((link.header.index, name.to_string(), same_ns_peer));
        Ok(())
    }

    /// Deletes the queued links, all of a namespace in one request, and
    /// names the processes that keep deleted namespaces alive.
    pub async fn flush(&mut self) -> anyhow::Result<()> {
        let doomed: Vec<Doomed> = self.doomed_links.drain().map(|(_, d)| d).collect();
        let result = async {
            for d in &doomed {
                delete_all(d).await?;
            }
            anyhow::Ok(())
        }
        .await;
        self.retired.clear();
        let names = std::mem::take(&mut self.doomed_netns);
        if !names.is_empty() {
            let keys: Vec<Key> = names.iter().map(|(_, key)| *key).collect();
            let pids = netns::pids(&keys)?;
            for (name, key) in &names {
                if let Some(pids) = pids.get(key).filter(|p| !p.is_empty()) {
                    let list: Vec<String> = pids.iter().map(u32::to_string).collect();
                    warn(&format!(
                        "network namespace {name} is still used by pid {}: it and its links live until they exit",
                        list.join(" ")
                    ));
                }
            }
        }
        result
    }

    async fn list(&mut self, netns: Option<&str>, json: bool) -> anyhow::Result<()> {
        let ns = self.open(netns)?;
        let h = self.handle(&ns)?;
        let links = links(&h).await?;
        let addrs = addresses(&h, AddressFamily::Unspec).await?;
        // The namespaces a peer may be in, found by the nsid `ns` gives them.
        let mut places: Option<Vec<(i32, Ns)>> = None;
        let mut rows = Vec::new();
        for link in links.iter().filter(|l| is_veth(l)) {
            let index = link.header.index;
            let mut row = Row {
                ifname: ifname(link).unwrap_or_default().to_string(),
                ifindex: index,
                mtu: link.attributes.iter().find_map(|a| match a {
                    LinkAttribute::Mtu(m) => Some(*m),
                    _ => None,
                }),
                operstate: link.attributes.iter().find_map(|a| match a {
                    LinkAttribute::OperState(s) => Some(s.to_string()),
                    _ => None,
                }),
                master: link
                    .attributes
                    .iter()
                    .find_map(|a| match a {
                        LinkAttribute::Controller(i) => Some(*i),
                        _ => None,
                    })
                    .and_then(|i| links.iter().find(|l| l.header.index == i))
                    .and_then(ifname)
                    .map(str::to_string),
                address: link.attributes.iter().find_map(|a| match a {
                    LinkAttribute::Address(mac) => Some(
                        mac.iter()
                            .map(|b| format!("{b:02x}"))
                            .collect::<Vec<_>>()
                            .join(":"),
                    ),
                    _ => None,
                }),
                link_index: peer_index(link),
                link_netnsid: peer_netnsid(link),
                link: None,
                peer: None,
                peer_netns: None,
                addr_info: addrs
                    .iter()
                    .filter(|(m, _)| m.header.index == index)
                    .map(|(m, ip)| AddrInfo {
                        family: if ip.is_ipv4() { "inet" } else { "inet6" },
                        local: ip.to_string(),
                        prefixlen: m.header.prefix_len,
                        scope: scope_name(m.header.scope),
                    })
                    .collect(),
            };
            match (row.link_index, row.link_netnsid) {
                (Some(peer), None) => {
                    row.peer = links
                        .iter()
                        .find(|l| l.header.index == peer)
                        .and_then(ifname)
                        .map(str::to_string);
                    row.link = row.peer.clone();
                    row.link_index = None;
                }
                (Some(peer), Some(id)) => {
                    if places.is_none() {
                        places = Some(self.places(&h).await?);
                    }
                    let found = places.iter().flatten().find(|(i, _)| *i == id);
                    if let Some((_, there)) = found {
                        row.peer_netns = (!there.label.is_empty()).then(|| there.label.clone());
                        let hp = self.handle(there)?;
                        row.peer = link_by_index(&hp, peer)
                            .await?
                            .as_ref()
                            .and_then(ifname)
                            .map(str::to_string);
                    }
                }
                _ => {}
            }
            rows.push(row);
        }
        let mut out = std::io::stdout().lock();
        if json {
            serde_json::to_writer(&mut out, &rows).context("cannot write JSON")?;
            writeln!(out)?;
        } else {
            print_table(&mut out, &rows)?;
        }
        out.flush()?;
        Ok(())
    }

    /// The tool's own namespace and every named one, with the nsid the
    /// session `h` knows them by (namespaces without one are left out).
    async fn places(&self, h: &Handle) -> anyhow::Result<Vec<(i32, Ns)>> {
        let mut found = Vec::new();
        let mut candidates = vec![self.open(None)?];
        for name in netns::names()?.unwrap_or_default() {
            // A stale file under /run/netns is no namespace; skip it.
            if let Ok(ns) = Ns::open_named(&name) {
                candidates.push(ns);
            }
        }
        for ns in candidates {
            if let Some(id) = nsid(h, ns.raw()).await? {
                found.push((id, ns));
            }
        }
        Ok(found)
    }

    async fn netns_add(&mut self, names: &[String]) -> anyhow::Result<()> {
        for name in names {
            let path = named(name);
            match path.symlink_metadata() {
                Err(_) => {}
                Ok(meta) if netns::is_leftover(&meta) => {
                    std::fs::remove_file(&path)
                        .with_context(|| format!("cannot remove {}", path.display()))?;
                    warn(&format!(
                        "removed {}: an empty file left by an interrupted netns add",
                        path.display()
                    ));
                }
                Ok(_) => bail!(
                    "cannot create namespace file \"{}\": File exists",
                    path.display()
                ),
            }
        }
        if !self.run_dir_ready {
            netns::prepare_run_dir()?;
            self.run_dir_ready = true;
        }
        let mut made: Vec<PathBuf> = Vec::new();
        for name in names {
            match self.netns_add_one(name).await {
                Ok(path) => made.push(path),
                Err(err) => {
                    // All or nothing: the names made before this one go too.
                    for path in made.iter().rev() {
                        if let Err(undo) = self.forget_and_remove(path) {
                            warn(&common::error::one_line(&undo));
                        }
                    }
                    return Err(err);
                }
            }
        }
        Ok(())
    }

    async fn netns_add_one(&mut self, name: &str) -> anyhow::Result<PathBuf> {
        let what = || format!("cannot add network namespace {name}");
        let path = netns::create_file(name).with_context(what)?;
        let inside = Self::make_inside(&path, name).await;
        let back = self.back();
        match inside.and_then(|made| back.map(|()| made)) {
            Ok((ns, session)) => {
                self.sessions.insert(ns.key, session);
                Ok(path)
            }
            Err(err) => {
                let _ = netns::remove(&path);
                Err(err).with_context(what)
            }
        }
    }

    /// Moves this thread into a new namespace, opens the session that will
    /// act in it, brings lo up (iproute2 leaves it down; a namespace is of
    /// little use that way) and binds the namespace onto `path` last: a
    /// name is never a half-made namespace, even if the tool is killed.
    /// The caller returns the thread to its namespace, whatever happened.
    async fn make_inside(path: &std::path::Path, name: &str) -> anyhow::Result<(Ns, Session)> {
        netns::unshare_net()?;
        let mut ns = Ns::current()?;
        ns.label = name.to_string();
        let session = Session::open()?;
        session
            .handle
            .link()
            .set(LinkUnspec::new_with_index(LOOPBACK_IFINDEX).up().build())
            .execute()
            .await
            .map_err(nl)
            .context("cannot set lo up")?;
        netns::bind_current(path)?;
        Ok((ns, session))
    }

    /// Retires the session in the namespace at `path` (closed at the next
    /// flush: queued deletions may still need it) and removes the name.
    fn forget_and_remove(&mut self, path: &std::path::Path) -> anyhow::Result<()> {
        if let Ok(meta) = path.metadata() {
            if let Some(session) = self.sessions.remove(&(meta.dev(), meta.ino())) {
                self.retired.push(session);
            }
        }
        netns::remove(path)
    }

    /// Removes the names now; the pids that keep a namespace alive are
    /// looked up by the flush, in one scan of /proc for all of them.
    fn netns_del(&mut self, names: &[String]) -> anyhow::Result<()> {
        for name in names {
            let path = named(name);
            if let Err(err) = path.symlink_metadata() {
                return Err(err).with_context(|| {
                    format!("cannot remove namespace file \"{}\"", path.display())
                });
            }
        }
        for name in names {
            let path = named(name);
            let meta = path
                .metadata()
                .with_context(|| format!("cannot stat {}", path.display()))?;
            self.forget_and_remove(&path)?;
            self.doomed_netns
                .push((name.clone(), (meta.dev(), meta.ino())));
        }
        Ok(())
    }

    async fn netns_list(&mut self, json: bool) -> anyhow::Result<()> {
        let h = self.handle(&self.open(None)?)?;
        // Without /run/netns ip prints nothing, not even `[]` for -j.
        let Some(names) = netns::names()? else {
            return Ok(());
        };
        let mut entries = Vec::new();
        for name in &names {
            let id = match Ns::open_named(name) {
                Ok(ns) => nsid(&h, ns.raw()).await?,
                Err(_) => None,
            };
            // JSON holds text: a name that is not UTF-8 is shown lossily
            // there (ip writes its bytes, which no JSON parser takes).
            entries.push(NetnsEntry {
                name: name.to_string_lossy().into_owned(),
                id,
            });
        }
        let mut out = std::io::stdout().lock();
        if json {
            serde_json::to_writer(&mut out, &entries).context("cannot write JSON")?;
            writeln!(out)?;
        } else {
            for (name, e) in names.iter().zip(&entries) {
                out.write_all(name.as_bytes())?;
                match e.id {
                    Some(id) => writeln!(out, " (id: {id})")?,
                    None => writeln!(out)?,
                }
            }
        }
        out.flush()?;
        Ok(())
    }
}

/// `lo` is always ifindex 1 in a new namespace (LOOPBACK_IFINDEX).
const LOOPBACK_IFINDEX: u32 = 1;

#[derive(Serialize)]
struct NetnsEntry {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<i32>,
}

/// One veth end, with the field names of `ip -j link` and `ip -j addr`.
#[derive(Serialize)]
struct Row {
    ifname: String,
    ifindex: u32,
    mtu: Option<u32>,
    operstate: Option<String>,
    /// The bridge NAME is enslaved to (as ip).
    #[serde(skip_serializing_if = "Option::is_none")]
    master: Option<String>,
    /// The MAC address (as ip).
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<String>,
    /// The peer's name when it is in the same namespace (as ip).
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<String>,
    /// The peer's ifindex when it is in another namespace (as ip).
    #[serde(skip_serializing_if = "Option::is_none")]
    link_index: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    link_netnsid: Option<i32>,
    peer: Option<String>,
    peer_netns: Option<String>,
    addr_info: Vec<AddrInfo>,
}

#[derive(Serialize)]
struct AddrInfo {
    family: &'static str,
    local: String,
    prefixlen: u8,
    scope: String,
}

/// An address scope as ip names it (rtnl_rtscope_n2a()).
fn scope_name(scope: AddressScope) -> String {
    match scope {
        AddressScope::Universe => "global".to_string(),
        AddressScope::Site => "site".to_string(),
        AddressScope::Link => "link".to_string(),
        AddressScope::Host => "host".to_string(),
        AddressScope::Nowhere => "nowhere".to_string(),
        other => u8::from(other).to_string(),
    }
}

fn print_table(out: &mut impl Write, rows: &[Row]) -> std::io::Result<()> {
    let dash = || "-".to_string();
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            let netns = match (&r.peer_netns, r.link_netnsid) {
                (Some(name), _) => name.clone(),
                (None, Some(id)) => format!("nsid {id}"),
                (None, None) => dash(),
            };
            let addrs: Vec<String> = r
                .addr_info
                .iter()
                .map(|a| format!("{}/{}", a.local, a.prefixlen))
                .collect();
            [
                r.ifname.clone(),
                r.peer.clone().unwrap_or_else(dash),
                netns,
                r.operstate.clone().unwrap_or_else(dash),
                r.mtu.map_or_else(dash, |m| m.to_string()),
                if addrs.is_empty() {
                    dash()
                } else {
                    addrs.join(",")
                },
            ]
        })
        .collect();
    let head = ["NAME", "PEER", "PEER-NETNS", "STATE", "MTU", "ADDRESSES"];
    let mut width = head.map(str::len);
    for row in &cells {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    for row in std::iter::once(head.map(str::to_string)).chain(cells) {
        let line: Vec<String> = row
            .iter()
            .zip(width)
            .enumerate()
            .map(|(i, (cell, w))| {
                if i == 5 {
                    cell.clone()
                } else {
                    format!("{cell:<w$}")
                }
            })
            .collect();
        writeln!(out, "{}", line.join(" "))?;
    }
    Ok(())
}

fn ifname(link: &LinkMessage) -> Option<&str> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(name) => Some(name.as_str()),
        _ => None,
    })
}

fn peer_index(link: &LinkMessage) -> Option<u32> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::Link(i) => Some(*i),
        _ => None,
    })
}

fn peer_netnsid(link: &LinkMessage) -> Option<i32> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::LinkNetNsId(i) => Some(*i),
        _ => None,
    })
}

/// The first group number from here on that no link of a namespace uses.
const SPARE_GROUP: u32 = 0x7276_6574;

/// The device group of a pair `add` has not finished: set in the request
/// that makes it (rtnl_create_link() applies IFLA_GROUP), cleared last, so
/// a pair left by a killed add is known by it.
const INCOMPLETE_GROUP: u32 = 0x7276_6570;

/// Where links are unless put elsewhere (`ip link` shows "group default").
const DEFAULT_GROUP: u32 = 0;

fn group(link: &LinkMessage) -> Option<u32> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::Group(g) => Some(*g),
        _ => None,
    })
}

/// Deletes the queued links of one namespace. Several go in one RTM_DELLINK
/// by device group (as `ip link del group N`), so the kernel unregisters
/// them together: first each gets a group no other link there has.
async fn delete_all(d: &Doomed) -> anyhow::Result<()> {
    let names: Vec<&str> = d.links.iter().map(|(_, name, _)| name.as_str()).collect();
    let what = || format!("cannot delete {}", names.join(" "));
    let gone = |r: Result<(), rtnetlink::Error>| match r {
        // A peer whose pair went first in another namespace is gone already.
        Err(rtnetlink::Error::NetlinkError(e)) if e.raw_code() == -libc::ENODEV => Ok(()),
        other => other.map_err(nl),
    };
    if let [(index, _, _)] = d.links[..] {
        return gone(d.handle.link().del(index).execute().await).with_context(what);
    }
    let used: Vec<u32> = links(&d.handle).await?.iter().filter_map(group).collect();
    let group = (SPARE_GROUP..)
        .find(|g| !used.contains(g))
        .context("no spare link group")?;
    for (index, _, _) in &d.links {
        gone(
            d.handle
                .link()
                .set(LinkUnspec::new_with_index(*index).link_group(group).build())
                .execute()
                .await,
        )
        .with_context(what)?;
    }
    gone(
        d.handle
            .link()
            .del_with_message(
                LinkMessageBuilder::<LinkUnspec>::new()
                    .link_group(group)
                    .build(),
            )
            .execute()
            .await,
    )
    .with_context(what)
}

/// The kind of a link (IFLA_INFO_KIND), if it has one (lo has none).
fn kind(link: &LinkMessage) -> Option<&InfoKind> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::LinkInfo(infos) => infos.iter().find_map(|i| match i {
            LinkInfo::Kind(kind) => Some(kind),
            _ => None,
        }),
        _ => None,
    })
}

fn is_veth(link: &LinkMessage) -> bool {
    kind(link) == Some(&InfoKind::Veth)
}

/// The first message of a GETLINK, or None when the kernel says ENODEV.
async fn one_link(
    request: rtnetlink::LinkGetRequest,
    what: &str,
) -> anyhow::Result<Option<LinkMessage>> {
    match request.execute().try_next().await {
        Ok(link) => Ok(link),
        Err(rtnetlink::Error::NetlinkError(e)) if e.raw_code() == -libc::ENODEV => Ok(None),
        Err(e) => Err(nl(e)).with_context(|| format!("cannot look up {what}")),
    }
}

async fn link_by_name(h: &Handle, name: &str) -> anyhow::Result<Option<LinkMessage>> {
    one_link(h.link().get().match_name(name.to_string()), name).await
}

async fn link_by_index(h: &Handle, index: u32) -> anyhow::Result<Option<LinkMessage>> {
    one_link(h.link().get().match_index(index), &format!("link {index}")).await
}

async fn index_of(h: &Handle, name: &str, ns: &Ns) -> anyhow::Result<u32> {
    match link_by_name(h, name).await? {
        Some(link) => Ok(link.header.index),
        None => bail!("{name} vanished from {ns}"),
    }
}

async fn links(h: &Handle) -> anyhow::Result<Vec<LinkMessage>> {
    h.link()
        .get()
        .execute()
        .try_collect()
        .await
        .map_err(nl)
        .context("cannot list links")
}

/// The addresses of the session's namespace (of one family, or all for
/// `Unspec`) with their IP (IFA_LOCAL, else IFA_ADDRESS as for IPv6), in
/// the kernel's order (IPv4 first, as ip).
async fn addresses(
    h: &Handle,
    family: AddressFamily,
) -> anyhow::Result<Vec<(AddressMessage, IpAddr)>> {
    let mut request = h.address().get();
    // The kernel dumps only the family asked for.
    request.message_mut().header.family = family;
    let msgs: Vec<AddressMessage> = request
        .execute()
        .try_collect()
        .await
        .map_err(nl)
        .context("cannot list addresses")?;
    Ok(msgs
        .into_iter()
        .filter_map(|m| {
            let local = m.attributes.iter().find_map(|a| match a {
                AddressAttribute::Local(ip) => Some(*ip),
                _ => None,
            });
            let address = m.attributes.iter().find_map(|a| match a {
                AddressAttribute::Address(ip) => Some(*ip),
                _ => None,
            });
            local.or(address).map(|ip| (m, ip))
        })
        .collect())
}

/// The nsid the session's namespace gives the namespace `fd` (RTM_GETNSID;
/// it assigns none).
async fn nsid(h: &Handle, fd: BorrowedFd<'_>) -> anyhow::Result<Option<i32>> {
    let mut msg = NsidMessage::default();
    msg.attributes
        .push(NsidAttribute::Fd(fd.as_raw_fd() as u32));
    let mut req = NetlinkMessage::from(RouteNetlinkMessage::GetNsId(msg));
    req.header.flags = NLM_F_REQUEST;
    let mut replies = h.clone().request(req).map_err(nl)?;
    while let Some(reply) = replies.next().await {
        match reply.payload {
            NetlinkPayload::Error(e) => {
                return Err(nl(rtnetlink::Error::NetlinkError(e))).context("cannot get an nsid")
            }
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewNsId(m)) => {
                return Ok(m.attributes.iter().find_map(|a| match a {
                    NsidAttribute::Id(id) if *id >= 0 => Some(*id),
                    _ => None,
                }));
            }
            _ => {}
        }
    }
    Ok(None)
}
