//! Kafka's listener settings: `listeners`, `advertised.listeners` and
//! `listener.security.protocol.map` (`SocketServerConfigs`), parsed and validated the way
//! Kafka's `SocketServerConfigs.listenerListToEndPoints` and `KafkaConfig` validation do, with
//! Kafka's error messages.
//!
//! Without `listeners`, Klamm's own `listen` and `advertised.listener` describe one PLAINTEXT
//! listener, as before multi-listener support (scripts and tests rely on it).

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::OnceLock;

use regex::Regex;

use super::{Listener, SecurityProtocol};
use crate::settings::Settings;

/// A start-up error in the listener settings; the message is Kafka's where Kafka has one.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ListenerError {
    #[error("{0}")]
    Invalid(String),
}

/// One configured listener before it is bound: Kafka's `Endpoint`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenerSpec {
    /// Upper case (`ListenerName.normalised`).
    pub name: String,
    pub protocol: SecurityProtocol,
    /// `None` is Kafka's empty host: bind the wildcard address.
    pub host: Option<String>,
    pub port: u16,
    /// The `advertised.listeners` entry of this name (port 0 means the bound port), or Klamm's
    /// `advertised.listener` for the legacy single listener.
    pub advertised: Option<(String, u16)>,
}

impl ListenerSpec {
    /// Where to bind: the wildcard IPv4 address for an empty host (Klamm's historical
    /// `0.0.0.0`), an IP literal as given, else the first address the host name resolves to.
    pub async fn bind_address(&self) -> std::io::Result<SocketAddr> {
        let host = match self.host.as_deref() {
            None => return Ok(SocketAddr::new(IpAddr::from([0, 0, 0, 0]), self.port)),
            Some(h) => h,
        };
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(SocketAddr::new(ip, self.port));
        }
        tokio::net::lookup_host((host, self.port))
            .await?
            .next()
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("listener {}: host {host} resolves to no address", self.name),
                )
            })
    }

    /// The listener as connections see it, once bound to `bound`. What Metadata advertises:
    /// the `advertised.listeners` entry, else the listener's own host with an empty or
    /// wildcard host replaced by `localhost`; port 0 becomes the bound port.
    pub fn bound(&self, bound: SocketAddr) -> Listener {
        let (host, port) = match &self.advertised {
            Some((h, p)) => (h.clone(), *p),
            None => {
                let host = match &self.host {
                    Some(h) if !is_wildcard(h) => h.clone(),
                    _ => "localhost".to_string(),
                };
                (host, self.port)
            }
        };
        let port = if port == 0 { bound.port() } else { port };
        Listener {
            name: self.name.clone(),
            protocol: self.protocol,
            bind: bound,
            advertised_host: host,
            advertised_port: port as i32,
        }
    }
}

fn is_wildcard(host: &str) -> bool {
    host.parse::<IpAddr>().is_ok_and(|ip| ip.is_unspecified())
}

/// The listeners to bind, in `listeners` order (the first is the one printed in the ready
/// line). Without `listeners`, the legacy single PLAINTEXT listener from `listen`.
pub fn configured(settings: &Settings) -> Result<Vec<ListenerSpec>, ListenerError> {
    let map = security_protocol_map(&settings.string("listener.security.protocol.map"))?;
    let advertised_raw = list_setting(settings, "advertised.listeners");
    let Some(listeners_raw) = list_setting(settings, "listeners") else {
        return legacy(settings, &map, advertised_raw.as_deref());
    };
    let mut specs = parse_endpoints(&listeners_raw, &map)?;
    validate_distinct(&specs, &listeners_raw, true)?;
    if let Some(adv_raw) = advertised_raw {
        let advertised = parse_endpoints(&adv_raw, &map)?;
        validate_distinct(&advertised, &adv_raw, false)?;
        apply_advertised(&mut specs, &advertised)?;
    }
    Ok(specs)
}

/// A list setting's entries, `None` when unset or empty.
fn list_setting(settings: &Settings, name: &str) -> Option<Vec<String>> {
    let raw = settings.get(name).value.to_string();
    if settings.get(name).value == crate::settings::Value::Null {
        return None;
    }
    let entries: Vec<String> = raw
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    (!entries.is_empty()).then_some(entries)
}

