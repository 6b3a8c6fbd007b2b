//! Demo stage: load. Not built yet; the load workstream fills it in.
use super::Context;

pub async fn run(_ctx: &Context) -> anyhow::Result<()> {
    Ok(())
}
