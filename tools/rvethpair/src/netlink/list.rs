//! `list`: the veth links of a namespace with their peers, found in the
//! namespaces that the listed one gives an nsid, as a table or as JSON with
//! the field names of `ip -j link` and `ip -j addr`.

use std::io::Write;

use anyhow::Context;
use rtnetlink::packet_route::address::AddressScope;
use rtnetlink::packet_route::link::LinkAttribute;
use rtnetlink::packet_route::AddressFamily;
use rtnetlink::Handle;
use serde::Serialize;

use super::links::*;
use super::Netlink;
use crate::netns::{self, Ns};

impl Netlink {
    pub(super) async fn list(&mut self, netns: Option<&str>, json: bool) -> anyhow::Result<()> {
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
    pub(super) async fn places(&self, h: &Handle) -> anyhow::Result<Vec<(i32, Ns)>> {
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
