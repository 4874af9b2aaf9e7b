//! `server.trusted_proxies`: the direct peers whose `X-Forwarded-For` chain is
//! believed. Anyone else could write any address into it, so for them the
//! gateway starts the chain afresh with the peer it actually sees.
//!
//! Protocol vocabulary, not a component's setting: the server's
//! `[server]` check parses it, the admit phase names the client behind a
//! trusted proxy with it (the access log's `client_ip`) and upstream keeps or
//! restarts the chain it forwards by the same rule, so the three cannot
//! disagree about whom the gateway believes. It lives here, below all three.

use std::net::IpAddr;

use ipnet::IpNet;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// One entry of `server.trusted_proxies`, or why it is not one.
fn entry(entry: &str) -> Result<IpNet, String> {
    let text = entry.trim();
    let net = match text.parse::<IpNet>() {
        Ok(net) => net,
        Err(_) => text
            .parse::<IpAddr>()
            .map(IpNet::from)
            .map_err(|_| format!("{entry:?} is not an IP address or a CIDR (like 10.0.0.0/8)"))?,
    };
    // "10.0.0.1/8" is either a typo or a misunderstanding; neither should widen trust silently.
    if net.trunc() != net {
        return Err(format!(
            "{entry:?} has host bits set; write the network, {}",
            net.trunc()
        ));
    }
    Ok(net)
}

impl TrustedProxies {
    /// Each entry is a CIDR (`10.0.0.0/8`, `fd00::/8`) or a plain address.
    /// Every bad entry is named, not only the first.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let (nets, bad): (Vec<_>, Vec<_>) =
            entries.iter().map(|e| entry(e)).partition(Result::is_ok);
        if bad.is_empty() {
            Ok(TrustedProxies(nets.into_iter().flatten().collect()))
        } else {
            let reasons: Vec<String> = bad.into_iter().filter_map(Result::err).collect();
            Err(reasons.join("; "))
        }
    }

    pub fn contains(&self, peer: IpAddr) -> bool {
        // A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d.
        let peer = peer.to_canonical();
        self.0.iter().any(|net| net.contains(&peer))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Who the client is, for the access log: the peer itself, unless the peer
    /// is a trusted proxy; then `X-Forwarded-For` is walked right to left (each
    /// hop appends the address it saw), skipping trusted proxies, and the first
    /// address that is not one is the client. An entry that is not an address
    /// stops the walk at the last hop that could be read: what lies left of it
    /// was written by someone no trusted proxy vouches for.
    pub fn client_ip(&self, peer: IpAddr, headers: &http::HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if self.0.is_empty() || !self.contains(client) {
            return client;
        }
        let lines: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .map(|v| v.to_str().unwrap_or(""))
            .collect();
        for entry in lines.iter().rev().flat_map(|l| l.rsplit(',')) {
            let text = entry.trim();
            let text = text
                .strip_prefix('[')
                .and_then(|t| t.strip_suffix(']'))
                .unwrap_or(text);
            let Ok(hop) = text.parse::<IpAddr>() else {
                return client;
            };
            client = hop.to_canonical();
            if !self.contains(client) {
                return client;
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_the_first_untrusted_hop_from_the_right() {
        let proxies = parse(&["10.0.0.0/8", "fd00::/8"]).unwrap();
        let peer: IpAddr = "10.0.0.9".parse().unwrap();
        let with = |lines: &[&str]| {
            let mut h = http::HeaderMap::new();
            for l in lines {
                h.append("x-forwarded-for", l.parse().unwrap());
            }
            proxies.client_ip(peer, &h).to_string()
        };
        // The left-most entry is whatever the client wrote: not believed past a
        // hop no trusted proxy appended.
        assert_eq!(with(&["6.6.6.6, 203.0.113.7, 10.1.1.1"]), "203.0.113.7");
        assert_eq!(with(&["6.6.6.6", "203.0.113.7", "10.1.1.1"]), "203.0.113.7");
        assert_eq!(with(&["[2001:db8::1], fd00::2"]), "2001:db8::1");
        assert_eq!(with(&["203.0.113.7, not-an-ip, 10.1.1.1"]), "10.1.1.1");
        assert_eq!(with(&[]), "10.0.0.9", "no chain: the proxy itself");
        assert_eq!(
            with(&["10.2.2.2"]),
            "10.2.2.2",
            "all trusted: the left-most"
        );
        // An untrusted peer's chain is never read.
        let mut h = http::HeaderMap::new();
        h.insert("x-forwarded-for", "203.0.113.7".parse().unwrap());
        let outsider: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(proxies.client_ip(outsider, &h), outsider);
        assert_eq!(parse(&[]).unwrap().client_ip(peer, &h), peer);
    }

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
    fn every_bad_entry_is_named_at_once() {
        let e = parse(&["10.0.0.0/33", "10.0.0.0/8", "foo", "10.0.0.1/8"]).unwrap_err();
        for named in ["\"10.0.0.0/33\"", "\"foo\"", "\"10.0.0.1/8\""] {
            assert!(e.contains(named), "{named} in {e}");
        }
        assert!(!e.contains("\"10.0.0.0/8\""), "{e}");
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
