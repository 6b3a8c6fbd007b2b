//! `prodlike demo`: every capability run against in-process sample services, so a fresh machine
//! with nothing installed sees the whole product. Each stage lives in its own file and writes
//! its JSON result into the demo's output folder.
mod compare;
mod data;
mod drift;
mod load;
mod plans;
mod report;
mod shadow;

use std::any::Any;
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::Context as _;
use prodlike_report::Outcome;

#[derive(clap::Args)]
pub struct Args {
    /// Folder for the stages' JSON results and reports.
    #[arg(long, default_value = "prodlike-demo")]
    pub out_dir: PathBuf,
    /// Keep the sample services and the shadow dashboard running after the stages, until Ctrl-C.
    #[arg(long)]
    pub serve: bool,
}

/// What every stage gets.
pub struct Context {
    pub out_dir: PathBuf,
    pub serve: bool,
    /// Services a stage leaves running for `--serve` (dropped when the demo ends).
    pub keep_alive: Mutex<Vec<Box<dyn Any + Send>>>,
}

impl Context {
    /// Keeps `thing` alive until the demo ends.
    pub fn keep(&self, thing: impl Any + Send) {
        if let Ok(mut v) = self.keep_alive.lock() {
            v.push(Box::new(thing));
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("creating the demo folder {}", args.out_dir.display()))?;
    let ctx = Context {
        out_dir: args.out_dir,
        serve: args.serve,
        keep_alive: Mutex::new(Vec::new()),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async {
        // The demo shows findings on purpose (planted differences); it succeeds when every
        // stage ran, so its exit code is 0 unless a stage failed to run.
        shadow::run(&ctx).await.context("demo stage: shadow")?;
        load::run(&ctx).await.context("demo stage: load")?;
        compare::run(&ctx).await.context("demo stage: compare")?;
        data::run(&ctx).await.context("demo stage: data")?;
        plans::run(&ctx).await.context("demo stage: plans")?;
        drift::run(&ctx).await.context("demo stage: drift")?;
        report::run(&ctx).await.context("demo stage: report")?;
        println!("\nResults written to {}/", ctx.out_dir.display());
        if ctx.serve {
            println!("Serving the sample services and the shadow dashboard until Ctrl-C…");
            prodlike_shadow::shutdown_signal().await;
        }
        Ok(Outcome::Success)
    })
}
