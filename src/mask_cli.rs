//! `mask`: run one JSON body through the gateway's inspection offline.
//!
//! Operators use it to see what a rule change does to a real body, or why
//! paycombat's answer was refused, without sending traffic. It loads the
//! configuration exactly as `serve` does and applies the same steps as the
//! response path on a route that is not declared passthrough: the body limit
//! on the wire bytes, the one content-coding undone strictly, strict JSON
//! parsing and masking with the configured rules and HMAC key, then the
//! secret reflection guard on the bytes a client would receive. It reads and
//! validates only what that needs (`[mask]`, `[upstream]`): no clients file,
//! and for a dry run no HMAC key (see [`Inspector::dry_run`]). Where
//! `serve` would answer 502, `mask` prints the same code and reason and
//! exits 2; nothing of the body is printed then.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use bytes::Bytes;
use clap::Args;
use http::{header, HeaderMap, HeaderValue};

use crate::config_dir::ConfigArgs;
use crate::credentials::CredentialFiles;
use crate::error::GatewayError;
use crate::inspect::reflect::Secrets;
use crate::lifecycle::EXIT_CONFIG;
use crate::mask::MaskSettings;
use crate::reload::Load;

/// Exit code when `serve` would refuse the body (the gateway's 502).
pub const EXIT_REFUSED: u8 = 2;

#[derive(Args, Debug, Default)]
pub struct MaskArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The upstream's `Content-Encoding` for the body (`gzip`, `deflate`, `br`,
    /// `identity`); without it the body is read as sent uncompressed.
    #[arg(long, value_name = "CODING")]
    pub content_encoding: Option<String>,
    /// The request path the body answers (`/api/v1/payin/retrieve-payin/x`): it picks the
    /// route family whose field policy (`[mask.policy]`) applies. Without it the body is
    /// masked under the `other` family's policy.
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,
    /// The request method, with `--path` (default GET).
    #[arg(long, value_name = "METHOD", default_value = "GET")]
    pub method: String,
    /// Read the body from this file instead of stdin (`-` is stdin).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
}

impl MaskArgs {
    /// The route whose field policy masks the body; `other` without `--path`.
    pub fn route(&self) -> Result<crate::route::Route, String> {
        let Some(path) = &self.path else {
            return Ok(crate::route::Route::Passthrough {
                family: crate::route::Family::Other,
            });
        };
        let method = http::Method::from_bytes(self.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| format!("--method {:?} is not an HTTP method", self.method))?;
        if !path.starts_with(crate::route::API_PREFIX) {
            return Err(format!(
                "--path {path:?} must start with {}",
                crate::route::API_PREFIX
            ));
        }
        Ok(crate::route::Route::classify(&method, path))
    }

    /// The family whose field policy masks the body: chosen by the path alone, as the gateway
    /// chooses it ([`PolicyFamily::of_path`]); the method is checked, never used to choose.
    pub fn family(&self) -> Result<crate::mask::policy::PolicyFamily, String> {
        let route = self.route()?;
        Ok(match &self.path {
            Some(path) => crate::mask::policy::PolicyFamily::of_path(path),
            None => crate::mask::policy::PolicyFamily::of(&route),
        })
    }
}

/// What `mask` made of a body.
#[derive(Debug)]
pub struct Outcome {
    pub body: Bytes,
    /// `(rule name, values masked)` for every rule that fired, in rule order.
    pub counts: Vec<(String, u64)>,
}

