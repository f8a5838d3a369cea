//! TEMP stub
use http::HeaderMap;
/// stub
#[derive(Debug, thiserror::Error)]
#[error("bad host")]
pub struct HostError;
/// stub
pub fn get_host(
    h: &HeaderMap,
    _x: bool,
    _a: &[String],
    _d: bool,
    _f: Option<&str>,
) -> Result<String, HostError> {
    h.get("host")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or(HostError)
}
