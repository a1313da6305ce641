//! Work that must run on one instance at a time (retention purges, starting
//! scheduled campaigns) holds a named lease in the database. The holder
//! renews it on every pass; when an instance dies its lease runs out, and
//! another instance takes the work over.

use surrealdb::types::RecordId;

use super::Ctx;
use crate::db::ids::record;
use crate::db::retry_on_conflict;

/// The periodic work that runs on one instance at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    /// Retention purges (sign-in history, sessions, exports, leads, messages).
    Retention,
    /// Starting campaigns whose scheduled time has come.
    ScheduledCampaigns,
    /// Adding campaigns' recipients to their queues.
    QueueBuilding,
}

impl Job {
    fn name(self) -> &'static str {
        match self {
            Job::Retention => "retention",
            Job::ScheduledCampaigns => "scheduled_campaigns",
            Job::QueueBuilding => "queue_building",
        }
    }
}

/// Takes the lease on `job` for `ttl_secs`, or renews it if this instance
/// holds it. False while another live instance holds it.
pub async fn hold(ctx: &Ctx, job: Job, ttl_secs: i64) -> crate::error::Result<bool> {
    let id = record("job_lease", job.name());
    let now = ctx.now();
    let mut response = retry_on_conflict("job lease", || async {
        ctx.db
            .client()
            .query("UPSERT $id SET holder = $me, until = $until WHERE holder = NONE OR holder = $me OR until < $now RETURN VALUE id")
            .bind(("id", id.clone()))
            .bind(("me", ctx.instance.to_string()))
            .bind(("until", now + ttl_secs))
            .bind(("now", now))
            .await?
            .check()
    })
    .await?;
    let held: Vec<RecordId> = response.take(0)?;
    Ok(!held.is_empty())
}

/// Gives the lease up at shutdown, so that another instance takes over at once.
pub async fn release(ctx: &Ctx, job: Job) -> crate::error::Result<()> {
    ctx.db
        .client()
        .query("UPDATE $id SET until = 0 WHERE holder = $me")
        .bind(("id", record("job_lease", job.name())))
        .bind(("me", ctx.instance.to_string()))
        .await?
        .check()?;
    Ok(())
}
