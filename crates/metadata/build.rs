//! Rebuilds when a migration is added or changed: `sqlx::migrate!` embeds them at compile
//! time but cannot tell Cargo about new files.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
