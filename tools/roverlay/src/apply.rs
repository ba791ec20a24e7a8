//! apply
pub fn apply(_: &std::path::Path, _: &std::path::Path) -> anyhow::Result<()> {
    Ok(())
}
