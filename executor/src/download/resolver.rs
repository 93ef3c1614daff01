//! Where a download may connect: every address a host resolves to is
//! checked (at connection time, redirects included), so a URL cannot reach
//! a private, loopback or link-local address unless allowed, and plain
//! `http` goes only to loopback.

use std::io;
use std::net::IpAddr;

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// Why the resolver refused a host; carried through ureq as an I/O error.
#[derive(Debug)]
pub(super) struct Refusal(pub(super) String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refusal {}

/// Resolves like ureq does, then refuses hosts with a non-public address
/// (every address must pass) and plain `http` anywhere but on loopback.
/// The connection is made to exactly the addresses checked here, so a DNS
/// answer that changes between check and connect cannot slip through.
#[derive(Debug)]
pub(super) struct CheckedResolver {
    pub(super) allow_private: bool,
    pub(super) inner: DefaultResolver,
}

impl Resolver for CheckedResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let refuse = |reason: String| {
            ureq::Error::Io(io::Error::new(
                io::ErrorKind::PermissionDenied,
                Refusal(reason),
            ))
        };
        let https = uri
            .scheme_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("https"));
        let http = uri
            .scheme_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("http"));
        let plain_http = || {
            refuse(
                "plain http is fetched only from loopback, with --allow-private-urls; use https"
                    .into(),
            )
        };
        if !https && !http {
            return Err(refuse(format!(
                "{} URLs are not fetched (only https)",
                uri.scheme_str().unwrap_or("scheme-less")
            )));
        }
        if http && !self.allow_private {
            return Err(plain_http());
        }
        let addrs = self.inner.resolve(uri, config, timeout)?;
        let host = uri.host().unwrap_or("");
        for addr in addrs.iter() {
            let ip = canonical_ip(addr.ip());
            if let Some(kind) = non_public(ip) {
                if !self.allow_private {
                    let which = if host.trim_matches(['[', ']']).parse::<IpAddr>().is_ok() {
                        format!("{ip} is")
                    } else {
                        format!("{host} resolves to {ip},")
                    };
                    return Err(refuse(format!(
                        "{which} a {kind} address (pass --allow-private-urls to allow it)"
                    )));
                }
            }
            if http && !ip.is_loopback() {
                return Err(plain_http());
            }
        }
        Ok(addrs)
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The kind of a non-public address, or `None` for a public one.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match canonical_ip(ip) {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_private() {
                Some("private")
            } else if v4.is_link_local() {
                Some("link-local")
            } else if v4.is_unspecified() || a == 0 {
                Some("unspecified")
            } else if a == 100 && (64..128).contains(&b) {
                Some("shared (carrier-grade NAT)")
            } else if v4.is_broadcast() || v4.is_multicast() {
                Some("broadcast or multicast")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.is_unique_local() {
                Some("private (unique local)")
            } else if v6.is_unicast_link_local() {
                Some("link-local")
            } else if v6.is_multicast() {
                Some("multicast")
            } else {
                None
            }
        }
    }
}
