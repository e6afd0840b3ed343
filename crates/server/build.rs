//! `web/` is compiled into the binary (`src/http/web.rs`); rebuild when a file in it is added,
//! removed or changed (rust-embed's `include_bytes!` alone notices only changed files).

fn main() {
    println!("cargo:rerun-if-changed=../../web");
}
