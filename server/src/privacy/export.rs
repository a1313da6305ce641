//! "Download my data": a background job writes a ZIP with `data.json`
//! (machine-readable, see docs/export-format.md) and `index.html` (the same,
//! readable), driven by the data inventory and streamed page by page, into an
//! encrypted file that only its owner can download, for a limited time.

use std::io::Write;

use app::inventory::{DataCategory, Owner, Sealing, INVENTORY};
use app::types::{ExportState, ExportStatus};
use rand::RngCore;
use serde_json::{Map, Value};
use surrealdb::types::{RecordId, SurrealValue};
use zeroize::Zeroizing;

use super::sealed_file::{OpeningReader, SealingWriter};
use super::zip_stream::ZipStream;
use crate::context::Ctx;
use crate::crypto::{random_id, Field, SecretKey};
use crate::db::ids::{account_record, key_string};
use crate::error::{Error, Result};
use crate::mail::{self, templates};
use app::error::AppError;

pub const FORMAT_VERSION: u32 = 1;
const PAGE: i64 = 500;
const MIN_INTERVAL_SECS: i64 = 3600;

#[derive(Debug, SurrealValue)]
struct JobRow {
    id: RecordId,
    status: String,
    progress: i64,
    created_at: i64,
    expires_at: Option<i64>,
    file_key_sealed: Option<String>,
}

fn job_status(row: &JobRow, now: i64) -> Result<ExportStatus> {
    let id = key_string(&row.id);
    let stored: ExportState = row.status.parse()?;
    let live = stored == ExportState::Ready && row.expires_at.is_some_and(|t| t > now);
    Ok(ExportStatus {
        download_url: live.then(|| format!("/exports/{id}")),
        id,
        status: if stored == ExportState::Ready && !live { ExportState::Expired } else { stored },
        progress: row.progress,
        created_at: row.created_at,
        expires_at: row.expires_at,
    })
}

async fn latest(ctx: &Ctx, account_id: &str) -> Result<Option<JobRow>> {
    Ok(ctx
        .db
        .client()
        .query("SELECT * FROM export_job WHERE account = $account ORDER BY created_at DESC LIMIT 1")
        .bind(("account", account_record(account_id)))
        .await?
        .take::<Vec<JobRow>>(0)?
        .into_iter()
        .next())
}

pub async fn status(ctx: &Ctx, account_id: &str) -> Result<Option<ExportStatus>> {
    latest(ctx, account_id).await?.map(|row| job_status(&row, ctx.now())).transpose()
}

/// Queues an export and starts it in the background. One per hour.
/// `ready_notice_to` is the address told when the file is ready, if the
/// account wants that notice.
pub async fn start(ctx: &Ctx, account_id: &str, ready_notice_to: Option<String>) -> Result<ExportStatus> {
    let now = ctx.now();
    if let Some(last) = latest(ctx, account_id).await? {
        let wait = last.created_at + MIN_INTERVAL_SECS - now;
        if wait > 0 {
            return Err(AppError::ExportTooSoon { retry_after_mins: (wait + 59) / 60 }.into());
        }
    }
    let id = random_id();
    ctx.db
        .client()
        .query("CREATE $id SET account = $account, status = 'queued', progress = 0, created_at = $now, runner = $runner")
        .bind(("id", RecordId::new("export_job", id.clone())))
        .bind(("runner", ctx.instance.to_string()))
        .bind(("account", account_record(account_id)))
        .bind(("now", now))
        .await?
        .check()?;
    let (task_ctx, task_job, task_account) = (ctx.clone(), id.clone(), account_id.to_string());
    tokio::spawn(async move {
        if let Err(e) = run(&task_ctx, &task_job, &task_account, ready_notice_to).await {
            tracing::error!(job = %task_job, error = %e, "export failed");
            let _ = task_ctx
                .db
                .client()
                .query("UPDATE $id SET status = 'failed', finished_at = $now")
                .bind(("id", RecordId::new("export_job", task_job.clone())))
                .bind(("now", task_ctx.now()))
                .await;
            let _ = std::fs::remove_file(file_path(&task_ctx, &task_job));
        }
    });
    Ok(ExportStatus { id, status: ExportState::Queued, progress: 0, created_at: now, expires_at: None, download_url: None })
}

