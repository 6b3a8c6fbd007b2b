//! Demo stage: shadow. Not built yet; the shadow workstream fills it in.
use super::Context;

pub async fn run(_ctx: &Context) -> anyhow::Result<()> {
    Ok(())
}
