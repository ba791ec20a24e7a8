//! cgroup v1: one hierarchy per controller (or per set mounted together),
//! limits in each, freeze-and-kill through the freezer.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{keyed, number, Limit, Limits, Refused, Setup, Usage, Write};

/// cgroup v1.
pub struct V1;

impl super::Version for V1 {
    fn setup(&self, _base: &Path, made: &[PathBuf], controllers: &[&str]) -> Setup {
        let mut setup = Setup::default();
        let (Some(first), true) = (made.first(), controllers.contains(&"cpuset")) else {
            return setup;
        };
        // A new v1 cpuset has no CPUs and no memory nodes, and refuses tasks
        // (ENOSPC) until both are set: each level copies its parent's.
        let parent = first.parent().unwrap_or(first);
        for file in ["cpuset.cpus", "cpuset.mems"] {
            match std::fs::read_to_string(parent.join(file)) {
                Ok(value) => setup.writes.extend(made.iter().map(|dir| Write {
                    limit: Limit::Setup,
                    path: dir.join(file),
                    value: value.trim().to_string(),
                })),
                Err(e) => setup.refused.push((
                    "cpuset".into(),
                    format!("cannot read {}: {e}", parent.join(file).display()),
                )),
            }
        }
        setup
    }

    fn limits(
        &self,
        dir: &Path,
        controllers: &[String],
        limits: &Limits,
    ) -> (Vec<Write>, Vec<Refused>) {
        let has = |c: &str| controllers.iter().any(|h| h == c);
        let mut writes = Vec::new();
        let mut refused = Vec::new();
        let mut write = |limit, file: &str, value: String, missing: &str| {
            let path = dir.join(file);
            if path.exists() {
                writes.push(Write { limit, path, value });
            } else {
                refused.push(Refused {
                    limit,
                    why: format!("{missing} ({} is missing)", path.display()),
                });
            }
        };
        if let (Some(cpus), true) = (&limits.cpuset, has("cpuset")) {
            write(Limit::Cpuset, "cpuset.cpus", cpus.clone(), "no cpuset");
        }
        if has("memory") {
            let memory = limits
                .memory
                .map(|m| (Limit::Memory, "memory.limit_in_bytes", m));
            let swap = limits
                .memory_swap
                .map(|s| (Limit::MemorySwap, "memory.memsw.limit_in_bytes", s));
            // memory may never exceed memory+swap: raising memory above the
            // current memsw limit needs memsw raised first; else memory goes
            // first (lowering memsw below the current memory is refused).
            let memsw_now = number(dir, "memory.memsw.limit_in_bytes").unwrap_or(u64::MAX);
            let memsw_first = limits.memory.is_some_and(|m| m > memsw_now);
            let order = if memsw_first {
                [swap, memory]
            } else {
                [memory, swap]
            };
            for (limit, file, bytes) in order.into_iter().flatten() {
                write(
                    limit,
                    file,
                    bytes.to_string(),
                    "no swap accounting, or no memory controller",
                );
            }
        }
        if let (Some((quota, period)), true) = (limits.cpu, has("cpu")) {
            write(
                Limit::Cpu,
                "cpu.cfs_period_us",
                period.to_string(),
                "no CFS bandwidth control",
            );
            write(
                Limit::Cpu,
                "cpu.cfs_quota_us",
                quota.to_string(),
                "no CFS bandwidth control",
            );
        }
        if let (Some(pids), true) = (limits.pids, has("pids")) {
            write(
                Limit::Pids,
                "pids.max",
                pids.to_string(),
                "no pids controller",
            );
        }
        (writes, refused)
    }

    fn kill(&self, dir: &Path) -> anyhow::Result<()> {
        let state = dir.join("freezer.state");
        if !state.exists() {
            super::kill_each(dir);
            return Ok(());
        }
        // Frozen, nothing forks while the list is walked; SIGKILL is
        // delivered on thaw.
        std::fs::write(&state, "FROZEN")?;
        let start = Instant::now();
        while std::fs::read_to_string(&state).is_ok_and(|s| s.trim() == "FREEZING")
            && start.elapsed() < Duration::from_secs(1)
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        super::kill_each(dir);
        std::fs::write(&state, "THAWED")?;
        Ok(())
    }

    fn populated(&self, dir: &Path) -> bool {
        super::below(dir)
            .iter()
            .chain([&dir.to_path_buf()])
            .any(|d| !super::procs(d).is_empty())
    }

