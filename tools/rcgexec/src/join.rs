//! The cgexec form: `-g CONTROLLERS:PATH...` moves rcgexec into existing
//! cgroups, then it becomes the command. Every cgroup.procs is opened
//! before any is written, and a join that fails moves rcgexec back.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use common::cgroup::{Hierarchy, Layout};

use crate::{spawn, Join};

pub fn run(plan: Join) -> anyhow::Result<u8> {
    let argv = common::process::c_args(&plan.command)?;
    let layout = Layout::own()?;
    let mut targets: Vec<(&Hierarchy, PathBuf)> = Vec::new();
    for (controllers, path) in &plan.groups {
        for h in hierarchies(&layout, controllers)? {
            let dir = h.dir(path).with_context(|| {
                format!(
                    "cgroup {}:{} is not visible under {}",
                    h.name(),
                    path.display(),
                    h.mount.display()
                )
            })?;
            // A later -g for the same hierarchy wins, as in cgexec.
            targets.retain(|(t, _)| t.mount != h.mount);
            targets.push((h, dir));
        }
    }
    let mut opened = Vec::new();
    for (h, dir) in &targets {
        let procs = common::cgroup::open_procs(dir)?;
        let back = h
            .own_dir()
            .map(|own| common::cgroup::open_procs(&own))
            .transpose()?;
        opened.push((dir, procs, back));
    }
    let mut rollback = common::rollback::Rollback::default();
    for (dir, procs, back) in opened {
        common::cgroup::join(&procs)
            .with_context(|| format!("cannot join cgroup {}", dir.display()))?;
        if let Some(back) = back {
            rollback.push(move || {
                let _ = common::cgroup::join(back);
            });
        }
    }
    let errno = common::process::execvp(&argv[0], &argv);
    Err(spawn::exec_error(&plan.command[0], errno))
}

/// The hierarchies CONTROLLERS name: each controller's, `*` every
/// hierarchy with controllers and cgroup2, none cgroup2.
fn hierarchies<'a>(
    layout: &'a Layout,
    controllers: &[String],
) -> anyhow::Result<Vec<&'a Hierarchy>> {
    if controllers.is_empty() {
        return layout
            .v2()
            .map(|h| vec![h])
            .context("cgroup2 is not mounted");
    }
    if controllers.iter().any(|c| c == "*") {
        return Ok(layout
            .hierarchies
            .iter()
            .filter(|h| h.version == 2 || h.controllers.iter().any(|c| !c.starts_with("name=")))
            .collect());
    }
    let mut out = Vec::new();
    for c in controllers {
        match layout.controller(c) {
            Some(h) => out.push(h),
            None if known(c) => bail!("the {c} controller is not mounted"),
            None => bail!("unknown controller '{c}'"),
        }
    }
    Ok(out)
}

/// Whether the kernel has a controller `name` (/proc/cgroups), or it names
/// a named v1 hierarchy.
fn known(name: &str) -> bool {
    name.starts_with("name=")
        || std::fs::read_to_string(Path::new("/proc/cgroups"))
            .unwrap_or_default()
            .lines()
            .any(|l| l.split_whitespace().next() == Some(name))
}
