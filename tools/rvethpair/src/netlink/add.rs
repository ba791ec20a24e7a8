//! `add`: both ends of a pair in one request, each directly in its
//! namespace, then addresses, routes and the last step that marks the pair
//! whole; on failure the pair is deleted again.

use std::net::IpAddr;
use std::os::fd::AsRawFd;

use anyhow::{bail, Context};
use rtnetlink::packet_route::address::AddressAttribute;
use rtnetlink::packet_route::link::{InfoData, InfoKind, InfoVeth};
use rtnetlink::packet_route::route::RouteProtocol;
use rtnetlink::packet_route::AddressFamily;
use rtnetlink::{LinkUnspec, LinkVeth, RouteMessageBuilder};

use super::links::*;
use super::{nl, warn, Netlink};
use crate::plan::AddPlan;

impl Netlink {
    pub(super) async fn add(&mut self, plan: &AddPlan) -> anyhow::Result<()> {
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
}