fn legacy(
    settings: &Settings,
    map: &BTreeMap<String, SecurityProtocol>,
    advertised_raw: Option<&[String]>,
) -> Result<Vec<ListenerSpec>, ListenerError> {
    let listen = settings
        .listen()
        .map_err(|e| ListenerError::Invalid(e.to_string()))?;
    let mut spec = ListenerSpec {
        name: "PLAINTEXT".to_string(),
        protocol: SecurityProtocol::Plaintext,
        host: Some(listen.ip().to_string()),
        port: listen.port(),
        advertised: None,
    };
    if let Some(raw) = advertised_raw {
        let advertised = parse_endpoints(raw, map)?;
        validate_distinct(&advertised, raw, false)?;
        apply_advertised(std::slice::from_mut(&mut spec), &advertised)?;
    }
    if settings.get("advertised.listener").value != crate::settings::Value::Null {
        let (host, port) = settings
            .advertised(listen)
            .map_err(|e| ListenerError::Invalid(e.to_string()))?;
        spec.advertised = Some((host, port as u16));
    }
    Ok(vec![spec])
}

fn apply_advertised(
    specs: &mut [ListenerSpec],
    advertised: &[ListenerSpec],
) -> Result<(), ListenerError> {
    let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    if let Some(_stray) = advertised
        .iter()
        .find(|a| !names.contains(&a.name.as_str()))
    {
        return Err(ListenerError::Invalid(format!(
            "advertised.listeners listener names must be equal to or a subset of the ones defined in listeners. Found {}. The valid options based on currently configured listeners are {}",
            advertised.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(","),
            names.join(",")
        )));
    }
    if advertised
        .iter()
        .any(|a| a.host.as_deref() == Some("0.0.0.0"))
    {
        return Err(ListenerError::Invalid(
            "advertised.listeners cannot use the nonroutable meta-address 0.0.0.0. Use a routable IP address.".to_string(),
        ));
    }
    for spec in specs.iter_mut() {
        if let Some(a) = advertised.iter().find(|a| a.name == spec.name) {
            let host = match &a.host {
                Some(h) => h.clone(),
                None => "localhost".to_string(),
            };
            spec.advertised = Some((host, a.port));
        }
    }
    Ok(())
}

/// Kafka's `URI_PARSE_REGEXP`: `NAME://HOST:PORT`, the host optionally in brackets (IPv6).
fn uri_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // A constant pattern; covered by the unit tests.
        Regex::new(r"^(.*)://\[?([0-9a-zA-Z\-%._:]*)\]?:(-?[0-9]+)$").unwrap_or_else(|e| {
            unreachable!("listener URI pattern: {e}");
        })
    })
}

/// `SocketServerConfigs.listenerListToEndPoints`: each entry parsed, its name normalised to
/// upper case and looked up in the security protocol map.
fn parse_endpoints(
    entries: &[String],
    map: &BTreeMap<String, SecurityProtocol>,
) -> Result<Vec<ListenerSpec>, ListenerError> {
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let unparsable =
            || ListenerError::Invalid(format!("Unable to parse {entry} to a broker endpoint"));
        let caps = uri_regex().captures(entry.trim()).ok_or_else(unparsable)?;
        let name = caps[1].to_uppercase();
        let host = caps[2].to_string();
        let port: u16 = caps[3].parse().map_err(|_| unparsable())?;
        let protocol = *map.get(&name).ok_or_else(|| {
            ListenerError::Invalid(format!("No security protocol defined for listener {name}"))
        })?;
        out.push(ListenerSpec {
            name,
            protocol,
            host: (!host.is_empty()).then_some(host),
            port,
            advertised: None,
        });
    }
    Ok(out)
}

/// Java's `List.toString`, as Kafka's messages print the configured list.
fn java_list(entries: &[String]) -> String {
    format!("[{}]", entries.join(", "))
}

/// Kafka's `CoreUtils.listenerListToEndPoints` validation: distinct names always; with
/// `require_distinct_ports` (listeners, not advertised listeners), distinct non-zero ports,
/// except that exactly two listeners may share a port when one binds an IPv4 and the other an
/// IPv6 address.
fn validate_distinct(
    specs: &[ListenerSpec],
    raw: &[String],
    require_distinct_ports: bool,
) -> Result<(), ListenerError> {
    let listeners = java_list(raw);
    let mut names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    if names.len() != specs.len() {
        return Err(ListenerError::Invalid(format!(
            "requirement failed: Each listener must have a different name, listeners: {listeners}"
        )));
    }
    if !require_distinct_ports {
        return Ok(());
    }
    let mut by_port: BTreeMap<u16, Vec<&ListenerSpec>> = BTreeMap::new();
    for s in specs.iter().filter(|s| s.port != 0) {
        by_port.entry(s.port).or_default().push(s);
    }
    for (port, eps) in by_port.into_iter().filter(|(_, eps)| eps.len() > 1) {
        let (with_ip, without_ip): (Vec<&ListenerSpec>, Vec<&ListenerSpec>) =
            eps.into_iter().partition(|s| {
                s.host
                    .as_deref()
                    .is_some_and(|h| h.parse::<IpAddr>().is_ok())
            });
        if without_ip.len() > 1 {
            return Err(ListenerError::Invalid(format!(
                "requirement failed: Each listener must have a different port, listeners: {listeners}"
            )));
        }
        let pair_message = format!(
            "If you have two listeners on the same port then one needs to be IPv4 and the other IPv6, listeners: {listeners}, port: {port}"
        );
        match with_ip.as_slice() {
            [] => {}
            [a, b] => {
                if !one_v4_one_v6(a, b) {
                    return Err(ListenerError::Invalid(format!(
                        "requirement failed: {pair_message}"
                    )));
                }
                if !without_ip.is_empty() {
                    return Err(ListenerError::Invalid(pair_message));
                }
            }
            [_] => {
                // One IP host and one name or wildcard on the same port: Kafka's check of the
                // hosts without an IP sees a single entry, and the bind fails instead. Klamm
                // says it up front.
                return Err(ListenerError::Invalid(format!(
                    "requirement failed: Each listener must have a different port, listeners: {listeners}"
                )));
            }
            _ => {
                return Err(ListenerError::Invalid(format!(
                    "Each listener must have a different port unless exactly one listener has an IPv4 address and the other IPv6 address, listeners: {listeners}, port: {port}"
                )));
            }
        }
    }
    Ok(())
}

