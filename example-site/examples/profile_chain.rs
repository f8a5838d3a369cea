//! Calls the site's default chain in a loop, in process, for profilers
//! (`valgrind --tool=callgrind target/release/examples/profile_chain 20000 / [SETTINGS]`).

use std::sync::Arc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let path = std::env::args().nth(2).unwrap_or_else(|| "/".to_owned());
    let settings_path = std::env::args().nth(3).map(std::path::PathBuf::from);
    let settings = example_site::load_settings(settings_path.as_deref())?;
    let registry = example_site::registry_with_printer(Arc::new(|_: &str| {}));
    let chain = example_site::build_chain_with(&registry, &settings)?;
    let rt = tokio::runtime::Builder::new_current_thread().build()?;
    rt.block_on(async {
        let mut bytes = 0usize;
        for _ in 0..n {
            let mut request = http::Request::get(path.as_str())
                .header("host", "127.0.0.1")
                .body(middleware_core::Body::empty())?;
            let response = chain.handle(&mut request).await;
            bytes += response.body().as_bytes().map_or(0, |b| b.len());
        }
        println!("{n} requests, {bytes} body bytes");
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}
