//! Client addresses behind proxies: which peers are trusted to say who the
//! client is (`--trusted-proxies`), and who it is by their `X-Forwarded-For`.

use std::net::IpAddr;
use std::str::FromStr;

/// Hops of `X-Forwarded-For` looked at, from the nearest: a longer list
/// (forged or not) costs nothing more.
const MAX_HOPS: usize = 16;

/// A network such as `10.0.0.0/8`, `2001:db8::/32` or one address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (address, prefix) = text.split_once('/').unwrap_or((text, ""));
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("{text:?} is not an address or network such as 10.0.0.0/8"))?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = if prefix.is_empty() {
            bits
        } else {
            prefix
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= bits)
                .ok_or_else(|| format!("{text:?}: the prefix length must be 0 to {bits}"))?
        };
        Ok(Self { network, prefix })
    }
}

impl Cidr {
    pub fn contains(&self, address: IpAddr) -> bool {
        let (network, address, width) = match (self.network, canonical(address)) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                (u128::from(u32::from(n)), u128::from(u32::from(a)), 32)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => (u128::from(n), u128::from(a), 128),
            _ => return false,
        };
        let host_bits = width - u32::from(self.prefix);
        let mask = u128::MAX.checked_shl(host_bits).unwrap_or(0);
        network & mask == address & mask
    }
}

/// IPv4 addresses written as IPv6 (`::ffff:1.2.3.4`) as IPv4.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

/// The client behind `peer`: when the peer is trusted (`trust_any`, or in
/// `trusted`), `X-Forwarded-For` is read from the nearest hop back, skipping
/// trusted proxies; the first other address is the client. An entry that
/// is not an address ends the walk at the hop before it, so garbage can
/// only name a proxy we trust, never an address of the sender's choice.
pub fn forwarded_client<'a>(
    peer: Option<IpAddr>,
    forwarded: impl DoubleEndedIterator<Item = &'a str>,
    trust_any: bool,
    trusted: &[Cidr],
) -> Option<IpAddr> {
    let is_trusted = |address: IpAddr| trusted.iter().any(|cidr| cidr.contains(address));
    let mut client = peer;
    if !(trust_any || peer.is_some_and(is_trusted)) {
        return client;
    }
    let hops = forwarded
        .rev()
        .flat_map(|value| value.rsplit(','))
        .take(MAX_HOPS);
    for hop in hops {
        let Ok(address) = hop.trim().parse::<IpAddr>() else {
            break;
        };
        client = Some(address);
        if trust_any || !is_trusted(address) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn networks_contain_addresses() {
        let net: Cidr = "10.1.0.0/16".parse().unwrap_or_else(|_| unreachable!());
        assert!(net.contains(ip("10.1.200.3")));
        assert!(net.contains(ip("::ffff:10.1.0.1")));
        assert!(!net.contains(ip("10.2.0.1")));
        let one: Cidr = "192.0.2.7".parse().unwrap_or_else(|_| unreachable!());
        assert!(one.contains(ip("192.0.2.7")) && !one.contains(ip("192.0.2.8")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap_or_else(|_| unreachable!());
        assert!(all.contains(ip("203.0.113.9")));
        let v6: Cidr = "2001:db8::/32".parse().unwrap_or_else(|_| unreachable!());
        assert!(v6.contains(ip("2001:db8:1::1")) && !v6.contains(ip("2001:db9::1")));
        for bad in ["10.0.0.0/33", "nonsense", "::/129", ""] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn only_trusted_peers_name_the_client() {
        let trusted: Vec<Cidr> = ["10.0.0.0/8"]
            .iter()
            .filter_map(|text| text.parse().ok())
            .collect();
        let peer = Some(ip("10.0.0.2"));
        let stranger = Some(ip("198.51.100.1"));
        let client =
            |peer, header: &str| forwarded_client(peer, [header].into_iter(), false, &trusted);
        assert_eq!(
            client(peer, "203.0.113.5, 10.0.0.9"),
            Some(ip("203.0.113.5"))
        );
        assert_eq!(client(stranger, "203.0.113.5"), stranger);
        assert_eq!(
            client(peer, "1.1.1.1, 203.0.113.5"),
            Some(ip("203.0.113.5"))
        );
        assert_eq!(client(peer, "203.0.113.5, garbage"), peer);
        assert_eq!(client(peer, &"x".repeat(100_000)), peer);
        assert_eq!(
            client(peer, &["10.0.0.1"; 10_000].join(",")),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(client(None, "203.0.113.5"), None);
        assert_eq!(
            forwarded_client(None, ["203.0.113.5"].into_iter(), true, &[]),
            Some(ip("203.0.113.5"))
        );
    }
}
