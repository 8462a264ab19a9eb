//! A small blocking Kafka protocol client for the admin CLI: connects to the bootstrap server,
//! negotiates versions with ApiVersions (KIP-35), and sends requests to the right broker
//! (partition leaders for produce/fetch/list-offsets, the group coordinator for group APIs,
//! any broker for the rest), so it works against Klamm and against a Kafka cluster alike.
//!
//! Requests and responses are encoded and decoded by kafka-protocol (its `client` side); the
//! CLI sends one request at a time on each connection.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::api_versions_request::ApiVersionsRequest;
use kafka_protocol::messages::find_coordinator_request::FindCoordinatorRequest;
use kafka_protocol::messages::metadata_request::{MetadataRequest, MetadataRequestTopic};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsResponse, BrokerId, MetadataResponse, RequestHeader, ResponseHeader,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};

use super::output::CliError;

/// How long to wait for a connection or a response.
pub const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest response accepted (a fetch answers at most its `max_bytes`, far below this).
const MAX_RESPONSE_BYTES: usize = 512 * 1024 * 1024;

/// Highest version of each API this client builds requests for, where it is lower than what
/// kafka-protocol knows: Produce v13 and Fetch v13+ address topics by id only, OffsetFetch
/// v8+ batches groups.
fn client_max_version(key: i16) -> Option<i16> {
    match ApiKey::try_from(key).ok()? {
        ApiKey::Produce => Some(12),
        ApiKey::Fetch => Some(12),
        ApiKey::OffsetFetch => Some(7),
        _ => None,
    }
}

/// One connection to one broker.
pub struct Connection {
    stream: TcpStream,
    address: String,
    correlation_id: i32,
    /// API key -> (min, max) the broker serves.
    versions: HashMap<i16, (i16, i16)>,
}

impl Connection {
    /// Connects and negotiates API versions.
    pub fn open(address: &str) -> Result<Connection, CliError> {
        let addrs: Vec<_> = address
            .to_socket_addrs()
            .map_err(|e| CliError::Connect(address.to_string(), e.to_string()))?
            .collect();
        let mut last = String::from("no addresses");
        for a in addrs {
            match TcpStream::connect_timeout(&a, IO_TIMEOUT) {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    stream.set_read_timeout(Some(IO_TIMEOUT))?;
                    stream.set_write_timeout(Some(IO_TIMEOUT))?;
                    let mut c = Connection {
                        stream,
                        address: address.to_string(),
                        correlation_id: 0,
                        versions: HashMap::new(),
                    };
                    c.negotiate()?;
                    return Ok(c);
                }
                Err(e) => last = e.to_string(),
            }
        }
        Err(CliError::Connect(address.to_string(), last))
    }

    /// (API key, min, max) the broker serves.
    pub fn api_versions(&self) -> Vec<(i16, i16, i16)> {
        self.versions
            .iter()
            .map(|(k, (lo, hi))| (*k, *lo, *hi))
            .collect()
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    /// ApiVersions v3 (v0 if the broker is older than KIP-511).
    fn negotiate(&mut self) -> Result<(), CliError> {
        let req = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("klamm-cli"))
            .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
        let resp: ApiVersionsResponse = match self.send_version(&req, 3) {
            Ok(r) if r.error_code == 0 => r,
            _ => self.send_version(&ApiVersionsRequest::default(), 0)?,
        };
        CliError::check(resp.error_code, None, "ApiVersions")?;
        self.versions = resp
            .api_keys
            .iter()
            .map(|k| (k.api_key, (k.min_version, k.max_version)))
            .collect();
        Ok(())
    }

    /// The version to use for `R`: the highest both sides support.
    pub fn version_for<R: Request>(&self) -> Result<i16, CliError> {
        let name = api_name(R::KEY);
        let (bmin, bmax) = *self
            .versions
            .get(&R::KEY)
            .ok_or_else(|| CliError::Unsupported(name.clone(), self.address.clone()))?;
        let mut max = R::VERSIONS.max.min(bmax);
        if let Some(cap) = client_max_version(R::KEY) {
            max = max.min(cap);
        }
        let min = R::VERSIONS.min.max(bmin);
        if max < min {
            return Err(CliError::Unsupported(name, self.address.clone()));
        }
        Ok(max)
    }

    /// Whether the broker serves `R` at a version this client can use.
    pub fn supports<R: Request>(&self) -> bool {
        self.version_for::<R>().is_ok()
    }

    /// Sends `req` at the negotiated version and returns the response and that version.
    pub fn send<R: Request>(&mut self, req: &R) -> Result<(R::Response, i16), CliError> {
        let v = self.version_for::<R>()?;
        Ok((self.send_version(req, v)?, v))
    }

    /// Writes `req` without waiting for a response (Produce with acks=0).
    pub fn send_no_response<R: Request>(&mut self, req: &R, version: i16) -> Result<(), CliError> {
        let buf = self.frame(req, version)?;
        self.stream.write_all(&buf)?;
        Ok(())
    }

    fn frame<R: Request>(&mut self, req: &R, version: i16) -> Result<BytesMut, CliError> {
        self.correlation_id = self.correlation_id.wrapping_add(1);
        let header = RequestHeader::default()
            .with_request_api_key(R::KEY)
            .with_request_api_version(version)
            .with_correlation_id(self.correlation_id)
            .with_client_id(Some(StrBytes::from_static_str("klamm-cli")));
        let mut buf = BytesMut::new();
        buf.put_i32(0);
        let encode = |buf: &mut BytesMut| -> anyhow::Result<()> {
            header.encode(buf, R::header_version(version))?;
            req.encode(buf, version)
        };
        encode(&mut buf).map_err(|e| {
            CliError::Protocol(format!("encoding {} v{version}: {e}", api_name(R::KEY)))
        })?;
        let size = (buf.len() - 4) as i32;
        buf[0..4].copy_from_slice(&size.to_be_bytes());
        Ok(buf)
    }

    /// Sends `req` at `version` and reads its response.
    pub fn send_version<R: Request>(
        &mut self,
        req: &R,
        version: i16,
    ) -> Result<R::Response, CliError> {
        let buf = self.frame(req, version)?;
        self.stream.write_all(&buf)?;

        let mut len = [0u8; 4];
        self.stream.read_exact(&mut len)?;
        let len = i32::from_be_bytes(len);
        if len < 0 || len as usize > MAX_RESPONSE_BYTES {
            return Err(CliError::Protocol(format!("invalid response size {len}")));
        }
        // Grown with the bytes that arrive, not reserved from the length a broker claims.
        let mut body = Vec::new();
        (&mut self.stream).take(len as u64).read_to_end(&mut body)?;
        if body.len() != len as usize {
            return Err(CliError::Protocol(format!(
                "response ended after {} of {len} bytes",
                body.len()
            )));
        }
        let mut body = Bytes::from(body);
        let decode = |body: &mut Bytes| -> anyhow::Result<(ResponseHeader, R::Response)> {
            let h = ResponseHeader::decode(body, R::Response::header_version(version))?;
            let r = R::Response::decode(body, version)?;
            Ok((h, r))
        };
        let (h, resp) = decode(&mut body).map_err(|e| {
            CliError::Protocol(format!(
                "decoding {} v{version} response: {e}",
                api_name(R::KEY)
            ))
        })?;
        if h.correlation_id != self.correlation_id {
            return Err(CliError::Protocol(format!(
                "correlation id {} does not match request {}",
                h.correlation_id, self.correlation_id
            )));
        }
        Ok(resp)
    }
}

