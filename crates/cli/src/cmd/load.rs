use anyhow::bail;
use prodlike_report::Outcome;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<Outcome> {
    bail!("`prodlike load` is not built yet")
}