fn one_v4_one_v6(a: &ListenerSpec, b: &ListenerSpec) -> bool {
    let ip = |s: &ListenerSpec| s.host.as_deref().and_then(|h| h.parse::<IpAddr>().ok());
    matches!(
        (ip(a), ip(b)),
        (Some(IpAddr::V4(_)), Some(IpAddr::V6(_))) | (Some(IpAddr::V6(_)), Some(IpAddr::V4(_)))
    )
}

/// `listener.security.protocol.map` (Kafka's `Csv.parseCsvMap`, names normalised to upper case,
/// protocols by `SecurityProtocol.forName`).
pub fn security_protocol_map(
    raw: &str,
) -> Result<BTreeMap<String, SecurityProtocol>, ListenerError> {
    let mut map = BTreeMap::new();
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(map);
    }
    for entry in raw.split(',') {
        let parts: Vec<&str> = entry.split(':').map(str::trim).collect();
        let [name, protocol] = parts.as_slice() else {
            return Err(ListenerError::Invalid(format!(
                "Error parsing configuration property 'listener.security.protocol.map': Unable to parse {} into a key/value pair",
                entry.trim()
            )));
        };
        let protocol = SecurityProtocol::from_name(protocol).ok_or_else(|| {
            ListenerError::Invalid(format!(
                "Invalid security protocol `{protocol}` defined in listener.security.protocol.map"
            ))
        })?;
        map.insert(name.to_uppercase(), protocol);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Overrides;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        let cli = Overrides {
            overrides: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        };
        Settings::load(&cli).unwrap()
    }

    fn err(pairs: &[(&str, &str)]) -> String {
        configured(&settings(pairs)).unwrap_err().to_string()
    }

    #[test]
    fn parses_kafkas_listener_forms_in_order() {
        let s = settings(&[(
            "listeners",
            "PLAINTEXT://:9092,SASL_SSL://:9093,ssl://0.0.0.0:9094,INTERNAL://127.0.0.1:9095,V6://[::1]:9096",
        ), (
            "listener.security.protocol.map",
            "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,internal:PLAINTEXT,V6:SSL",
        )]);
        let l = configured(&s).unwrap();
        let got: Vec<(&str, SecurityProtocol, Option<&str>, u16)> = l
            .iter()
            .map(|s| (s.name.as_str(), s.protocol, s.host.as_deref(), s.port))
            .collect();
        assert_eq!(
            got,
            vec![
                ("PLAINTEXT", SecurityProtocol::Plaintext, None, 9092),
                ("SASL_SSL", SecurityProtocol::SaslSsl, None, 9093),
                ("SSL", SecurityProtocol::Ssl, Some("0.0.0.0"), 9094),
                (
                    "INTERNAL",
                    SecurityProtocol::Plaintext,
                    Some("127.0.0.1"),
                    9095
                ),
                ("V6", SecurityProtocol::Ssl, Some("::1"), 9096),
            ]
        );
    }

    #[test]
    fn the_default_map_is_kafkas() {
        let l = configured(&settings(&[(
            "listeners",
            "CONTROLLER://:1,PLAINTEXT://:2,SSL://:3,SASL_PLAINTEXT://:4,SASL_SSL://:5",
        )]))
        .unwrap();
        let protocols: Vec<&str> = l.iter().map(|s| s.protocol.name()).collect();
        assert_eq!(
            protocols,
            [
                "PLAINTEXT",
                "PLAINTEXT",
                "SSL",
                "SASL_PLAINTEXT",
                "SASL_SSL"
            ]
        );
    }

    #[test]
    fn kafkas_start_up_errors() {
        assert_eq!(
            err(&[("listeners", "INTERNAL://:9092")]),
            "No security protocol defined for listener INTERNAL"
        );
        assert_eq!(
            err(&[("listeners", "PLAINTEXT:9092")]),
            "Unable to parse PLAINTEXT:9092 to a broker endpoint"
        );
        assert_eq!(
            err(&[("listeners", "PLAINTEXT://host")]),
            "Unable to parse PLAINTEXT://host to a broker endpoint"
        );
        assert_eq!(
            err(&[("listeners", "PLAINTEXT://:70000")]),
            "Unable to parse PLAINTEXT://:70000 to a broker endpoint"
        );
        assert_eq!(
            err(&[("listeners", "PLAINTEXT://:9092,plaintext://:9093")]),
            "requirement failed: Each listener must have a different name, listeners: [PLAINTEXT://:9092, plaintext://:9093]"
        );
        assert_eq!(
            err(&[("listeners", "PLAINTEXT://:9092,SSL://:9092")]),
            "requirement failed: Each listener must have a different port, listeners: [PLAINTEXT://:9092, SSL://:9092]"
        );
        assert_eq!(
            err(&[("listeners", "PLAINTEXT://127.0.0.1:9092,SSL://127.0.0.2:9092")]),
            "requirement failed: If you have two listeners on the same port then one needs to be IPv4 and the other IPv6, listeners: [PLAINTEXT://127.0.0.1:9092, SSL://127.0.0.2:9092], port: 9092"
        );
        assert_eq!(
            err(&[("listener.security.protocol.map", "PLAINTEXT:TLS")]),
            "Invalid security protocol `TLS` defined in listener.security.protocol.map"
        );
        assert_eq!(
            err(&[("listener.security.protocol.map", "PLAINTEXT")]),
            "Error parsing configuration property 'listener.security.protocol.map': Unable to parse PLAINTEXT into a key/value pair"
        );
        assert_eq!(
            err(&[
                ("listeners", "PLAINTEXT://:9092"),
                ("advertised.listeners", "SSL://h:9093")
            ]),
            "advertised.listeners listener names must be equal to or a subset of the ones defined in listeners. Found SSL. The valid options based on currently configured listeners are PLAINTEXT"
        );
        assert_eq!(
            err(&[
                ("listeners", "PLAINTEXT://:9092"),
                ("advertised.listeners", "PLAINTEXT://0.0.0.0:9092")
            ]),
            "advertised.listeners cannot use the nonroutable meta-address 0.0.0.0. Use a routable IP address."
        );
    }

    #[test]
    fn ipv4_and_ipv6_may_share_a_port_and_port_zero_never_clashes() {
        configured(&settings(&[(
            "listeners",
            "PLAINTEXT://127.0.0.1:9092,SSL://[::1]:9092",
        )]))
        .unwrap();
        configured(&settings(&[("listeners", "PLAINTEXT://:0,SSL://:0")])).unwrap();
    }

    #[test]
    fn advertised_addresses() {
        let s = settings(&[
            (
                "listeners",
                "PLAINTEXT://:0,SSL://127.0.0.1:0,EXTERNAL://0.0.0.0:9000",
            ),
            (
                "listener.security.protocol.map",
                "PLAINTEXT:PLAINTEXT,SSL:SSL,EXTERNAL:PLAINTEXT",
            ),
            ("advertised.listeners", "EXTERNAL://broker.example:19000"),
        ]);
        let l = configured(&s).unwrap();
        let bound: SocketAddr = "127.0.0.1:4321".parse().unwrap();
        let adv: Vec<(String, i32)> = l
            .iter()
            .map(|s| {
                let b = s.bound(bound);
                (b.advertised_host, b.advertised_port)
            })
            .collect();
        assert_eq!(
            adv,
            vec![
                ("localhost".to_string(), 4321),
                ("127.0.0.1".to_string(), 4321),
                ("broker.example".to_string(), 19000),
            ]
        );
    }

    #[test]
    fn without_listeners_listen_is_the_single_plaintext_listener() {
        let s = settings(&[("listen", "127.0.0.1:0")]);
        let l = configured(&s).unwrap();
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].name, "PLAINTEXT");
        let b = l[0].bound("127.0.0.1:5555".parse().unwrap());
        assert_eq!(
            (b.advertised_host.as_str(), b.advertised_port),
            ("127.0.0.1", 5555)
        );
        let s = settings(&[
            ("listen", "0.0.0.0:0"),
            ("advertised.listener", "kafka.local:9999"),
        ]);
        let b = configured(&s).unwrap()[0].bound("0.0.0.0:5555".parse().unwrap());
        assert_eq!(
            (b.advertised_host.as_str(), b.advertised_port),
            ("kafka.local", 9999)
        );
    }
}
