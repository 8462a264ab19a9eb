//! What the group scenarios share: a member's own connection to each broker, requests that
//! differ per broker (a member id is each broker's own), and requests written now and read
//! later (a JoinGroup that a rebalance holds until the other member joins).

use kafka_protocol::messages::*;
use kafka_protocol::protocol::Request;

use super::super::support::client::Client;
use super::super::support::groups::gid;
use super::super::{Ctx, KAFKA, KLAMM};

/// One connection to each broker for one group member, `[kafka, klamm]`.
pub struct Conn {
    pub c: [Client; 2],
}

/// A value per broker, `[kafka, klamm]` (member ids, generations).
pub type Each<T> = [T; 2];

impl Conn {
    pub fn open(ctx: &Ctx) -> Conn {
        Conn {
            c: [
                Client::connect(ctx.env.addrs[KAFKA]),
                Client::connect(ctx.env.addrs[KLAMM]),
            ],
        }
    }

    /// Sends `make(side)` at `v` to each broker and compares the answers under `step@vN`.
    pub fn send<R>(
        &mut self,
        ctx: &mut Ctx,
        step: &str,
        v: i16,
        make: impl Fn(usize) -> R,
    ) -> Each<R::Response>
    where
        R: Request,
        R::Response: std::fmt::Debug,
    {
        let corr = self.write(ctx, v, make);
        self.read::<R>(ctx, step, v, corr)
    }

    /// Sends `make(side)` at `v` to each broker and returns the answers uncompared (for a
    /// scenario that compares what it derives from them).
    pub fn exchange<R: Request>(
        &mut self,
        ctx: &mut Ctx,
        v: i16,
        make: impl Fn(usize) -> R,
    ) -> Each<R::Response> {
        ctx.requests += 1;
        [KAFKA, KLAMM].map(|i| self.c[i].send(&make(i), v))
    }

    /// Writes `make(side)` at `v` to each broker without waiting; returns the correlation ids
    /// for [`Conn::read`].
    pub fn write<R: Request>(
        &mut self,
        ctx: &mut Ctx,
        v: i16,
        make: impl Fn(usize) -> R,
    ) -> Each<i32> {
        ctx.requests += 1;
        [KAFKA, KLAMM].map(|i| self.c[i].write_request(&make(i), v))
    }

    /// Reads the answers of [`Conn::write`] and compares them under `step@vN`.
    pub fn read<R>(
        &mut self,
        ctx: &mut Ctx,
        step: &str,
        v: i16,
        corr: Each<i32>,
    ) -> Each<R::Response>
    where
        R: Request,
        R::Response: std::fmt::Debug,
    {
        let out = [KAFKA, KLAMM].map(|i| self.c[i].read_response::<R>(v, corr[i]));
        ctx.compare(&format!("{step}@v{v}"), &out[KAFKA], &out[KLAMM]);
        out
    }
}

/// The highest version of `key` both brokers serve, capped at `at_most` (for follow-up requests
/// of a scenario that walks another API's versions).
pub fn version_up_to(ctx: &Ctx, key: ApiKey, at_most: i16) -> i16 {
    let vs = ctx.versions(key);
    let lo = *vs.first().expect("served by both");
    let hi = *vs.last().expect("served by both");
    at_most.clamp(lo, hi)
}

/// The highest version of `key` both brokers serve.
pub fn latest(ctx: &Ctx, key: ApiKey) -> i16 {
    version_up_to(ctx, key, i16::MAX)
}

/// The member ids of two JoinGroup answers.
pub fn member_ids(r: &Each<JoinGroupResponse>) -> Each<String> {
    [
        r[KAFKA].member_id.to_string(),
        r[KLAMM].member_id.to_string(),
    ]
}

/// Polls DescribeGroups on both brokers until `group` is in `state`.
pub fn wait_for_state(ctx: &mut Ctx, group: &str, state: &str) {
    let (g, st) = (group.to_string(), state.to_string());
    ctx.wait_until(&format!("{group} in {state}"), move |c: &mut Client| {
        let r = c.send(
            &describe_groups_request::DescribeGroupsRequest::default().with_groups(vec![gid(&g)]),
            5,
        );
        r.groups
            .first()
            .is_some_and(|d| d.group_state.as_str() == st)
    });
}
