//! Questions to one session about its namespace's links, addresses and
//! nsids, the attributes read from their messages, and the grouped
//! deletion of several links at once.

use std::net::IpAddr;
use std::os::fd::{AsRawFd, BorrowedFd};

use anyhow::{bail, Context};
use futures::{StreamExt, TryStreamExt};
use rtnetlink::packet_core::{NetlinkMessage, NetlinkPayload, NLM_F_REQUEST};
use rtnetlink::packet_route::address::{AddressAttribute, AddressMessage};
use rtnetlink::packet_route::link::{InfoKind, LinkAttribute, LinkInfo, LinkMessage};
use rtnetlink::packet_route::nsid::{NsidAttribute, NsidMessage};
use rtnetlink::packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::{Handle, LinkMessageBuilder, LinkUnspec};

use super::{nl, Doomed};
use crate::netns::Ns;

pub(super) fn ifname(link: &LinkMessage) -> Option<&str> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(name) => Some(name.as_str()),
        _ => None,
    })
}

pub(super) fn peer_index(link: &LinkMessage) -> Option<u32> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::Link(i) => Some(*i),
        _ => None,
    })
}

pub(super) fn peer_netnsid(link: &LinkMessage) -> Option<i32> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::LinkNetNsId(i) => Some(*i),
        _ => None,
    })
}

/// The first group number from here on that no link of a namespace uses.
pub(super) const SPARE_GROUP: u32 = 0x7276_6574;

/// The device group of a pair `add` has not finished: set in the request
/// that makes it (rtnl_create_link() applies IFLA_GROUP), cleared last, so
/// a pair left by a killed add is known by it.
pub(super) const INCOMPLETE_GROUP: u32 = 0x7276_6570;

/// Where links are unless put elsewhere (`ip link` shows "group default").
pub(super) const DEFAULT_GROUP: u32 = 0;

pub(super) fn group(link: &LinkMessage) -> Option<u32> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::Group(g) => Some(*g),
        _ => None,
    })
}

/// Deletes the queued links of one namespace. Several go in one RTM_DELLINK
/// by device group (as `ip link del group N`), so the kernel unregisters
/// them together: first each gets a group no other link there has.
pub(super) async fn delete_all(d: &Doomed) -> anyhow::Result<()> {
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
pub(super) fn kind(link: &LinkMessage) -> Option<&InfoKind> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::LinkInfo(infos) => infos.iter().find_map(|i| match i {
            LinkInfo::Kind(kind) => Some(kind),
            _ => None,
        }),
        _ => None,
    })
}

pub(super) fn is_veth(link: &LinkMessage) -> bool {
    kind(link) == Some(&InfoKind::Veth)
}

/// The first message of a GETLINK, or None when the kernel says ENODEV.
pub(super) async fn one_link(
    request: rtnetlink::LinkGetRequest,
    what: &str,
) -> anyhow::Result<Option<LinkMessage>> {
    match request.execute().try_next().await {
        Ok(link) => Ok(link),
        Err(rtnetlink::Error::NetlinkError(e)) if e.raw_code() == -libc::ENODEV => Ok(None),
        Err(e) => Err(nl(e)).with_context(|| format!("cannot look up {what}")),
    }
}

pub(super) async fn link_by_name(h: &Handle, name: &str) -> anyhow::Result<Option<LinkMessage>> {
    one_link(h.link().get().match_name(name.to_string()), name).await
}

pub(super) async fn link_by_index(h: &Handle, index: u32) -> anyhow::Result<Option<LinkMessage>> {
    one_link(h.link().get().match_index(index), &format!("link {index}")).await
}

pub(super) async fn index_of(h: &Handle, name: &str, ns: &Ns) -> anyhow::Result<u32> {
    match link_by_name(h, name).await? {
        Some(link) => Ok(link.header.index),
        None => bail!("{name} vanished from {ns}"),
    }
}

pub(super) async fn links(h: &Handle) -> anyhow::Result<Vec<LinkMessage>> {
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
pub(super) async fn addresses(
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
pub(super) async fn nsid(h: &Handle, fd: BorrowedFd<'_>) -> anyhow::Result<Option<i32>> {
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