    fn usage(&self, dir: &Path) -> Usage {
        let usec = |file| number(dir, file).map(|ns| ns / 1000);
        Usage {
            cpu_usec: usec("cpuacct.usage"),
            cpu_user_usec: usec("cpuacct.usage_user"),
            cpu_system_usec: usec("cpuacct.usage_sys"),
            memory: number(dir, "memory.usage_in_bytes"),
            memory_peak: number(dir, "memory.max_usage_in_bytes"),
            tasks: number(dir, "pids.current"),
            tasks_peak: number(dir, "pids.peak"),
            oom_kills: keyed(dir, "memory.oom_control", "oom_kill"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Version;
    use super::*;

    fn files(dir: &Path, files: &[(&str, &str)]) {
        for (name, value) in files {
            std::fs::write(dir.join(name), value).unwrap();
        }
    }

    fn order(writes: &[Write]) -> Vec<&str> {
        writes
            .iter()
            .map(|w| w.path.file_name().unwrap().to_str().unwrap())
            .collect()
    }

    #[test]
    fn memsw_goes_after_memory_when_lowering_and_before_when_raising() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        files(
            dir,
            &[
                ("memory.limit_in_bytes", "1"),
                ("memory.memsw.limit_in_bytes", "9223372036854771712"),
            ],
        );
        let memory = vec!["memory".to_string()];
        let limits = Limits {
            memory: Some(64 << 20),
            memory_swap: Some(128 << 20),
            ..Limits::default()
        };
        let (writes, refused) = V1.limits(dir, &memory, &limits);
        assert!(refused.is_empty());
        assert_eq!(
            order(&writes),
            ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"]
        );
        assert_eq!(writes[0].value, "67108864");
        // memsw now 32M: 64M of memory needs memsw raised first.
        files(dir, &[("memory.memsw.limit_in_bytes", "33554432")]);
        let (writes, _) = V1.limits(dir, &memory, &limits);
        assert_eq!(
            order(&writes),
            ["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"]
        );
    }

    #[test]
    fn missing_swap_accounting_is_refused_by_name() {
        let tmp = tempfile::tempdir().unwrap();
        files(tmp.path(), &[("memory.limit_in_bytes", "1")]);
        let limits = Limits {
            memory: Some(1 << 20),
            memory_swap: Some(2 << 20),
            pids: Some(5),
            ..Limits::default()
        };
        let (writes, refused) = V1.limits(tmp.path(), &["memory".into()], &limits);
        assert_eq!(order(&writes), ["memory.limit_in_bytes"]);
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].limit, Limit::MemorySwap);
        assert!(
            refused[0].why.contains("swap accounting"),
            "{}",
            refused[0].why
        );
    }

    #[test]
    fn a_new_cpuset_copies_cpus_and_mems_from_its_parent() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("a/b"));
        std::fs::create_dir_all(&b).unwrap();
        files(
            tmp.path(),
            &[("cpuset.cpus", "0-3\n"), ("cpuset.mems", "0\n")],
        );
        let setup = V1.setup(tmp.path(), &[a.clone(), b.clone()], &["cpuset"]);
        assert!(setup.refused.is_empty());
        let got: Vec<(PathBuf, &str)> = setup
            .writes
            .iter()
            .map(|w| (w.path.clone(), w.value.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (a.join("cpuset.cpus"), "0-3"),
                (b.join("cpuset.cpus"), "0-3"),
                (a.join("cpuset.mems"), "0"),
                (b.join("cpuset.mems"), "0"),
            ]
        );
        assert_eq!(V1.setup(tmp.path(), &[a], &["memory"]), Setup::default());
    }

    /// As root, where there is a v1 freezer: a cgroup below ours with a
    /// shell and two children in it is emptied by one freeze-and-kill.
    #[test]
    fn freeze_and_kill_empties_a_real_freezer_cgroup() {
        use std::io::Write as _;
        let skip = |why: &str| {
            let _ = writeln!(
                std::io::stderr(),
                "SKIP freeze_and_kill_empties_a_real_freezer_cgroup: {why}"
            );
        };
        if !nix::unistd::geteuid().is_root() {
            return skip("needs root");
        }
        let layout = super::super::Layout::own().unwrap();
        let Some(own) = layout.controller("freezer").and_then(|h| h.own_dir()) else {
            return skip("no v1 freezer");
        };
        /// Removes the cgroup on drop, killing what is left.
        struct Made(PathBuf);
        impl Drop for Made {
            fn drop(&mut self) {
                super::super::kill_each(&self.0);
                let _ = super::super::remove(&self.0, Duration::from_secs(5));
            }
        }
        let made = Made(own.join(format!("bxt-v1kill-{}", std::process::id())));
        std::fs::create_dir(&made.0).unwrap();
        let script = format!(
            "echo 0 > {}/cgroup.procs && {{ sleep 1000 & sleep 1000 & exec sleep 1000; }}",
            made.0.display()
        );
        let mut child = std::process::Command::new("sh")
            .args(["-c", &script])
            .spawn()
            .unwrap();
        let start = Instant::now();
        while super::super::procs(&made.0).len() < 3 && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(super::super::procs(&made.0).len(), 3);
        V1.kill(&made.0).unwrap();
        assert!(child.wait().unwrap().code().is_none(), "killed by a signal");
        let start = Instant::now();
        while V1.populated(&made.0) && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(!V1.populated(&made.0));
        let state = std::fs::read_to_string(made.0.join("freezer.state")).unwrap();
        assert_eq!(state.trim(), "THAWED");
    }
}