fn file_path(ctx: &Ctx, job_id: &str) -> std::path::PathBuf {
    ctx.settings.exports_dir.join(format!("{job_id}.zip.sealed"))
}

/// `index.html`'s body while the export runs (see `run`).
fn scratch_path(ctx: &Ctx, job_id: &str) -> std::path::PathBuf {
    ctx.settings.exports_dir.join(format!("{job_id}.html.part"))
}

async fn set_progress(ctx: &Ctx, job_id: &str, status: ExportState, progress: i64) -> Result<()> {
    ctx.db
        .client()
        .query("UPDATE $id SET status = $status, progress = $progress")
        .bind(("id", RecordId::new("export_job", job_id.to_string())))
        .bind(("status", status.as_str()))
        .bind(("progress", progress))
        .await?
        .check()?;
    Ok(())
}

/// One page of a category's rows, ready for the export: decrypted, internal
/// fields dropped, the owner link removed.
/// Pages are keyset-based (`after` is the last record key seen).
async fn page(ctx: &Ctx, category: &DataCategory, account_id: &str, account_key: &SecretKey, after: Option<&str>) -> Result<Vec<Value>> {
    let table = category.table;
    let rows: Vec<Value> = match category.owner {
        Owner::RecordKey => {
            if after.is_some() {
                return Ok(Vec::new());
            }
            ctx.db
                .client()
                .query("SELECT *, record::id(id) AS record_key FROM $id")
                .bind(("id", RecordId::new(table, account_id.to_string())))
                .await?
                .take(0)?
        }
        // Not the account's own data: kept by the installation, not exported.
        Owner::Retained => return Ok(Vec::new()),
        // Not yet anyone's: once applied it is in the leads and messages exported above.
        Owner::Queued => return Ok(Vec::new()),
        // It can hold other accounts' data; the account's own part is in its leads.
        Owner::Shared => return Ok(Vec::new()),
        Owner::Field(field) => ctx
            .db
            .client()
            .query(super::keyset_page(table, field, "*"))
            .bind(("account", account_record(account_id)))
            .bind(("limit", PAGE))
            .bind(("after", after.unwrap_or("").to_string()))
            .await?
            .take(0)?,
    };
    let key = match category.sealing {
        Sealing::AccountKey => Some(account_key),
        Sealing::SystemKey => Some(ctx.crypto.system_key()),
        Sealing::None => None,
    };
    rows.into_iter().map(|row| clean(category, row, key)).collect()
}

