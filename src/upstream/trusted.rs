//! `server.trusted_proxies`: the direct peers whose `X-Forwarded-For` chain is
//! believed. Anyone else could write any address into it, so for them the
//! gateway starts the chain afresh with the peer it actually sees.

use std::net::IpAddr;

use ipnet::IpNet;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Each entry is a CIDR (`10.0.0.0/8`, `fd00::/8`) or a plain address.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let mut nets = Vec::with_capacity(entries.len());
        for entry in entries {
            let text = entry.trim();
            let net = match text.parse::<IpNet>() {
                Ok(net) => net,
                Err(_) => text.parse::<IpAddr>().map(IpNet::from).map_err(|_| {
                    format!("{entry:?} is not an IP address or a CIDR (like 10.0.0.0/8)")
                })?,
            };
            // "10.0.0.1/8" is either a typo or a misunderstanding; neither should widen trust silently.
            if net.trunc() != net {
                return Err(format!(
                    "{entry:?} has host bits set; write the network, {}",
                    net.trunc()
                ));
            }
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    pub fn contains(&self, peer: IpAddr) -> bool {
        // A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d.
        let peer = peer.to_canonical();
        self.0.iter().any(|net| net.contains(&peer))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(entries: &[&str]) -> Result<TrustedProxies, String> {
        TrustedProxies::parse(&entries.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn cidrs_and_plain_addresses() {
        let t = parse(&["10.0.0.0/8", "192.168.1.7", "fd00::/8", "::1"]).unwrap();
        for yes in [
            "10.1.2.3",
            "192.168.1.7",
            "fd00::5",
            "::1",
            "::ffff:10.9.9.9",
        ] {
            assert!(t.contains(yes.parse().unwrap()), "{yes}");
        }
        for no in ["11.0.0.1", "192.168.1.8", "fe80::1", "127.0.0.1"] {
            assert!(!t.contains(no.parse().unwrap()), "{no}");
        }
    }

    #[test]
    fn empty_trusts_nobody() {
        let t = parse(&[]).unwrap();
        assert!(t.is_empty());
        assert!(!t.contains("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn bad_entries_are_refused() {
        for bad in [
            "",
            "nope",
            "10.0.0.0/33",
            "10.0.0.1/8",
            "10.0.0",
            "*",
            "10.0.0.0/8,11.0.0.0/8",
        ] {
            assert!(parse(&[bad]).is_err(), "{bad:?}");
        }
    }
}
