//! `GET /events/inbox`: the live inbox as server-sent events on the same
//! origin. The caller is resolved once, as for a server function. The
//! stream opens with `ready`, then names each conversation of the account
//! that changed (`conversation`, with the lead's id), says `resync` when it
//! fell behind its buffer, and ends with the session.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use tokio::sync::broadcast::error::RecvError;

use crate::context::inbox_feed::Subscription;
use crate::context::Ctx;
use crate::sessions;

/// How often an open stream checks that its session is still open.
const SESSION_CHECK: Duration = Duration::from_secs(20);

struct Live {
    ctx: Ctx,
    subscription: Subscription,
    account_id: String,
    session_id: String,
    greeted: bool,
    check: tokio::time::Interval,
}

pub async fn inbox(State(ctx): State<Ctx>, request: Request<Body>) -> Response {
    let info = super::request_info(request.headers(), request.extensions());
    let caller = match crate::accounts::signed_in(&ctx, info).await.and_then(|s| s.ready()) {
        Ok(caller) => caller,
        Err(e) => return refused(e.into_app_error("live inbox")),
    };
    let subscription = match ctx.inbox_feed.subscribe(&caller.session.id) {
        Ok(s) => s,
        Err(e) => {
            tracing::info!("live inbox: a session asked for more connections than allowed");
            return refused(e);
        }
    };
    let mut check = tokio::time::interval(SESSION_CHECK);
    check.reset();
    let live = Live { ctx, subscription, account_id: caller.session.account_id.clone(), session_id: caller.session.id.clone(), greeted: false, check };
    Sse::new(futures::stream::unfold(live, next_event)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response()
}

fn refused(error: app::error::AppError) -> Response {
    (StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST), error.to_string()).into_response()
}

async fn next_event(mut live: Live) -> Option<(Result<Event, Infallible>, Live)> {
    if !live.greeted {
        live.greeted = true;
        return Some((Ok(Event::default().event("ready").data("ready")), live));
    }
    loop {
        tokio::select! {
            signal = live.subscription.signals.recv() => match signal {
                Ok(s) if s.account_id == live.account_id => {
                    let event = match s.lead_id {
                        Some(lead) => Event::default().event("conversation").data(lead),
                        None => Event::default().event("resync").data("resync"),
                    };
                    return Some((Ok(event), live));
                }
                Ok(_) => continue,
                Err(RecvError::Lagged(_)) => return Some((Ok(Event::default().event("resync").data("resync")), live)),
                Err(RecvError::Closed) => return None,
            },
            _ = live.check.tick() => match sessions::still_open(&live.ctx, &live.session_id).await {
                Ok(true) => continue,
                Ok(false) => return None,
                Err(e) => {
                    tracing::warn!(error = %e, "live inbox: the session could not be checked");
                    return None;
                }
            },
        }
    }
}
