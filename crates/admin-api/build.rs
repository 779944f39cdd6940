//! Makes sure `console/dist` exists, so the embedded console compiles before the first
//! `npm run build`, and rebuilds this crate when the built console changes.

fn main() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../console/dist");
    // Best effort: a read-only source tree still builds (the embed allows a missing folder).
    let _ = std::fs::create_dir_all(&dist);
    println!("cargo::rerun-if-changed={}", dist.display());
}
