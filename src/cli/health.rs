//! `klamm health --http HOST:PORT`: exits 0 when the broker's `/health` answers 200, 1
//! otherwise. The container image uses it as its HEALTHCHECK, which needs no curl.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::output::CliError;

#[derive(clap::Args, Debug)]
pub struct HealthArgs {
    /// The broker's HTTP endpoint (setting http.listen).
    #[arg(long, default_value = "localhost:9644")]
    http: String,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 5)]
    timeout: u64,
}

pub fn run(args: HealthArgs) -> Result<(), CliError> {
    let timeout = Duration::from_secs(args.timeout.max(1));
    let addr = args
        .http
        .to_socket_addrs()
        .map_err(|e| CliError::Connect(args.http.clone(), e.to_string()))?
        .next()
        .ok_or_else(|| CliError::Connect(args.http.clone(), "no address".into()))?;
    let mut s = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| CliError::Connect(args.http.clone(), e.to_string()))?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    write!(
        s,
        "GET /health HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        args.http
    )?;
    let mut resp = Vec::new();
    s.take(64 * 1024).read_to_end(&mut resp)?;
    let resp = String::from_utf8_lossy(&resp);
    let status = resp
        .lines()
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("");
    let body = resp.split("\r\n\r\n").nth(1).unwrap_or("").trim();
    if status == "200" {
        println!("{body}");
        Ok(())
    } else {
        Err(CliError::Usage(format!(
            "{} answered {}: {body}",
            args.http,
            if status.is_empty() { "nothing" } else { status }
        )))
    }
}
