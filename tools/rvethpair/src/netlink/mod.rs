//! The work itself, over rtnetlink: one session per network namespace,
//! opened from inside it (a netlink socket acts in the namespace of the
//! thread that opened it) and kept for the rest of the process, so a batch
//! of a hundred commands opens one socket per namespace, not per line.

use std::collections::HashMap;
use std::fmt;

use anyhow::{bail, Context};
use rtnetlink::Handle;

mod add;
mod links;
mod list;
mod named;

use crate::netns::{self, Key, Ns};
use crate::plan::Plan;
use links::{delete_all, is_veth, link_by_name, peer_index, peer_netnsid};

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
}