fn clean(category: &DataCategory, row: Value, key: Option<&SecretKey>) -> Result<Value> {
    let Value::Object(mut fields) = row else {
        return Ok(Value::Null);
    };
    let record_key = match fields.remove("record_key") {
        Some(Value::String(s)) => s,
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let mut out = Map::new();
    out.insert("id".into(), Value::String(record_key.clone()));
    for (name, value) in fields {
        let internal = category.internal_fields.contains(&name.as_str()) || name == "id" || name == "account";
        if internal || value.is_null() {
            continue;
        }
        match (name.strip_suffix("_enc"), key, &value) {
            (Some(plain), Some(key), Value::String(blob)) => {
                let text = key.open_string(Field::new(category.table, &record_key, plain), blob)?;
                out.insert(plain.to_string(), Value::String(super::withhold::withhold_links(&text).into_owned()));
            }
            (Some(_), _, _) => {}
            (None, _, Value::String(text)) => {
                let text = super::withhold::withhold_links(text).into_owned();
                out.insert(name, Value::String(text));
            }
            (None, _, _) => {
                out.insert(name, value);
            }
        }
    }
    Ok(Value::Object(out))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const HTML_HEAD: &[u8] = b"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Your Chat FB Top data</title>\
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;margin:.5rem 0 1.5rem}\
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}</style></head><body>\
<h1>Your Chat FB Top data</h1><p>The same data is in <code>data.json</code>, for machines.</p>";

fn write_html_row(html: &mut impl Write, row: &Value) -> std::io::Result<()> {
    html.write_all(b"<table>")?;
    if let Value::Object(fields) = row {
        for (name, value) in fields {
            let shown = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            write!(html, "<tr><th>{}</th><td>{}</td></tr>", escape(name), escape(&shown))?;
        }
    }
    html.write_all(b"</table>")
}

/// A file that is removed when this goes out of scope, whatever happened.
struct Scratch(std::path::PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Reads every category once: each page goes into `data.json` (the ZIP's
/// first entry) and into `index.html`'s body, which waits in a scratch file
/// sealed under a key that only this function holds, and is copied into the
/// ZIP after `data.json`.
async fn run(ctx: &Ctx, job_id: &str, account_id: &str, ready_notice_to: Option<String>) -> Result<()> {
    set_progress(ctx, job_id, ExportState::Running, 0).await?;
    let account_key = ctx.crypto.account_key(account_id).await?;
    let mut file_key = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(file_key.as_mut());
    let sealed_key = account_key.seal(Field::new("export_job", job_id, "file_key"), file_key.as_ref());
    std::fs::create_dir_all(&ctx.settings.exports_dir)?;
    let file = std::fs::File::create(file_path(ctx, job_id))?;
    let mut zip = ZipStream::new(SealingWriter::new(std::io::BufWriter::new(file), &file_key));
    let scratch = Scratch(scratch_path(ctx, job_id));
    let mut scratch_key = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(scratch_key.as_mut());
    let mut html = SealingWriter::new(std::io::BufWriter::new(std::fs::File::create(&scratch.0)?), &scratch_key);
    // The last step is copying index.html.
    let total_steps = INVENTORY.len() as i64 + 1;

    let mut json = zip.start("data.json")?;
    write!(json, "{{\"format_version\":{FORMAT_VERSION},\"exported_at\":{},\"categories\":{{", ctx.now())?;
    for (i, category) in INVENTORY.iter().enumerate() {
        write!(json, "{}{}:[", if i > 0 { "," } else { "" }, Value::String(category.key.into()))?;
        write!(html, "<h2>{}</h2><p>{}</p>", escape(category.title), escape(category.what))?;
        let mut after: Option<String> = None;
        let mut first = true;
        loop {
            let rows = page(ctx, category, account_id, &account_key, after.as_deref()).await?;
            for row in &rows {
                if !first {
                    json.write_all(b",")?;
                }
                first = false;
                serde_json::to_writer(&mut json, row).map_err(std::io::Error::other)?;
                write_html_row(&mut html, row)?;
            }
            if (rows.len() as i64) < PAGE {
                break;
            }
            after = rows.last().and_then(|r| r["id"].as_str()).map(str::to_string);
        }
        if first {
            html.write_all(b"<p><em>Nothing stored.</em></p>")?;
        }
        json.write_all(b"]")?;
        set_progress(ctx, job_id, ExportState::Running, (i as i64 + 1) * 100 / total_steps).await?;
    }
    json.write_all(b"}}")?;
    json.finish()?;
    html.finish()?;

    let mut entry = zip.start("index.html")?;
    entry.write_all(HTML_HEAD)?;
    let mut body = OpeningReader::new(std::fs::File::open(&scratch.0)?, &scratch_key);
    while let Some(chunk) = body.next_chunk()? {
        entry.write_all(&chunk)?;
    }
    entry.write_all(b"</body></html>")?;
    entry.finish()?;
    drop(scratch);
    let sealer = zip.finish()?;
    sealer.finish()?.into_inner().map_err(|e| e.into_error())?.sync_all()?;

    let now = ctx.now();
    let hours = crate::policies::retention::retention_settings(ctx).await?.export_hours;
    let expires_at = now + hours * 3600;
    ctx.db
        .client()
        .query("UPDATE $id SET status = 'ready', progress = 100, finished_at = $now, expires_at = $expires, file_key_sealed = $key")
        .bind(("id", RecordId::new("export_job", job_id.to_string())))
        .bind(("now", now))
        .bind(("expires", expires_at))
        .bind(("key", sealed_key))
        .await?
        .check()?;
    if let Some(email) = ready_notice_to {
        mail::enqueue(ctx, templates::export_ready(&email, &ctx.link("/account/privacy"), hours).for_account(account_id)).await?;
    }
    tracing::info!(job = %job_id, "export ready");
    Ok(())
}

fn not_found() -> Error {
    Error::internal("export download", "no such export, or another account's, or expired")
}

/// Opens a ready export for its owner: yields the ZIP's bytes chunk by chunk.
pub async fn open_for_download(ctx: &Ctx, account_id: &str, job_id: &str) -> Result<OpeningReader<std::fs::File>> {
    let row: Option<JobRow> = ctx
        .db
        .client()
        .query("SELECT * FROM ONLY $id WHERE account = $account")
        .bind(("id", RecordId::new("export_job", job_id.to_string())))
        .bind(("account", account_record(account_id)))
        .await?
        .take(0)?;
    let row = row.ok_or(not_found())?;
    let live = row.status.parse::<ExportState>()? == ExportState::Ready && row.expires_at.is_some_and(|t| t > ctx.now());
    let sealed_key = row.file_key_sealed.filter(|_| live).ok_or(not_found())?;
    let account_key = ctx.crypto.account_key(account_id).await?;
    let raw = account_key.open(Field::new("export_job", job_id, "file_key"), &sealed_key)?;
    let mut key = Zeroizing::new([0u8; 32]);
    if raw.len() != 32 {
        return Err(not_found());
    }
    key.copy_from_slice(&raw);
    let file = std::fs::File::open(file_path(ctx, job_id)).map_err(|_| not_found())?;
    Ok(OpeningReader::new(file, &key))
}

/// Deletes expired export files and their jobs; marks the jobs that this
/// instance was running when it stopped (`interrupted_before` its start) as
/// failed. Returns how many exports were deleted.
pub async fn purge_expired(ctx: &Ctx, interrupted_before: Option<i64>) -> Result<i64> {
    let now = ctx.now();
    let expired: Vec<RecordId> =
        ctx.db.client().query("SELECT VALUE id FROM export_job WHERE expires_at != NONE AND expires_at <= $now").bind(("now", now)).await?.take(0)?;
    let deleted = expired.len() as i64;
    for id in expired {
        let _ = std::fs::remove_file(file_path(ctx, &key_string(&id)));
        ctx.db.client().query("DELETE $id").bind(("id", id)).await?.check()?;
    }
    if let Some(before) = interrupted_before {
        // Their files were cut off mid-way: unreadable, and no use to anyone.
        let interrupted: Vec<RecordId> = ctx
            .db
            .client()
            .query("SELECT VALUE id FROM export_job WHERE status IN ['queued', 'running'] AND created_at < $before AND (runner = NONE OR runner = $me)")
            .bind(("before", before))
            .bind(("me", ctx.instance.to_string()))
            .await?
            .take(0)?;
        for id in &interrupted {
            let _ = std::fs::remove_file(file_path(ctx, &key_string(id)));
            let _ = std::fs::remove_file(scratch_path(ctx, &key_string(id)));
        }
        ctx.db.client().query("UPDATE $ids SET status = 'failed'").bind(("ids", interrupted)).await?.check()?;
    }
    Ok(deleted)
}

/// Erasure: the account's export files go with it.
pub async fn delete_files_of(ctx: &Ctx, account_id: &str) -> Result<()> {
    let ids: Vec<RecordId> =
        ctx.db.client().query("SELECT VALUE id FROM export_job WHERE account = $account").bind(("account", account_record(account_id))).await?.take(0)?;
    for id in ids {
        let _ = std::fs::remove_file(file_path(ctx, &key_string(&id)));
    }
    Ok(())
}
