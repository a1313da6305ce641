//! Meta's Data Deletion Request Callback at `/webhooks/meta/data-deletion`:
//! verifies the `signed_request`, erases every lead mapped to that person
//! (their Page-scoped ids come from `ids_for_pages`) and every kept signed
//! delivery that names them, records the request
//! without anything about the person, and answers `{url, confirmation_code}`.

use app::types::{DeletionState, DeletionStatus};
use axum::extract::{Form, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use surrealdb::types::SurrealValue;

use super::graph::Graph;
use super::{leads, settings, signature, Result};
use crate::context::Ctx;
use crate::db::ids::{record, valid_key};

#[derive(Deserialize)]
pub struct DeletionForm {
    signed_request: String,
}

pub async fn callback(State(ctx): State<Ctx>, Form(form): Form<DeletionForm>, dependents: &leads::Dependents) -> Response {
    let Ok(Some(app)) = settings::load(&ctx).await else { return StatusCode::FORBIDDEN.into_response() };
    let Some(user_id) = signature::signed_request_user(app.app_secret.as_bytes(), &form.signed_request, ctx.now()) else {
        return StatusCode::FORBIDDEN.into_response();
    };
    let code = crate::crypto::random_id();
    match erase_person(&ctx, &app, &user_id, &code, dependents).await {
        Ok(_) => Json(json!({"url": ctx.link(&format!("/data-deletion?code={code}")), "confirmation_code": code})).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "data deletion request failed; Meta will retry");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// Erases the person's leads on every connected Page, and records the request.
pub async fn erase_person(ctx: &Ctx, app: &settings::AppSettings, app_scoped_id: &str, code: &str, dependents: &leads::Dependents) -> Result<i64> {
    let mapped = Graph::new(app).ids_for_pages(app, app_scoped_id).await?;
    let mut erased = 0;
    for (psid, page_id) in mapped {
        // Kept deliveries can name them on a Page where they are no lead.
        super::proofs::forget_person(ctx, &page_id, &psid).await?;
        let ident = leads::lead_ident(ctx, &page_id, &psid);
        if let Some(lead) = leads::find_by_ident(ctx, &ident).await? {
            leads::erase_lead(ctx, &lead.id, dependents).await?;
            erased += 1;
        }
        // Kept by the Page's earlier owners, if it changed hands.
        for lead in leads::archived_with_ident(ctx, &ident).await? {
            leads::erase_lead(ctx, &lead, dependents).await?;
            erased += 1;
        }
    }
    // Deliveries not applied yet that name them where they are no lead.
    super::redaction::redact_forgotten(ctx).await?;
    ctx.db
        .client()
        .query("CREATE $id SET received_at = $now, status = $status, leads_erased = $erased")
        .bind(("status", DeletionState::Completed.as_str()))
        .bind(("id", record("data_deletion", code)))
        .bind(("now", ctx.now()))
        .bind(("erased", erased))
        .await?
        .check()?;
    tracing::info!(erased, "data deletion request completed");
    Ok(erased)
}

#[derive(Debug, SurrealValue)]
struct DeletionRow {
    received_at: i64,
    status: String,
    leads_erased: i64,
}

/// The public status page's data; None for an unknown code.
pub async fn deletion_status(ctx: &Ctx, code: &str) -> Result<Option<DeletionStatus>> {
    if !valid_key(code) {
        return Ok(None);
    }
    let row: Option<DeletionRow> = ctx.db.client().query("SELECT * FROM ONLY $id").bind(("id", record("data_deletion", code))).await?.take(0)?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(DeletionStatus { confirmation_code: code.to_string(), received_at: r.received_at, status: r.status.parse()?, leads_erased: r.leads_erased }))
}
