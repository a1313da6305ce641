//! What a campaign's content must be, pure and shared: the composer shows
//! each error at its field while the user types, and the server refuses a
//! campaign that breaks a rule with the same sentence. The button's link is
//! checked by a function the caller gives: the server parses it fully; the
//! browser, which has no URL parser in its bundle, looks at its form.

use crate::messaging::MAX_TEXT_CHARS;
use crate::template::{self, UNSUBSCRIBE_RESERVE};
use crate::text::is_single_line;
use crate::types::CampaignInput;

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_QUICK_REPLIES: usize = 13;
pub const MAX_QUICK_REPLY_CHARS: usize = 20;
pub const MAX_BUTTON_TITLE_CHARS: usize = 20;
/// A button template's text is limited to 640 characters by Meta.
pub const MAX_BUTTON_TEXT: usize = 640;
/// Meta's limit per Page.
pub const MAX_RATE: i64 = 300;

/// The composer's fields that have rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CampaignField {
    Name,
    Text,
    FallbackFirstName,
    FallbackLastName,
    QuickReplies,
    ButtonTitle,
    ButtonUrl,
    MarginHours,
    Rate,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: CampaignField,
    pub reason: String,
}

fn error(field: CampaignField, reason: impl Into<String>) -> FieldError {
    FieldError { field, reason: reason.into() }
}

/// Every broken rule, in the form's order.
pub fn field_errors(input: &CampaignInput, is_https_link: impl Fn(&str) -> bool) -> Vec<FieldError> {
    use CampaignField::*;
    let mut errors = Vec::new();
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        errors.push(error(Name, "give it a name of at most 100 characters."));
    } else if !is_single_line(&input.name) {
        errors.push(error(Name, "the name must be a single line."));
    }
    if let Err(reason) = template::validate(&input.text) {
        errors.push(error(Text, reason));
    } else {
        let limit = if input.button_title.is_some() { MAX_BUTTON_TEXT } else { MAX_TEXT_CHARS };
        let longest = template::render(&input.text, Some(&"W".repeat(40)), Some(&"W".repeat(40)), "", "", &"W".repeat(60));
        if longest.chars().count() + UNSUBSCRIBE_RESERVE > limit {
            errors.push(error(Text, format!("the message is too long: at most {} characters with the unsubscribe link.", limit - UNSUBSCRIBE_RESERVE)));
        }
    }
    for (field, value) in [(FallbackFirstName, &input.fallback_first_name), (FallbackLastName, &input.fallback_last_name)] {
        if !is_single_line(value) {
            errors.push(error(field, "a fallback name must be a single line."));
        }
    }
    let replies = &input.quick_replies;
    if !replies.iter().all(|q| is_single_line(q)) {
        errors.push(error(QuickReplies, "each quick reply must be a single line."));
    } else if replies.len() > MAX_QUICK_REPLIES || replies.iter().any(|q| q.trim().is_empty() || q.chars().count() > MAX_QUICK_REPLY_CHARS) {
        errors.push(error(QuickReplies, "quick replies: at most 13, each 1 to 20 characters."));
    } else if input.button_title.is_some() && !replies.is_empty() {
        errors.push(error(QuickReplies, "choose quick replies or a button, not both."));
    }
    match (&input.button_title, &input.button_url) {
        (None, None) => {}
        (title, url) => {
            let title = title.as_deref().unwrap_or("");
            if !is_single_line(title) {
                errors.push(error(ButtonTitle, "the button's title must be a single line."));
            } else if title.trim().is_empty() || title.chars().count() > MAX_BUTTON_TITLE_CHARS {
                errors.push(error(ButtonTitle, "a button needs a title of at most 20 characters."));
            }
            let url = url.as_deref().unwrap_or("");
            if !is_single_line(url) {
                errors.push(error(ButtonUrl, "the button's link must be a single line."));
            } else if !is_https_link(url) {
                errors.push(error(ButtonUrl, "a button needs an https:// link."));
            }
        }
    }
    if !(1..=24).contains(&input.margin_hours) {
        errors.push(error(MarginHours, "the window margin is 1 to 24 hours (Meta's window is 24 hours)."));
    }
    if !(1..=MAX_RATE).contains(&input.rate_per_sec) {
        errors.push(error(Rate, "the sending rate is 1 to 300 messages per second (Meta's limit per Page)."));
    }
    errors
}

