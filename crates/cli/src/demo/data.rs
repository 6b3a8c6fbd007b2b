//! Demo stage: data. Not built yet; the data workstream fills it in.
use super::Context;

pub async fn run(_ctx: &Context) -> anyhow::Result<()> {
    Ok(())
}
