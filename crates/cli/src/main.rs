//! The `prodlike` binary: parses arguments, wires the capability crates together and maps
//! outcomes to exit codes (0 success, 1 finding, 2 usage or input error, 3 inconclusive). No
//! logic of its own.
#![forbid(unsafe_code)]

mod cmd;
mod demo;
mod logging;

use std::process::ExitCode;

// Masking, JSON rewriting and proxying allocate many short-lived small values from several
// threads; mimalloc's thread-local free lists cut the allocator's share of `data sync` CPU (see
// docs/data.md, Throughput).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Turns transparent huge pages off for this process before the work allocates. mimalloc asks
/// for huge pages on its arenas, and a streaming copy frees and refaults its buffers all the
/// time: each refault of a huge page clears 2 MiB, after a direct compaction where the kernel's
/// `defrag` says so. That was 11% of a dump's samples, and its system time swung from 0.18 to
/// 0.39 s with the kernel's memory; without huge pages it is 0.13-0.16 s, the user time about
/// 0.1 s more (TLB misses), the dump's and the sync's wall 1-10% lower (docs/data.md, "Huge
/// pages"). The flag is the process's, so it holds on kernels set to `always` too; a kernel
/// without the call changes nothing.
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
}

use clap::{Parser, Subcommand};
use prodlike_report::Outcome;

#[derive(Parser)]
#[command(
    name = "prodlike",
    version,
    about = "Make staging statistically production-like, and prove it"
)]
struct Cli {
    /// Log filter, e.g. `info`, `prodlike_shadow=debug` (also PRODLIKE_LOG).
    #[arg(long, global = true, env = "PRODLIKE_LOG", default_value = "info")]
    log: String,
    /// Exit 0 instead of 3 when a result is inconclusive (nothing found, something undecided),
    /// for pipelines that accept it. A finding still exits 1.
    #[arg(long, global = true)]
    allow_inconclusive: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Reverse proxy that mirrors a sampled share of production traffic to staging.
    Shadow(cmd::shadow::Args),
    /// Open-model burst load with honest latency.
    Load(Box<cmd::load::Args>),
    /// Profile, subset, mask, synthesise and verify staging data.
    Data(cmd::data::Args),
    /// Configuration and schema drift between environments.
    Drift(cmd::drift::Args),
    /// Does staging predict production? Calibrated verdicts per route and metric.
    Compare(cmd::compare::Args),
    /// Prometheus rules that watch staging against production continuously, with rule tests.
    Alerts(cmd::alerts::Args),
    /// One fidelity score for staging from prodlike's results, with history and a CI gate.
    Report(cmd::report::Args),
    /// Run every stage against in-process sample services; needs nothing installed.
    Demo(demo::Args),
}

fn main() -> ExitCode {
    no_huge_pages();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    // The demo tells its own story on stdout; keep its logs to warnings unless asked.
    let demo_default = matches!(cli.command, Command::Demo(_))
        && cli.log == "info"
        && std::env::var_os("PRODLIKE_LOG").is_none();
    logging::init(if demo_default { "warn" } else { &cli.log });
    let result = match cli.command {
        Command::Shadow(args) => cmd::shadow::run(args),
        Command::Load(args) => cmd::load::run(*args),
        Command::Data(args) => cmd::data::run(args),
        Command::Drift(args) => cmd::drift::run(args),
        Command::Compare(args) => cmd::compare::run(args),
        Command::Alerts(args) => cmd::alerts::run(args),
        Command::Report(args) => cmd::report::run(args),
        Command::Demo(args) => demo::run(args),
    };
    match result {
        Ok(outcome) if cli.allow_inconclusive => {
            ExitCode::from(outcome.exit_code_allowing_inconclusive())
        }
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(e) => {
            // Every layer once: our errors name their cause only as a source, and the chain
            // printer also drops a foreign layer that repeats its own cause (tokio-postgres).
            eprintln!("error: {}", prodlike_common::error::chain(e.as_ref()));
            ExitCode::from(Outcome::Error.exit_code())
        }
    }
}
