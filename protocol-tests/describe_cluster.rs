//! DescribeCluster (key 60), v0-2: this broker is the whole cluster.

use kafka_protocol::messages::{ApiKey, BrokerId, DescribeClusterRequest};

use crate::support::*;

/// AclOperation DESCRIBE.
const DESCRIBE: i32 = 8;
/// `DescribeClusterRequest` endpoint types.
const BROKERS: i8 = 1;
const CONTROLLERS: i8 = 2;

#[test]
fn every_version_describes_this_broker() {
    let broker = Broker::start();
    let mut c = broker.client();
    let cluster_id = c
        .send(&metadata_request(Some(&[]), false), 12)
        .cluster_id
        .expect("cluster id")
        .to_string();
    for v in versions(ApiKey::DescribeCluster) {
        for include_ops in [false, true] {
            let mut req = DescribeClusterRequest::default()
                .with_include_cluster_authorized_operations(include_ops);
            if v >= 1 {
                req.endpoint_type = BROKERS;
            }
            if v >= 2 {
                req.include_fenced_brokers = true;
            }
            let resp = c.send(&req, v);
            assert_eq!(
                resp.error_code,
                code::NONE,
                "DescribeCluster v{v}: {:?}",
                resp.error_message
            );
            assert_eq!(resp.error_message, None);
            assert_eq!(
                resp.cluster_id.as_str(),
                cluster_id,
                "DescribeCluster v{v} cluster id = Metadata's"
            );
            assert_eq!(
                resp.controller_id,
                BrokerId(0),
                "DescribeCluster v{v} controller"
            );
            if v >= 1 {
                assert_eq!(
                    resp.endpoint_type, BROKERS,
                    "DescribeCluster v{v} endpoint type"
                );
            }
            assert_eq!(resp.brokers.len(), 1, "DescribeCluster v{v} brokers");
            let b = &resp.brokers[0];
            assert_eq!(b.broker_id, BrokerId(0));
            assert_eq!(b.host.as_str(), broker.advertised_host);
            assert_eq!(b.port, broker.advertised_port);
            assert_eq!(b.rack, None);
            assert!(!b.is_fenced);
            if include_ops {
                let ops = resp.cluster_authorized_operations;
                assert_ne!(ops, i32::MIN, "DescribeCluster v{v}: operations requested");
                assert!(
                    ops & (1 << DESCRIBE) != 0,
                    "DescribeCluster v{v}: {ops:#x} lacks DESCRIBE"
                );
            } else {
                assert_eq!(
                    resp.cluster_authorized_operations,
                    i32::MIN,
                    "DescribeCluster v{v}: not requested"
                );
            }
        }
    }
}

#[test]
fn controller_endpoint_type_is_mismatched() {
    // KIP-919: asking a broker listener for the controllers is MISMATCHED_ENDPOINT_TYPE.
    let broker = Broker::start();
    let mut c = broker.client();
    for v in 1..=*versions(ApiKey::DescribeCluster).end() {
        let req = DescribeClusterRequest::default().with_endpoint_type(CONTROLLERS);
        let resp = c.send(&req, v);
        assert_eq!(
            resp.error_code,
            code::MISMATCHED_ENDPOINT_TYPE,
            "DescribeCluster v{v}"
        );
        assert!(resp.error_message.is_some());
    }
}