pub fn run(args: MaskArgs) -> ExitCode {
    let (mask, upstream, limits) = match load(&args.config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let family = match args.family() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let inspector = match Inspector::dry_run(&mask, &upstream, &limits) {
        Ok(i) => i.for_family(family),
        Err(e) => {
            eprintln!("cannot mask: {e:#}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if !mask.enabled {
        eprintln!(
            "warning: masking is disabled (mask.enabled = false): the body is printed unmasked"
        );
    }
    if inspector.throwaway_key {
        eprintln!(
            "warning: no mask.hmac_key_file is set: `hmac` rules use a random throwaway key for \
             this run, so their digests differ from every run and from the gateway's; set \
             GATEWAY__MASK__HMAC_KEY_FILE to reproduce the gateway's digests"
        );
    }
    let limit = limits.max_response_body_bytes;
    let raw = match read_input(args.file.as_deref(), limit) {
        Ok(Some(raw)) => raw,
        Ok(None) => {
            return refused(&GatewayError::Unmaskable {
                reason: "too_large",
            })
        }
        Err(e) => {
            eprintln!("cannot read the body: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    match inspector.inspect(args.content_encoding.as_deref(), &raw) {
        Ok(out) => {
            let mut stderr = std::io::stderr().lock();
            for (name, n) in &out.counts {
                let _ = writeln!(stderr, "masked {name}: {n}");
            }
            let total: u64 = out.counts.iter().map(|(_, n)| n).sum();
            let _ = writeln!(stderr, "masked values: {total}");
            // What an operator declares before moving the family to `enforce`.
            let family = inspector.family();
            let listing = mask.policies.undeclared().listing();
            if let Some(f) = listing.families.get(family.index()) {
                for (path, n) in &f.paths {
                    let _ = writeln!(stderr, "undeclared {} {path}: {n}", family.label());
                }
            }
            let mut stdout = std::io::stdout().lock();
            if stdout
                .write_all(&out.body)
                .and_then(|()| stdout.write_all(b"\n"))
                .and_then(|()| stdout.flush())
                .is_err()
            {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => refused(&e),
    }
}

/// The `[mask]` and `[upstream]` settings (the rules and key; the body limit
/// and the secrets the guard scans for), layered as `serve` layers them, and
/// no other section: a problem elsewhere (no clients file, a bad listen
/// address) is `serve`'s, not the dry run's. The mask key is read when one is
/// configured (the dry run makes a throwaway key when none is).
fn load(
    args: &ConfigArgs,
) -> Result<
    (
        MaskSettings,
        crate::upstream::config::UpstreamSettings,
        crate::inspect::InspectLimits,
    ),
    crate::problems::ConfigError,
> {
    use crate::config::Section;
    use crate::problems::{ConfigError, Problem};
    let (partial, mut problems) =
        crate::config_dir::check_sections(args, &[Section::Upstream, Section::Mask]);
    if let Some(mask) = partial.mask.as_ref().filter(|m| m.hmac_key_file.is_some()) {
        problems.extend(crate::config::files::mask_key(mask).and_then(Result::err));
    }
    match (
        problems.is_empty(),
        partial.mask,
        partial.upstream.zip(partial.inspect),
    ) {
        (true, Some(mask), Some((upstream, limits))) => Ok((mask, upstream, limits)),
        (true, _, _) => Err(ConfigError::new(vec![Problem::new(
            "configuration",
            "rejected without a reason (a defect in the gateway)",
        )])),
        (false, _, _) => Err(ConfigError::new(problems)),
    }
}

fn refused(e: &GatewayError) -> ExitCode {
    eprintln!(
        "refused: {} {}: {e}",
        e.status().as_u16(),
        match e {
            GatewayError::Unmaskable { reason } => format!("{} ({reason})", e.code()),
            _ => e.code().to_owned(),
        }
    );
    ExitCode::from(EXIT_REFUSED)
}

/// Reads at most `limit` bytes; `None` when there were more (the wire limit
/// `serve` applies before decoding).
fn read_input(file: Option<&std::path::Path>, limit: usize) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    match file.filter(|p| p.as_os_str() != "-") {
        Some(p) => std::fs::File::open(p)?.take(cap).read_to_end(&mut buf)?,
        None => std::io::stdin().lock().take(cap).read_to_end(&mut buf)?,
    };
    Ok((buf.len() <= limit).then_some(buf))
}

/// The response path's inspection, for one body at a time.
pub struct Inspector {
    /// The family of the path the body answers: its field policy applies.
    family: crate::mask::policy::PolicyFamily,
    masker: Option<std::sync::Arc<crate::mask::Masker>>,
    secrets: Secrets,
    limit: usize,
    /// `hmac` rules run with a random key made for this run (none configured).
    pub throwaway_key: bool,
}

impl Inspector {
    /// Builds the masker and loads the secrets the guard scans for, as
    /// `serve` does at start. The upstream credentials are optional here (no
    /// token configured: only the mask key is scanned for), but configured
    /// and unreadable is an error, as it is for `serve`. With no
    /// `mask.hmac_key_file` at all, `hmac` rules get a random throwaway key
    /// (`throwaway_key`): a dry run shows what is masked and how, and needs
    /// no production secret; a key file that is set but unreadable is still
    /// an error.
    pub fn dry_run(
        mask: &MaskSettings,
        upstream: &crate::upstream::config::UpstreamSettings,
        limits: &crate::inspect::InspectLimits,
    ) -> anyhow::Result<Inspector> {
        let mut throwaway_key = false;
        let (masker, mask_key) = match crate::app::build_masker(mask) {
            Ok(built) => built,
            Err(problem) if mask.hmac_key_file.is_none() => {
                let mut key = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
                let masker = crate::mask::Masker::new(mask, Some(&key))
                    .map_err(|_| anyhow::anyhow!("{problem}"))?;
                throwaway_key = true;
                (
                    Some(std::sync::Arc::new(masker)),
                    Some(key.to_vec().into_boxed_slice()),
                )
            }
            Err(problem) => return Err(anyhow::anyhow!("{problem}")),
        };
        let loaded = match upstream.token {
            Some(_) => Some(
                CredentialFiles::new(upstream.token.clone(), upstream.signature_key.clone())
                    .load()?,
            ),
            None => None,
        };
        let mut list: Vec<&[u8]> = Vec::with_capacity(3);
        if let Some(c) = &loaded {
            list.push(c.token.as_bytes());
            if let Some(k) = &c.signature_key {
                use secrecy::ExposeSecret;
                list.push(k.expose_secret());
            }
        }
        if let Some(k) = &mask_key {
            list.push(k);
        }
        Ok(Inspector {
            family: crate::mask::policy::PolicyFamily::Other,
            secrets: Secrets::new(list),
            masker,
            limit: limits.max_response_body_bytes,
            throwaway_key,
        })
    }

    /// Inspects bodies under `family`'s field policy.
    pub fn for_family(mut self, family: crate::mask::policy::PolicyFamily) -> Inspector {
        self.family = family;
        self
    }

    /// The policy family bodies are inspected under.
    pub fn family(&self) -> crate::mask::policy::PolicyFamily {
        self.family
    }

    /// `content_encoding`: the header value the body came with, if any.
    pub fn inspect(
        &self,
        content_encoding: Option<&str>,
        raw: &[u8],
    ) -> Result<Outcome, GatewayError> {
        let unmaskable = |reason: &'static str| GatewayError::Unmaskable { reason };
        if raw.len() > self.limit {
            return Err(unmaskable("too_large"));
        }
        let mut headers = HeaderMap::new();
        if let Some(v) = content_encoding {
            let v = HeaderValue::from_str(v).map_err(|_| unmaskable("bad_encoding"))?;
            headers.insert(header::CONTENT_ENCODING, v);
        }
        let framing = crate::http::framing::framing(&headers).map_err(unmaskable)?;
        let decoded = crate::http::decode(framing.encoding, raw, self.limit)
            .map_err(|e| unmaskable(e.reason()))?;
        let mut unescaped = Vec::new();
        let (body, counts) = match (&self.masker, decoded.is_empty()) {
            (Some(masker), false) => {
                let masked = masker
                    .mask_for(&decoded, self.family())
                    .map_err(|e| unmaskable(e.reason()))?;
                let mut counts: Vec<(String, u64)> = masker
                    .masked_fields(&masked)
                    .map(|(name, n)| (name.to_owned(), n))
                    .collect();
                if masked.by_policy() > 0 {
                    counts.push(("(field policy)".to_owned(), u64::from(masked.by_policy())));
                }
                unescaped = masked.unescaped().to_vec();
                (masked.body, counts)
            }
            // Masking off (`mask.enabled = false`) or nothing to mask.
            _ => (decoded, Vec::new()),
        };
        if self.secrets.in_bytes(&body) || self.secrets.in_bytes(&unescaped) {
            return Err(GatewayError::SecretReflected);
        }
        Ok(Outcome { body, counts })
    }
}

#[cfg(test)]
mod tests {
    use super::MaskArgs;
    use crate::mask::policy::PolicyFamily;

    fn family(path: Option<&str>, method: &str) -> Result<PolicyFamily, String> {
        let args = MaskArgs {
            path: path.map(str::to_owned),
            method: method.to_owned(),
            ..MaskArgs::default()
        };
        args.family()
    }

    #[test]
    fn path_and_method_pick_the_policy_family() {
        assert_eq!(family(None, "GET"), Ok(PolicyFamily::Other));
        assert_eq!(
            family(Some("/api/v1/customer/customer/customer_1"), "GET"),
            Ok(PolicyFamily::CustomerDetail)
        );
        // The policy belongs to the path: a DELETE (or a POST carrying a method override) of
        // the detail's path is judged as the detail, as the gateway judges it.
        for method in ["delete", "POST", "put"] {
            assert_eq!(
                family(Some("/api/v1/customer/customer/customer_1"), method),
                Ok(PolicyFamily::CustomerDetail),
                "{method}"
            );
        }
        assert_eq!(
            family(Some("/api/v1/customer/update"), "PATCH"),
            Ok(PolicyFamily::Customer)
        );
        assert_eq!(
            family(Some("/api/v1/payin/retrieve-payin/p1"), "GET"),
            Ok(PolicyFamily::Payin)
        );
        assert!(family(Some("/health"), "GET").is_err());
        assert!(family(Some("/api/v1/payin/x"), "GE T").is_err());
    }
}
