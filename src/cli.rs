//! Subcommands: `serve` (default), `demo`, `sandbox`, `check-config`, `mask`, `hash-key`.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config;
use crate::config_dir::check;
pub use crate::config_dir::{ConfigArgs, DEFAULT_CONFIG_DIR};
use crate::lifecycle::run_until_signal;
pub use crate::lifecycle::EXIT_CONFIG;

#[derive(Parser, Debug)]
#[command(
    name = "paycombat-gateway",
    version = crate::build::VERSION_LINE,
    about = "Caching, credential-holding, PII-masking gateway to paycombat's API",
    // `paycombat-gateway --listen X` is `serve --listen X`: serve's flags are
    // accepted without the subcommand name, as the usage line says.
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// `serve`'s flags, when no subcommand is named.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Load the config, listen and proxy (the default).
    Serve(ServeArgs),
    /// Run the built-in sandbox upstream and the gateway in front of it, with demo credentials.
    Demo(ListenArgs),
    /// Run the sandbox upstream alone.
    Sandbox {
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: SocketAddr,
    },
    /// Validate the configuration, with the same layers `serve` reads (its flags
    /// included): exit 0, or print what is wrong and exit 64.
    CheckConfig(ServeArgs),
    /// Mask a JSON body (stdin or a file) as `serve` would: masked body on stdout,
    /// per-rule counts on stderr; exit 2 with the reason where `serve` answers 502.
    Mask(crate::mask_cli::MaskArgs),
    /// Print the SHA-256 hash of a client key read from stdin (for the clients file),
    /// or with --generate, a new random key and its hash.
    HashKey {
        /// Generate a new random client key (`pcgw_…`) and print it with its hash,
        /// instead of reading a key from stdin.
        #[arg(long)]
        generate: bool,
    },
}

#[derive(Args, Debug, Default)]
pub struct ListenArgs {
    /// Overrides `server.listen`.
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Overrides `admin.listen`.
    #[arg(long)]
    pub admin_listen: Option<SocketAddr>,
}

impl ListenArgs {
    /// The flags as the top configuration layer: `(dotted key, value)`.
    pub fn flags(&self) -> Vec<(String, String)> {
        [
            ("server.listen", self.listen),
            ("admin.listen", self.admin_listen),
        ]
        .into_iter()
        .filter_map(|(key, addr)| Some((key.to_owned(), addr?.to_string())))
        .collect()
    }
}

#[derive(Args, Debug, Default)]
pub struct ServeArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub listen: ListenArgs,
}

pub async fn run(cli: Cli) -> ExitCode {
    match cli.command.unwrap_or(Command::Serve(cli.serve)) {
        Command::Serve(args) => serve(args).await,
        Command::Demo(args) => crate::demo::run(args.listen, args.admin_listen).await,
        Command::Sandbox { listen } => crate::demo::sandbox_alone(listen).await,
        Command::CheckConfig(args) => check_config(&args).await,
        Command::Mask(args) => crate::mask_cli::run(args),
        Command::HashKey { generate } => hash_key(generate),
    }
}

/// The config pass over the layers `serve` would read (its flags the top one), then
/// every start-up check that the sections which validated allow: all problems in one
/// list.
async fn check_config(args: &ServeArgs) -> ExitCode {
    for warning in crate::env_names::in_environment() {
        eprintln!("warning: {warning}");
    }
    let (partial, mut problems) = check(&args.config, args.listen.flags());
    // Cluster mode: the Redis itself (reachable, password accepted), once its
    // files read. Not a start-up problem for `serve`, which starts without
    // Redis and keeps trying; asked here because an operator checking a
    // config wants to know.
    if !problems.iter().any(|p| p.key.starts_with("cluster.")) {
        problems.extend(config::files::cluster_reachable(&partial).await);
    }
    if problems.is_empty() {
        println!("configuration is valid");
        ExitCode::SUCCESS
    } else {
        eprintln!("{}", config::ConfigError::new(problems));
        ExitCode::from(EXIT_CONFIG)
    }
}

/// The same pass as `check-config` (flags applied as the top layer, before
/// anything is validated): every start-up problem at once, or the app.
async fn serve(args: ServeArgs) -> ExitCode {
    let (partial, problems) = check(&args.config, args.listen.flags());
    // What a configuration reload reads again.
    let layers = args.config.layers(args.listen.flags());
    let settings = match (problems.is_empty(), partial.complete()) {
        (true, Some(s)) => s,
        (_, _) => {
            // No logger yet: the likely cause of a wrong setting goes with it.
            for warning in crate::env_names::in_environment() {
                eprintln!("warning: {warning}");
            }
            let problems = if problems.is_empty() {
                vec![config::Problem::new(
                    "configuration",
                    "rejected without a reason (a defect in the gateway)",
                )]
            } else {
                problems
            };
            eprintln!("{}", config::ConfigError::new(problems));
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    crate::logging::init(&settings.log);
    for warning in crate::env_names::in_environment() {
        tracing::warn!("{warning}");
    }
    run_until_signal(settings, layers).await
}

fn hash_key(generate: bool) -> ExitCode {
    let key = if generate {
        crate::auth::generate_key()
    } else {
        let mut line = String::new();
        if std::io::stdin().read_line(&mut line).is_err() || line.trim().is_empty() {
            eprintln!("paste the client key on stdin (or use --generate)");
            return ExitCode::from(EXIT_CONFIG);
        }
        line.trim().to_owned()
    };
    let hash = crate::auth::hash_key(&key);
    if generate {
        println!("key:    {key}\nsha256: {hash}\n\nGive the key to the service; put the sha256 in its keys_sha256 list.");
    } else {
        println!("{hash}");
    }
    ExitCode::SUCCESS
}
