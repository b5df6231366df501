//! Compiles the `.proto` contracts with `protox` (pure Rust), so no system `protoc` is needed.

use std::{env, fs, path::PathBuf};

const PROTOS: &[&str] = &[
    "warden/auth/v1/api_key.proto",
    "warden/auth/v1/auth.proto",
    "warden/auth/v1/dev.proto",
    "warden/auth/v1/passkey.proto",
    "warden/auth/v1/social.proto",
    "warden/auth/v1/two_factor.proto",
    "warden/task/v1/task.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let out = PathBuf::from(env::var("OUT_DIR")?);
    println!("cargo:rerun-if-changed={}", root.join("warden").display());
    println!("cargo:rerun-if-changed={}", root.join("google").display());

    let mut compiler = protox::Compiler::new([&root])?;
    compiler
        .include_source_info(true)
        .include_imports(true)
        .open_files(PROTOS)?;
    // `encode_file_descriptor_set` keeps extension options (`google.api.http`) that a prost re-encode would drop.
    fs::write(
        out.join("warden_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(compiler.file_descriptor_set())?;
    Ok(())
}
