//! cgroup v2: one tree, controllers enabled top-down through
//! `cgroup.subtree_control` (never in a cgroup that has processes of its
//! own, the root excepted), `cgroup.kill` for the whole subtree.

use std::path::{Path, PathBuf};

use super::{keyed, number, Limit, Limits, Refused, Setup, Usage, Write};

/// cgroup v2.
pub struct V2;

/// The root cgroup has no `cgroup.type`, and is exempt from "no internal
/// processes".
fn is_root(dir: &Path) -> bool {
    !dir.join("cgroup.type").exists()
}

fn words(dir: &Path, file: &str) -> Vec<String> {
    std::fs::read_to_string(dir.join(file))
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

impl super::Version for V2 {
    fn setup(&self, base: &Path, made: &[PathBuf], controllers: &[&str]) -> Setup {
        let mut setup = Setup::default();
        let offered = words(base, "cgroup.controllers");
        let mut wanted: Vec<&str> = Vec::new();
        for c in controllers {
            if offered.iter().any(|o| o == c) {
                wanted.push(c);
            } else {
                setup.refused.push((
                    c.to_string(),
                    format!(
                        "the {c} controller is not offered to {} (not in its cgroup.controllers)",
                        base.display()
                    ),
                ));
            }
        }
        // Every cgroup from base down to the new cgroup's parent must pass
        // the controllers on, top first.
        let parents =
            std::iter::once(base).chain(made.iter().rev().skip(1).rev().map(PathBuf::as_path));
        for (i, dir) in parents.enumerate() {
            let enabled = words(dir, "cgroup.subtree_control");
            let missing: Vec<&str> = wanted
                .iter()
                .copied()
                .filter(|c| !enabled.iter().any(|e| e == c))
                .collect();
            if missing.is_empty() {
                continue;
            }
            // Only base can hold processes: the levels below it are new.
            if i == 0 && !is_root(dir) && !super::procs(dir).is_empty() {
                for c in &missing {
                    setup.refused.push((
                        c.to_string(),
                        format!(
                            "cannot enable the {c} controller in {}: it has processes of its own, \
                             and cgroup v2 gives controllers only to cgroups without them",
                            dir.display()
                        ),
                    ));
                }
                wanted.retain(|w| !missing.contains(w));
                continue;
            }
            let value: Vec<String> = missing.iter().map(|c| format!("+{c}")).collect();
            setup.writes.push(Write {
                limit: Limit::Setup,
                path: dir.join("cgroup.subtree_control"),
                value: value.join(" "),
            });
        }
        setup
    }

    fn limits(
        &self,
        dir: &Path,
        _controllers: &[String],
        limits: &Limits,
    ) -> (Vec<Write>, Vec<Refused>) {
        let mut writes = Vec::new();
        let mut refused = Vec::new();
        let mut write = |limit: Limit, file: &str, value: String| {
            let path = dir.join(file);
            if path.exists() {
                writes.push(Write { limit, path, value });
            } else {
                let c = limit.controller();
                let why = if limit == Limit::MemorySwap {
                    format!("no swap accounting ({} is missing)", path.display())
                } else {
                    format!("the {c} controller is not enabled for {}", dir.display())
                };
                refused.push(Refused { limit, why });
            }
        };
        if let Some(cpus) = &limits.cpuset {
            write(Limit::Cpuset, "cpuset.cpus", cpus.clone());
        }
        if let Some(memory) = limits.memory {
            write(Limit::Memory, "memory.max", memory.to_string());
        }
        if let Some(total) = limits.memory_swap {
            // v2 limits swap alone; --memory-swap is memory and swap together.
            let swap = total.saturating_sub(limits.memory.unwrap_or(0));
            write(Limit::MemorySwap, "memory.swap.max", swap.to_string());
        }
        if let Some((quota, period)) = limits.cpu {
            write(Limit::Cpu, "cpu.max", format!("{quota} {period}"));
        }
        if let Some(pids) = limits.pids {
            write(Limit::Pids, "pids.max", pids.to_string());
        }
        (writes, refused)
    }

    fn kill(&self, dir: &Path) -> anyhow::Result<()> {
        let kill = dir.join("cgroup.kill");
        if kill.exists() {
            std::fs::write(kill, "1")?;
            return Ok(());
        }
        // Before Linux 5.14: freeze, kill each, thaw.
        let freeze = dir.join("cgroup.freeze");
        std::fs::write(&freeze, "1")?;
        super::kill_each(dir);
        std::fs::write(&freeze, "0")?;
        Ok(())
    }

    fn populated(&self, dir: &Path) -> bool {
        match keyed(dir, "cgroup.events", "populated") {
            Some(n) => n != 0,
            None => !super::procs(dir).is_empty(),
        }
    }

    fn usage(&self, dir: &Path) -> Usage {
        Usage {
            cpu_usec: keyed(dir, "cpu.stat", "usage_usec"),
            cpu_user_usec: keyed(dir, "cpu.stat", "user_usec"),
            cpu_system_usec: keyed(dir, "cpu.stat", "system_usec"),
            memory: number(dir, "memory.current"),
            memory_peak: number(dir, "memory.peak"),
            tasks: number(dir, "pids.current"),
            tasks_peak: number(dir, "pids.peak"),
            oom_kills: keyed(dir, "memory.events", "oom_kill"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Version;
    use super::*;

    /// A directory shaped like a v2 cgroup: its interface files, as plain files.
    fn cgroup(dir: &Path, root: bool, controllers: &str, procs: &str) {
        std::fs::create_dir_all(dir).unwrap();
        let mut files = vec![
            ("cgroup.controllers", controllers),
            ("cgroup.subtree_control", ""),
            ("cgroup.procs", procs),
        ];
        if !root {
            files.push(("cgroup.type", "domain"));
        }
        for (name, value) in files {
            std::fs::write(dir.join(name), value).unwrap();
        }
    }

    fn writes(setup: &Setup) -> Vec<(PathBuf, &str)> {
        setup
            .writes
            .iter()
            .map(|w| (w.path.clone(), w.value.as_str()))
            .collect()
    }

    #[test]
    fn controllers_are_enabled_top_down_along_the_path() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path();
        cgroup(base, true, "cpu memory pids io", "1\n");
        let (a, b) = (base.join("a"), base.join("a/b"));
        cgroup(&a, false, "", "");
        cgroup(&b, false, "", "");
        let setup = V2.setup(base, &[a.clone(), b.clone()], &["memory", "pids"]);
        assert_eq!(setup.refused, []);
        // The root may hold processes; the new cgroup itself enables nothing.
        assert_eq!(
            writes(&setup),
            [
                (base.join("cgroup.subtree_control"), "+memory +pids"),
                (a.join("cgroup.subtree_control"), "+memory +pids"),
            ]
        );
        for w in &setup.writes {
            w.apply().unwrap();
        }
        assert_eq!(
            std::fs::read_to_string(a.join("cgroup.subtree_control")).unwrap(),
            "+memory +pids"
        );
        // What is enabled already is not written again.
        std::fs::write(base.join("cgroup.subtree_control"), "memory pids").unwrap();
        std::fs::write(a.join("cgroup.subtree_control"), "memory").unwrap();
        let setup = V2.setup(base, &[a.clone(), b], &["memory", "pids"]);
        assert_eq!(
            writes(&setup),
            [(a.join("cgroup.subtree_control"), "+pids")]
        );
    }

    #[test]
    fn no_internal_processes_and_absent_controllers_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let own = tmp.path().join("own");
        cgroup(&own, false, "memory", "4242\n");
        let job = own.join("job");
        cgroup(&job, false, "", "");
        let setup = V2.setup(&own, std::slice::from_ref(&job), &["memory", "cpuset"]);
        assert_eq!(setup.writes, []);
        let refused: Vec<&str> = setup.refused.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(refused, ["cpuset", "memory"]);
        assert!(
            setup.refused[1].1.contains("has processes of its own"),
            "{:?}",
            setup.refused
        );
        // Without processes it is enabled.
        std::fs::write(own.join("cgroup.procs"), "").unwrap();
        let setup = V2.setup(&own, &[job], &["memory"]);
        assert_eq!(
            writes(&setup),
            [(own.join("cgroup.subtree_control"), "+memory")]
        );
    }

    #[test]
    fn limits_are_written_to_the_v2_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        for f in [
            "cpuset.cpus",
            "memory.max",
            "memory.swap.max",
            "cpu.max",
            "pids.max",
        ] {
            std::fs::write(dir.join(f), "").unwrap();
        }
        let limits = Limits {
            memory: Some(64 << 20),
            memory_swap: Some(96 << 20),
            cpu: Some((20_000, 100_000)),
            cpuset: Some("0-1".into()),
            pids: Some(20),
        };
        let (writes, refused) = V2.limits(dir, &[], &limits);
        assert_eq!(refused, []);
        for w in &writes {
            w.apply().unwrap();
        }
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
        assert_eq!(read("memory.max"), "67108864");
        assert_eq!(read("memory.swap.max"), "33554432");
        assert_eq!(read("cpu.max"), "20000 100000");
        assert_eq!(read("cpuset.cpus"), "0-1");
        assert_eq!(read("pids.max"), "20");
        // The cpuset first: the rest never sees CPUs the job may not have.
        assert_eq!(writes[0].limit, Limit::Cpuset);
        std::fs::remove_file(dir.join("memory.swap.max")).unwrap();
        let (_, refused) = V2.limits(dir, &[], &limits);
        assert_eq!(refused.len(), 1);
        assert!(
            refused[0].why.starts_with("no swap accounting"),
            "{}",
            refused[0].why
        );
    }

    #[test]
    fn usage_is_read_from_the_stat_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        std::fs::write(
            dir.join("cpu.stat"),
            "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("memory.events"),
            "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
        )
        .unwrap();
        std::fs::write(dir.join("pids.peak"), "7\n").unwrap();
        let u = V2.usage(dir);
        assert_eq!(
            (u.cpu_usec, u.cpu_user_usec, u.cpu_system_usec),
            (Some(1500), Some(1000), Some(500))
        );
        assert_eq!(
            (u.oom_kills, u.tasks_peak, u.memory_peak),
            (Some(1), Some(7), None)
        );
    }
}
