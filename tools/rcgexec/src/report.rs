//! What the command used, on stderr: an OOM kill, --stats after it ends,
//! --monitor lines while it runs; text or JSON (-J). A figure the kernel
//! does not give is said to be unavailable (null), never shown as 0.

use std::io::Write as _;
use std::time::Instant;

use common::cgroup::Usage;
use nix::sys::signal::Signal;
use nix::sys::wait::WaitStatus;
use serde_json::json;

use crate::parse::human;
use crate::Run;

/// Says that the memory limit killed the command (or a process of it),
/// from the oom_kill counter.
pub fn oom(plan: &Run, usage: &Usage, status: WaitStatus) {
    let (Some(kills), Some(limit)) = (usage.oom_kills, plan.limits.memory) else {
        return;
    };
    if kills == 0 {
        return;
    }
    let given = plan
        .given
        .iter()
        .find(|(l, _)| *l == common::cgroup::Limit::Memory)
        .and_then(|(_, g)| g.strip_prefix("--memory "))
        .map_or_else(|| human(limit), str::to_string);
    let program = crate::job::program(plan);
    let text = if matches!(status, WaitStatus::Signaled(_, Signal::SIGKILL, _)) {
        format!("rcgexec: {program} was killed by the memory limit ({given})")
    } else {
        format!("rcgexec: the memory limit ({given}) killed {kills} process(es) of {program}")
    };
    let _ = writeln!(std::io::stderr(), "{text}");
}

fn seconds(usec: Option<u64>) -> Option<f64> {
    usec.map(|u| u as f64 / 1e6)
}

/// --stats: CPU user and system time, peak memory, peak tasks, OOM kills.
/// `has` says whether the job had a controller (for why a figure is missing).
pub fn stats(usage: &Usage, json: bool, has: impl Fn(&str) -> bool) -> anyhow::Result<()> {
    std::io::stderr()
        .lock()
        .write_all(stats_text(usage, json, has).as_bytes())?;
    Ok(())
}

/// The lines [`stats`] prints.
fn stats_text(usage: &Usage, json: bool, has: impl Fn(&str) -> bool) -> String {
    if json {
        let value = json!({
            "cpu_user_seconds": seconds(usage.cpu_user_usec),
            "cpu_system_seconds": seconds(usage.cpu_system_usec),
            "cpu_seconds": seconds(usage.cpu_usec),
            "memory_peak_bytes": usage.memory_peak,
            "tasks_peak": usage.tasks_peak,
            "oom_kills": usage.oom_kills,
        });
        return format!("{value}\n");
    }
    let why = |controller: &str| {
        if has(controller) {
            "unavailable (this kernel does not count it)".to_string()
        } else {
            format!("unavailable (no {controller} controller)")
        }
    };
    let cpu_controller = if has("cpuacct") { "cpuacct" } else { "cpu" };
    let time = |usec| seconds(usec).map_or_else(|| why(cpu_controller), |s| format!("{s:.3}s"));
    let figures = [
        ("cpu user", time(usage.cpu_user_usec)),
        ("cpu system", time(usage.cpu_system_usec)),
        (
            "memory peak",
            usage
                .memory_peak
                .map_or_else(|| why("memory"), |b| format!("{} ({b} bytes)", human(b))),
        ),
        (
            "tasks peak",
            usage
                .tasks_peak
                .map_or_else(|| why("pids"), |n| n.to_string()),
        ),
        (
            "oom kills",
            usage
                .oom_kills
                .map_or_else(|| why("memory"), |n| n.to_string()),
        ),
    ];
    figures
        .iter()
        .map(|(what, value)| format!("rcgexec: {what}: {value}\n"))
        .collect()
}

/// --monitor: a line every interval, with the CPU use since the last.
pub struct Monitor {
    json: bool,
    memory_limit: Option<u64>,
    start: Instant,
    last: Option<(Instant, u64)>,
}

impl Monitor {
    pub fn new(json: bool, memory_limit: Option<u64>) -> Monitor {
        let now = Instant::now();
        Monitor {
            json,
            memory_limit,
            start: now,
            last: Some((now, 0)),
        }
    }

    pub fn tick(&mut self, usage: Usage) {
        let now = Instant::now();
        let cpu = match (self.last, usage.cpu_usec) {
            (Some((then, before)), Some(total)) => {
                let wall = now.duration_since(then).as_secs_f64();
                Some(total.saturating_sub(before) as f64 / 1e6 / wall.max(1e-6) * 100.0)
            }
            _ => None,
        };
        self.last = usage.cpu_usec.map(|total| (now, total));
        let elapsed = now.duration_since(self.start).as_secs_f64();
        let line = if self.json {
            json!({
                "seconds": (elapsed * 1000.0).round() / 1000.0,
                "cpu_percent": cpu.map(|c| (c * 10.0).round() / 10.0),
                "memory_bytes": usage.memory,
                "memory_limit_bytes": self.memory_limit,
                "tasks": usage.tasks,
            })
            .to_string()
        } else {
            let na = || "unavailable".to_string();
            let memory = usage.memory.map_or_else(na, |m| match self.memory_limit {
                Some(limit) => format!("{} / {}", human(m), human(limit)),
                None => human(m),
            });
            format!(
                "rcgexec: {elapsed:.1}s cpu {} memory {memory} tasks {}",
                cpu.map_or_else(na, |c| format!("{c:.1}%")),
                usage.tasks.map_or_else(na, |t| t.to_string()),
            )
        };
        let _ = writeln!(std::io::stderr(), "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_figure_is_unavailable_and_says_why() {
        let usage = Usage {
            cpu_user_usec: Some(391_000),
            cpu_system_usec: Some(4_000),
            tasks_peak: Some(3),
            oom_kills: Some(0),
            ..Usage::default()
        };
        assert_eq!(
            stats_text(&usage, false, |c| c == "pids"),
            "rcgexec: cpu user: 0.391s\n\
             rcgexec: cpu system: 0.004s\n\
             rcgexec: memory peak: unavailable (no memory controller)\n\
             rcgexec: tasks peak: 3\n\
             rcgexec: oom kills: 0\n"
        );
        let has_all = stats_text(&usage, false, |_| true);
        assert!(has_all.contains("memory peak: unavailable (this kernel does not count it)"));
        let json: serde_json::Value =
            serde_json::from_str(&stats_text(&usage, true, |_| true)).unwrap();
        assert_eq!(json["memory_peak_bytes"], serde_json::Value::Null);
        assert_eq!(json["tasks_peak"], 3);
        assert_eq!(json["cpu_user_seconds"], 0.391);
    }
}
