//! `netns add|del|list`: named network namespaces made, removed and listed
//! as iproute2 does, each made whole before its name is bound.

use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use anyhow::{bail, Context};
use rtnetlink::LinkUnspec;
use serde::Serialize;

use super::links::*;
use super::{nl, warn, Netlink, Session};
use crate::netns::{self, Ns};
use common::netns::named;

impl Netlink {
    pub(super) async fn netns_add(&mut self, names: &[String]) -> anyhow::Result<()> {
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

    pub(super) async fn netns_add_one(&mut self, name: &str) -> anyhow::Result<PathBuf> {
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
    pub(super) async fn make_inside(
        path: &std::path::Path,
        name: &str,
    ) -> anyhow::Result<(Ns, Session)> {
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
    pub(super) fn forget_and_remove(&mut self, path: &std::path::Path) -> anyhow::Result<()> {
        if let Ok(meta) = path.metadata() {
            if let Some(session) = self.sessions.remove(&(meta.dev(), meta.ino())) {
                self.retired.push(session);
            }
        }
        netns::remove(path)
    }

    /// Removes the names now; the pids that keep a namespace alive are
    /// looked up by the flush, in one scan of /proc for all of them.
    pub(super) fn netns_del(&mut self, names: &[String]) -> anyhow::Result<()> {
        // Every name that is there goes, whatever happens to the others
        // (`rvethpair netns del A B || true` must not leak A); the ones that
        // could not be removed are named in one error.
        let mut failed = Vec::new();
        for name in names {
            if let Err(err) = self.netns_del_one(name) {
                failed.push(common::error::one_line(&err));
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            bail!("{}", failed.join("; "))
        }
    }

    fn netns_del_one(&mut self, name: &str) -> anyhow::Result<()> {
        let path = named(name);
        // A stale file (no namespace bound) goes too, as with ip.
        let meta = path
            .symlink_metadata()
            .with_context(|| format!("cannot remove namespace file \"{}\"", path.display()))?;
        let key = path
            .metadata()
            .map_or((meta.dev(), meta.ino()), |m| (m.dev(), m.ino()));
        self.forget_and_remove(&path)?;
        self.doomed_netns.push((name.to_string(), key));
        Ok(())
    }

    pub(super) async fn netns_list(&mut self, json: bool) -> anyhow::Result<()> {
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