/// Kafka's name of an API key.
pub fn api_name(key: i16) -> String {
    ApiKey::try_from(key)
        .map(|k| format!("{k:?}"))
        .unwrap_or_else(|_| format!("api key {key}"))
}

/// Connections to the brokers of one cluster.
pub struct Client {
    bootstrap: Connection,
    brokers: HashMap<i32, String>,
    conns: HashMap<i32, Connection>,
}

impl Client {
    /// Connects to the first reachable address of a comma-separated bootstrap list.
    pub fn connect(bootstrap: &str) -> Result<Client, CliError> {
        let mut last = None;
        for addr in bootstrap
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            match Connection::open(addr) {
                Ok(c) => {
                    return Ok(Client {
                        bootstrap: c,
                        brokers: HashMap::new(),
                        conns: HashMap::new(),
                    })
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| CliError::Usage("empty --bootstrap-server".into())))
    }

    /// The bootstrap connection (any broker answers metadata and admin requests).
    pub fn any(&mut self) -> &mut Connection {
        &mut self.bootstrap
    }

    /// Metadata for `topics` (all topics when `None`), remembering the brokers.
    pub fn metadata(&mut self, topics: Option<&[String]>) -> Result<MetadataResponse, CliError> {
        let req = MetadataRequest::default()
            .with_topics(topics.map(|ts| {
                ts.iter()
                    .map(|t| MetadataRequestTopic::default().with_name(Some(super::topic_name(t))))
                    .collect()
            }))
            .with_allow_auto_topic_creation(false);
        let (resp, _) = self.bootstrap.send(&req)?;
        for b in &resp.brokers {
            self.brokers
                .insert(b.node_id.0, format!("{}:{}", b.host.as_str(), b.port));
        }
        Ok(resp)
    }

    /// A connection to broker `node` (from the last metadata).
    pub fn broker(&mut self, node: i32) -> Result<&mut Connection, CliError> {
        if !self.conns.contains_key(&node) {
            if self.brokers.is_empty() {
                self.metadata(Some(&[]))?;
            }
            let addr = self.brokers.get(&node).cloned().ok_or_else(|| {
                CliError::Protocol(format!("broker {node} is not in the cluster metadata"))
            })?;
            let c = Connection::open(&addr)?;
            self.conns.insert(node, c);
        }
        Ok(self.conns.get_mut(&node).expect("inserted above"))
    }

    /// The coordinator of consumer group `group` (FindCoordinator, key type 0).
    pub fn coordinator(&mut self, group: &str) -> Result<&mut Connection, CliError> {
        let v = self.bootstrap.version_for::<FindCoordinatorRequest>()?;
        let mut req = FindCoordinatorRequest::default().with_key_type(0);
        if v >= 4 {
            req.coordinator_keys = vec![StrBytes::from_string(group.to_string())];
        } else {
            req.key = StrBytes::from_string(group.to_string());
        }
        let resp = self.bootstrap.send_version(&req, v)?;
        let (code, msg, node, host, port) = if v >= 4 {
            let c = resp.coordinators.first().ok_or_else(|| {
                CliError::Protocol("FindCoordinator returned no coordinator".into())
            })?;
            (
                c.error_code,
                c.error_message.clone(),
                c.node_id,
                c.host.clone(),
                c.port,
            )
        } else {
            (
                resp.error_code,
                resp.error_message.clone(),
                resp.node_id,
                resp.host.clone(),
                resp.port,
            )
        };
        CliError::check(
            code,
            msg.as_ref(),
            &format!("finding the coordinator of group {group}"),
        )?;
        let BrokerId(id) = node;
        self.brokers
            .insert(id, format!("{}:{}", host.as_str(), port));
        self.broker(id)
    }
}
