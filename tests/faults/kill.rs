//! The kill loop of the fault tests: a command started, killed by PID at a
//! seeded random moment of its run, reaped within a bound, and the
//! processes it left found by a marker in their environment.

use std::io::{Read, Seek};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::harness::{eventually, say};

/// Kills per tool, at least.
const KILLS: usize = 200;
/// Rounds per tool, at most (some end before their kill).
const ROUNDS: usize = 2000;
/// Time per tool, at most.
const BUDGET: Duration = Duration::from_secs(240);

/// One round: a command killed at a moment, or left to finish.
pub struct Round {
    /// Killed before it ended (else it ran to its end first).
    pub killed: bool,
    /// What it wrote on stdout before it ended.
    pub stdout: String,
    /// How long it ran (from the return of spawn), to its end or the kill.
    pub ran: Duration,
}

/// The marker in the environment of every process a round starts, to find
/// those left running after the kill.
fn marker(tool: &str) -> String {
    format!("bxt-faults-{tool}-{}", std::process::id())
}

/// Runs `command` and kills it by PID (still unreaped, so still its PID)
/// after `delay` unless it ended; reaps it within a bound.
fn kill_after(command: &mut Command, tool: &str, delay: Duration) -> Round {
    let mut out = tempfile::tempfile().expect("a temp file for stdout");
    let mut child = command
        .env("BOXUTILS_FAULT", marker(tool))
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("dup"))
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let start = Instant::now();
    // Polled to its end within `delay`, then killed if it still runs.
    let mut killed = false;
    loop {
        if matches!(child.try_wait(), Ok(Some(_))) {
            break;
        }
        let left = delay.saturating_sub(start.elapsed());
        if left.is_zero() {
            let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
            killed = true;
            break;
        }
        std::thread::sleep(left.min(Duration::from_micros(200)));
    }
    let ran = start.elapsed();
    let reaped = eventually(|| matches!(child.try_wait(), Ok(Some(_))));
    assert!(reaped, "{command:?} outlived SIGKILL");
    let mut stdout = String::new();
    out.rewind().expect("rewind");
    out.read_to_string(&mut stdout).expect("read stdout");
    Round {
        killed,
        stdout,
        ran,
    }
}

/// The processes that carry `tool`'s marker: what a killed run left.
fn left_processes(tool: &str) -> Vec<u32> {
    let needle = format!("BOXUTILS_FAULT={}", marker(tool));
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    procs
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|&b| b == 0).any(|var| var == needle.as_bytes()))
        })
        .collect()
}

/// Kills `command()` at seeded random moments until `KILLS` kills; after
/// each round `check` says what is wrong (and cleans up, whatever it
/// finds). Fails naming the rounds that left something; prints the counts.
pub fn kill_loop(
    tool: &str,
    mut command: impl FnMut() -> Command,
    mut check: impl FnMut(&Round) -> Result<(), String>,
) {
    let seed = std::env::var("BOXUTILS_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| u64::from(std::process::id()) ^ 0x5eed);
    let mut rng = fastrand::Rng::with_seed(seed);
    // The length of a whole run, measured: the kills spread over it.
    let start = Instant::now();
    // The median of five whole runs, from the moment the command runs (as
    // the delays count) to its end.
    let mut spans = Vec::new();
    for _ in 0..5 {
        let round = kill_after(&mut command(), tool, Duration::from_secs(10));
        assert!(!round.killed, "{tool}: a whole run took over 10 s");
        spans.push(round.ran);
        check(&round).unwrap_or_else(|e| panic!("{tool}: a whole run: {e}"));
    }
    spans.sort();
    let span = spans[2];
    let span_us = (span.as_micros() as u64).max(200);
    let (mut tried, mut survived, mut rounds) = (0, 0, 0);
    let mut failures = Vec::new();
    while tried < KILLS && rounds < ROUNDS {
        assert!(
            start.elapsed() < BUDGET,
            "{tool}: {tried} kills in {BUDGET:?}, seed {seed}"
        );
        rounds += 1;
        let delay = Duration::from_micros(rng.u64(0..span_us));
        let round = kill_after(&mut command(), tool, delay);
        let mut result = check(&round);
        // A process the killed run started must end with it.
        if !eventually(|| left_processes(tool).is_empty()) {
            let left = left_processes(tool);
            for pid in &left {
                let _ = kill(Pid::from_raw(*pid as i32), Signal::SIGKILL);
            }
            result = result.and(Err(format!("processes left running: {left:?}")));
        }
        if round.killed {
            tried += 1;
            survived += usize::from(result.is_ok());
        }
        if let Err(e) = result {
            failures.push(format!("after {delay:?} (killed: {}): {e}", round.killed));
        }
    }
    say(&format!(
        "faults: {tool}: {tried} kill points tried, {survived} survived, {rounds} rounds, seed {seed}, spread over {span_us} µs"
    ));
    assert!(
        failures.is_empty(),
        "{tool}: {} of {rounds} rounds left something (seed {seed}):\n{}",
        failures.len(),
        failures
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        tried >= KILLS,
        "{tool}: only {tried} kills in {rounds} rounds"
    );
}
