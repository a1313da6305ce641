//! Every one-line text field refuses line breaks and other control
//! characters, and a refused save writes nothing.

use serde_json::{json, Value};

use super::admin::admin;
use super::broadcasts::campaign;
use super::support::World;
use super::support::*;

const BROKEN: &str = "Sale\r\nBcc: someone@example.org";

fn refused_field(reply: &Reply) -> String {
    reply.error()["NotSingleLine"]["field"].as_str().unwrap_or_else(|| panic!("not a single-line refusal: {}", reply.error())).to_string()
}

/// `base` with the value at `path` (object keys, or an index into an array) replaced by `BROKEN`.
fn broken_at(base: &Value, path: &[&str]) -> Value {
    let mut value = base.clone();
    let mut at = &mut value;
    for step in path {
        at = match step.parse::<usize>() {
            Ok(index) => &mut at[index],
            Err(_) => &mut at[*step],
        };
    }
    *at = json!(BROKEN);
    value
}

#[tokio::test]
async fn admin_forms_refuse_a_line_break_in_every_one_line_field_and_write_nothing() {
    let server = TestServer::start(&[]).await;
    let mut boss = admin(&server, "boss.lines@example.org").await;
    verified_account(&server, "kept.user@example.org", STRONG_PASSWORD).await;
    let target_id = account_id(&server, "kept.user@example.org").await;

    let policy = json!({"password": STRONG_PASSWORD, "document": "terms", "title": "Terms", "body": "Line one\nLine two", "summary": "What changed"});
    let recipient = json!({"password": STRONG_PASSWORD, "recipient": {"id": "", "name": "Mailjet SAS", "purpose": "Sending account mail",
        "categories": ["email address"], "country": "France", "safeguards": "EU processor"}});
    let breach = json!({"input": {"discovered_local": "2026-11-29T10:00", "utc_offset_minutes": 0, "nature": "A lost disk",
        "categories": ["email addresses"], "approx_affected": 1, "consequences": "Phishing", "measures": "Keys rotated"}});
    let delete = json!({"password": STRONG_PASSWORD, "account_id": target_id, "reason": "Asked by phone"});
    let view = json!({"account_id": target_id, "reason": "Support ticket"});
    let cases: [(&str, &Value, &[&str], &str); 14] = [
        ("admin/publish-policy", &policy, &["title"], "The title"),
        ("admin/publish-policy", &policy, &["summary"], "The summary"),
        ("admin/save-recipient", &recipient, &["recipient", "name"], "The recipient's name"),
        ("admin/save-recipient", &recipient, &["recipient", "purpose"], "The purpose"),
        ("admin/save-recipient", &recipient, &["recipient", "country"], "The country"),
        ("admin/save-recipient", &recipient, &["recipient", "safeguards"], "The safeguards"),
        ("admin/save-recipient", &recipient, &["recipient", "categories", "0"], "Each category of data"),
        ("admin/record-breach", &breach, &["input", "nature"], "The nature of the breach"),
        ("admin/record-breach", &breach, &["input", "consequences"], "The likely consequences"),
        ("admin/record-breach", &breach, &["input", "measures"], "The measures taken"),
        ("admin/record-breach", &breach, &["input", "categories", "0"], "Each category of data"),
        ("admin/delete-user", &delete, &["reason"], "The reason"),
        ("admin/view-personal-data", &view, &["reason"], "The reason"),
        ("admin/view-personal-data", &json!({"account_id": target_id, "reason": "Ticket \u{202E}evil"}), &[], "The reason"),
    ];
    for (endpoint, base, path, field) in cases {
        let args = if path.is_empty() { base.clone() } else { broken_at(base, path) };
        let reply = boss.post(endpoint, args).await;
        assert_eq!(refused_field(&reply), field, "{endpoint} {path:?}");
    }

    // Nothing was written by any refusal.
    assert_eq!(server.client().get("privacy/recipients").await.ok(), &json!([]));
    assert_eq!(boss.post("admin/breaches", json!({})).await.ok(), &json!([]));
    let users = boss.post("admin/users", json!({"email": "kept.user@example.org", "before": null})).await.ok().clone();
    assert_eq!(users["users"].as_array().map(Vec::len), Some(1), "{users}");
    let log = boss.post("admin/actions", json!({"before": null})).await.ok().clone();
    assert!(!log.to_string().contains("view_personal_data") && !log.to_string().contains("delete_user"), "{log}");
    assert_eq!(boss.me().await["pending_policies"], json!([]), "no policy version was published");

    // The same forms with one-line values go through (a published policy
    // is then the admin's to accept, so it comes last).
    for (endpoint, args) in
        [("admin/save-recipient", &recipient), ("admin/record-breach", &breach), ("admin/view-personal-data", &view), ("admin/publish-policy", &policy)]
    {
        boss.accept_shown_policies().await.ok();
        boss.post(endpoint, args.clone()).await.ok();
    }
    server.stop().await;
}

#[tokio::test]
async fn a_campaign_refuses_a_line_break_in_its_fallbacks_quick_replies_and_button() {
    let mut w = World::start("lines.owner@example.org").await;
    let quick = campaign(&w, "Spring news", &[], &[]);
    let mut button = quick.clone();
    button["input"]["quick_replies"] = json!([]);
    button["input"]["button_title"] = json!("Shop now");
    button["input"]["button_url"] = json!("https://shop.example.org/spring");
    let cases: [(&Value, &[&str]); 6] = [
        (&quick, &["input", "name"]),
        (&quick, &["input", "fallback_first_name"]),
        (&quick, &["input", "fallback_last_name"]),
        (&quick, &["input", "quick_replies", "1"]),
        (&button, &["input", "button_title"]),
        (&button, &["input", "button_url"]),
    ];
    for (base, path) in cases {
        let reply = w.api.post("broadcasts/save", broken_at(base, path)).await;
        assert_ne!(reply.status, 200, "{path:?} was saved");
        let refused = reply.error().to_string();
        assert!(refused.contains("InvalidCampaign") && refused.contains("single line"), "{path:?}: {refused}");
    }
    let mut tab_in_link = button.clone();
    tab_in_link["input"]["button_url"] = json!("https://shop.example.org/\tspring");
    assert!(w.api.post("broadcasts/save", tab_in_link).await.error().to_string().contains("single line"));
    for link in ["http://shop.example.org", "https://user:pw@shop.example.org", "https:///spring"] {
        let mut bad = button.clone();
        bad["input"]["button_url"] = json!(link);
        let refused = w.api.post("broadcasts/save", bad).await.error().to_string();
        assert!(refused.contains("https:// link"), "{link}: {refused}");
    }
    assert_eq!(w.api.get("broadcasts/campaigns").await.ok(), &json!([]), "nothing was saved");
    w.api.post("broadcasts/save", button).await.ok();
    w.api.post("broadcasts/save", quick).await.ok();
}