/// The browser's look at a link: `https://`, a host, no spaces. The server
/// parses it fully when the campaign is saved.
pub fn looks_like_https_link(link: &str) -> bool {
    link.strip_prefix("https://").is_some_and(|rest| !rest.is_empty() && !rest.starts_with(['/', '\\', '.']) && !rest.contains(char::is_whitespace))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> CampaignInput {
        CampaignInput { name: "Spring".into(), page: "p".into(), text: "Hi {{first_name}}!".into(), ..CampaignInput::default() }
    }

    fn fields(input: &CampaignInput) -> Vec<CampaignField> {
        field_errors(input, looks_like_https_link).into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_valid_campaign_has_no_error() {
        assert!(field_errors(&valid(), looks_like_https_link).is_empty());
    }

    #[test]
    fn the_name_is_required_and_at_most_100_characters_on_one_line() {
        for (name, bad) in [("", true), ("   ", true), (&"n".repeat(100) as &str, false), (&"n".repeat(101), true), ("two\nlines", true)] {
            let input = CampaignInput { name: name.to_string(), ..valid() };
            assert_eq!(fields(&input) == [CampaignField::Name], bad, "{name:?}");
        }
    }

    #[test]
    fn the_text_keeps_room_for_the_unsubscribe_link() {
        let most = MAX_TEXT_CHARS - UNSUBSCRIBE_RESERVE;
        assert!(fields(&CampaignInput { text: "a".repeat(most), ..valid() }).is_empty());
        assert_eq!(fields(&CampaignInput { text: "a".repeat(most + 1), ..valid() }), [CampaignField::Text]);
        assert_eq!(fields(&CampaignInput { text: "Hi {{email}}".into(), ..valid() }), [CampaignField::Text]);
        // With a button, Meta's shorter limit applies.
        let button = CampaignInput { button_title: Some("Shop".into()), button_url: Some("https://shop.example".into()), ..valid() };
        let with_button = MAX_BUTTON_TEXT - UNSUBSCRIBE_RESERVE;
        assert!(fields(&CampaignInput { text: "a".repeat(with_button), ..button.clone() }).is_empty());
        assert_eq!(fields(&CampaignInput { text: "a".repeat(with_button + 1), ..button }), [CampaignField::Text]);
    }

    #[test]
    fn quick_replies_at_most_13_of_1_to_20_characters_and_never_with_a_button() {
        let replies = |n: usize, len: usize| (0..n).map(|_| "q".repeat(len)).collect::<Vec<_>>();
        assert!(fields(&CampaignInput { quick_replies: replies(13, 20), ..valid() }).is_empty());
        assert_eq!(fields(&CampaignInput { quick_replies: replies(14, 1), ..valid() }), [CampaignField::QuickReplies]);
        assert_eq!(fields(&CampaignInput { quick_replies: replies(1, 21), ..valid() }), [CampaignField::QuickReplies]);
        let both = CampaignInput { quick_replies: replies(1, 3), button_title: Some("Go".into()), button_url: Some("https://a.example".into()), ..valid() };
        assert_eq!(fields(&both), [CampaignField::QuickReplies]);
    }

    #[test]
    fn a_button_needs_a_short_title_and_an_https_link() {
        let button = |title: &str, url: &str| CampaignInput { button_title: Some(title.into()), button_url: Some(url.into()), ..valid() };
        assert!(fields(&button("Shop now", "https://shop.example/new")).is_empty());
        assert_eq!(fields(&button("", "https://shop.example")), [CampaignField::ButtonTitle]);
        assert_eq!(fields(&button(&"t".repeat(21), "https://shop.example")), [CampaignField::ButtonTitle]);
        assert_eq!(fields(&button("Shop", "http://shop.example")), [CampaignField::ButtonUrl]);
        assert_eq!(fields(&button("Shop", "https://")), [CampaignField::ButtonUrl]);
        assert_eq!(fields(&CampaignInput { button_title: Some("Shop".into()), ..valid() }), [CampaignField::ButtonUrl], "a title without a link");
    }

    #[test]
    fn the_window_margin_is_1_to_24_hours_and_the_rate_1_to_300() {
        for (hours, ok) in [(0, false), (1, true), (24, true), (25, false)] {
            assert_eq!(fields(&CampaignInput { margin_hours: hours, ..valid() }).is_empty(), ok, "{hours} h");
        }
        for (rate, ok) in [(0, false), (1, true), (300, true), (301, false)] {
            assert_eq!(fields(&CampaignInput { rate_per_sec: rate, ..valid() }).is_empty(), ok, "{rate}/s");
        }
    }
}
