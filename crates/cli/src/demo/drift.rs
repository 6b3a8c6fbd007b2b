//! Demo stage: drift. Not built yet; the drift workstream fills it in.
use super::Context;

pub async fn run(_ctx: &Context) -> anyhow::Result<()> {
    Ok(())
}
