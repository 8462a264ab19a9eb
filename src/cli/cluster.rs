//! `klamm cluster info`: cluster id, controller and brokers (DescribeCluster where the broker
//! serves it, else Metadata), and the API versions the bootstrap broker serves.

use kafka_protocol::messages::describe_cluster_request::DescribeClusterRequest;
use serde_json::{json, Value};

use super::client::api_name;
use super::output::{print_json, CliError, Table};
use super::Common;

#[derive(clap::Args, Debug)]
pub struct ClusterArgs {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    cmd: ClusterCmd,
}

#[derive(clap::Subcommand, Debug)]
enum ClusterCmd {
    /// Cluster id, controller, brokers and supported API versions.
    Info,
}

pub fn run(args: ClusterArgs) -> Result<(), CliError> {
    match args.cmd {
        ClusterCmd::Info => info(&args.common),
    }
}

fn info(c: &Common) -> Result<(), CliError> {
    let mut client = c.connect()?;
    // (id, host, port, rack)
    let mut brokers: Vec<(i32, String, i32, Option<String>)> = Vec::new();
    let (cluster_id, controller) = if client.any().supports::<DescribeClusterRequest>() {
        let (resp, _) = client.any().send(&DescribeClusterRequest::default())?;
        CliError::check(
            resp.error_code,
            resp.error_message.as_ref(),
            "describing the cluster",
        )?;
        for b in &resp.brokers {
            brokers.push((
                b.broker_id.0,
                b.host.to_string(),
                b.port,
                b.rack.as_ref().map(|r| r.to_string()),
            ));
        }
        (resp.cluster_id.to_string(), resp.controller_id.0)
    } else {
        let md = client.metadata(Some(&[]))?;
        for b in &md.brokers {
            brokers.push((
                b.node_id.0,
                b.host.to_string(),
                b.port,
                b.rack.as_ref().map(|r| r.to_string()),
            ));
        }
        (
            md.cluster_id
                .as_ref()
                .map(|s| s.to_string())
                .unwrap_or_default(),
            md.controller_id.0,
        )
    };
    brokers.sort();
    let mut apis: Vec<(i16, i16, i16)> = client.any().api_versions();
    apis.sort();
    if c.json {
        print_json(&json!({
            "cluster_id": cluster_id,
            "controller_id": controller,
            "bootstrap": client.any().address(),
            "brokers": brokers.iter().map(|(id, h, p, r)| json!({"id": id, "host": h, "port": p, "rack": r})).collect::<Vec<_>>(),
            "apis": apis.iter().map(|(k, lo, hi)| json!({"api": api_name(*k), "key": k, "min_version": lo, "max_version": hi})).collect::<Vec<Value>>(),
        }));
        return Ok(());
    }
    println!("Cluster id: {cluster_id}");
    println!("Controller: {controller}");
    println!();
    let mut t = Table::new(&["BROKER", "HOST", "PORT", "RACK"]);
    for (id, h, p, r) in brokers {
        t.row(vec![
            id.to_string(),
            h,
            p.to_string(),
            r.unwrap_or_else(|| "-".into()),
        ]);
    }
    t.print();
    println!();
    let mut t = Table::new(&["API", "KEY", "VERSIONS"]);
    for (k, lo, hi) in apis {
        t.row(vec![api_name(k), k.to_string(), format!("{lo}-{hi}")]);
    }
    t.print();
    Ok(())
}
