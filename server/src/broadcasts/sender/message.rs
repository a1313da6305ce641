//! The Send API body of one broadcast message: pure, so that its rules are
//! tested on their own. The text gets its variables, the bot disclosure if
//! the Page asks for one, and the unsubscribe link, always; the type is
//! UPDATE (a proactive message inside the window), never a message tag.

use serde_json::{json, Value};

use crate::broadcasts::{template, CampaignContent};
use crate::messenger::ingest::CAMPAIGN_METADATA_PREFIX;
use crate::messenger::keywords::BOT_DISCLOSURE;

/// One recipient, as the message needs them.
pub struct Recipient<'a> {
    /// The queue row's key: it comes back in the echo.
    pub recipient_key: &'a str,
    pub psid: &'a str,
    pub first_name: Option<&'a str>,
    pub full_name: Option<&'a str>,
    pub unsubscribe_link: &'a str,
}

/// Where the message comes from.
pub struct Sender<'a> {
    pub page_name: &'a str,
    pub bot_disclosure: bool,
}

pub fn build(content: &CampaignContent, from: &Sender<'_>, to: &Recipient<'_>) -> Value {
    let last_name = match (to.first_name, to.full_name) {
        (Some(first), Some(full)) => full.strip_prefix(first).map(|l| l.trim().to_string()),
        (None, Some(full)) => Some(full.to_string()),
        _ => None,
    };
    let c = content;
    let mut text = template::render(&c.text, to.first_name, last_name.as_deref(), &c.fallback_first_name, &c.fallback_last_name, from.page_name);
    if from.bot_disclosure {
        text = format!("{BOT_DISCLOSURE} {text}");
    }
    text.push_str(&template::unsubscribe_footer(to.unsubscribe_link));
    let metadata = format!("{CAMPAIGN_METADATA_PREFIX}{}", to.recipient_key);
    let message = match (&c.button_title, &c.button_url) {
        (Some(title), Some(url)) => json!({
            "attachment": {"type": "template", "payload": {"template_type": "button", "text": text,
                "buttons": [{"type": "web_url", "url": url, "title": title}]}},
            "metadata": metadata,
        }),
        _ => {
            let mut m = json!({"text": text, "metadata": metadata});
            if !c.quick_replies.is_empty() {
                m["quick_replies"] =
                    c.quick_replies.iter().enumerate().map(|(i, q)| json!({"content_type": "text", "title": q, "payload": format!("QR_{i}")})).collect();
            }
            m
        }
    };
    json!({"recipient": {"id": to.psid}, "messaging_type": "UPDATE", "message": message})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(text: &str) -> CampaignContent {
        CampaignContent {
            name: "Spring".into(),
            text: text.into(),
            fallback_first_name: "friend".into(),
            fallback_last_name: String::new(),
            quick_replies: Vec::new(),
            button_title: None,
            button_url: None,
        }
    }

    fn ada<'a>() -> Recipient<'a> {
        Recipient {
            recipient_key: "r1",
            psid: "psid-1",
            first_name: Some("Ada"),
            full_name: Some("Ada Lovelace"),
            unsubscribe_link: "https://shop.example/u/tok",
        }
    }

    const SHOP: Sender<'static> = Sender { page_name: "Shop", bot_disclosure: false };

    #[test]
    fn a_message_is_an_update_with_its_variables_the_unsubscribe_link_and_the_echo_metadata() {
        let body = build(&content("Hi {{first_name}} {{last_name}}, news from {{page_name}}"), &SHOP, &ada());
        assert_eq!(body["messaging_type"], "UPDATE");
        assert!(body.get("tag").is_none(), "a broadcast never carries a message tag");
        assert_eq!(body["recipient"]["id"], "psid-1");
        assert_eq!(body["message"]["text"], "Hi Ada Lovelace, news from Shop\n\nUnsubscribe: https://shop.example/u/tok");
        assert_eq!(body["message"]["metadata"], "cfbt:r1");
    }

    #[test]
    fn a_lead_without_a_name_gets_the_fallback() {
        let nameless = Recipient { first_name: None, full_name: None, ..ada() };
        let body = build(&content("Hi {{first_name}}"), &SHOP, &nameless);
        assert!(body["message"]["text"].as_str().unwrap().starts_with("Hi friend\n\nUnsubscribe: "));
    }

    #[test]
    fn the_bot_disclosure_comes_first_when_the_page_asks_for_it() {
        let body = build(&content("Hello"), &Sender { page_name: "Shop", bot_disclosure: true }, &ada());
        assert!(body["message"]["text"].as_str().unwrap().starts_with(&format!("{BOT_DISCLOSURE} Hello")));
        let plain = build(&content("Hello"), &SHOP, &ada());
        assert!(plain["message"]["text"].as_str().unwrap().starts_with("Hello"));
    }

    #[test]
    fn a_button_makes_a_button_template_that_keeps_the_unsubscribe_link() {
        let with_button = CampaignContent { button_title: Some("Shop now".into()), button_url: Some("https://shop.example/sale".into()), ..content("Sale") };
        let body = build(&with_button, &SHOP, &ada());
        let payload = &body["message"]["attachment"]["payload"];
        assert_eq!(payload["template_type"], "button");
        assert!(payload["text"].as_str().unwrap().ends_with("Unsubscribe: https://shop.example/u/tok"));
        assert_eq!(payload["buttons"][0]["url"], "https://shop.example/sale");
        assert_eq!(body["message"]["metadata"], "cfbt:r1");
        assert!(body["message"].get("quick_replies").is_none());
    }

    #[test]
    fn quick_replies_are_numbered_payloads() {
        let with_replies = CampaignContent { quick_replies: vec!["Yes".into(), "No".into()], ..content("Coming?") };
        let body = build(&with_replies, &SHOP, &ada());
        assert_eq!(body["message"]["quick_replies"][1], json!({"content_type": "text", "title": "No", "payload": "QR_1"}));
    }
}
