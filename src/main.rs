//! `paycombat-gateway`: see `cli.rs` for the subcommands.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

/// mimalloc in place of glibc's malloc: a cache hit allocates and frees a dozen small
/// blocks (hyper's request and response, header maps, the response body's box, moka's
/// read record), and its thread-local free lists take about half of glibc's instructions
/// for them (docs/benchmarks.md, "Hit path, third pass", which also measures memory per
/// cached entry under it).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = paycombat_gateway::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::from(70);
        }
    };
    runtime.block_on(paycombat_gateway::cli::run(cli))
}
