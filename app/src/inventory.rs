//! The data inventory: every category of personal data the app stores,
//! declared once. It renders the public privacy page and the admin's record
//! of processing (GDPR Art. 30), and drives export and erasure, so a
//! category added here is exported and erased without extra code.
//!
//! Conventions the server relies on: an encrypted field is named `<name>_enc`
//! and its associated data names `<name>`.

use serde::{Deserialize, Serialize};

// The account's encryption key is not listed: it is not data about anyone,
// and erasure destroys it separately (see the server's crypto store).

/// How a table's rows are tied to an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Owner {
    /// The record key is the account id (the `account` table).
    RecordKey,
    /// A `record<account>` field holds the owner.
    Field(&'static str),
    /// Kept for accountability and tied to no one account (the admin action
    /// log): neither exported nor erased with an account.
    Retained,
    /// Held briefly and tied to no account: webhook deliveries and requests
    /// until they are carried out, attempt limits until they no longer
    /// matter. Deleted then, so neither exported nor erased.
    Queued,
    /// Kept for the leads of possibly several accounts (a signed delivery
    /// that made someone a lead): never exported, since it can hold other
    /// accounts' data, and deleted with any person it names.
    Shared,
}

/// Which key seals the category's encrypted fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sealing {
    AccountKey,
    SystemKey,
    /// Nothing personal is encrypted in this table.
    None,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DataCategory {
    pub key: &'static str,
    pub title: &'static str,
    pub what: &'static str,
    pub table: &'static str,
    pub owner: Owner,
    pub sealing: Sealing,
    /// Encrypted personal fields (`*_enc`).
    pub personal_fields: &'static [&'static str],
    /// Fields never exported: hashes and wrapped keys, useless outside the app.
    pub internal_fields: &'static [&'static str],
    pub purpose: &'static str,
    pub legal_basis: &'static str,
    pub retention: &'static str,
    pub recipients: &'static [&'static str],
}

const CONTRACT: &str = "Contract (GDPR Art. 6(1)(b)): needed to provide the account you asked for";
const LEGITIMATE_SECURITY: &str = "Legitimate interest (GDPR Art. 6(1)(f)): protecting your account";
const LEGAL_OBLIGATION: &str = "Legal obligation (GDPR Art. 7(1)): proving consent";

const MAIL_OPERATOR: &str = "The operator of this installation's mail server, which delivers the mails we send you";
const META: &str = "Meta Platforms (Facebook), which delivers the Messenger messages";

/// Everyone the inventory says receives some personal data, once each: the
/// "who else receives it" sentences are derived from this, never written.
pub fn recipients() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = Vec::new();
    for name in INVENTORY.iter().flat_map(|c| c.recipients.iter().copied()) {
        if !all.contains(&name) {
            all.push(name);
        }
    }
    all
}

pub const INVENTORY: &[DataCategory] = &[
    DataCategory {
        key: "profile",
        title: "Profile",
        what: "Your email address, optional display name, role, and a hash of your password.",
        table: "account",
        owner: Owner::RecordKey,
        sealing: Sealing::AccountKey,
        personal_fields: &["email_enc", "display_name_enc", "pending_email_enc"],
        internal_fields: &["password_hash", "email_index", "pending_email_index", "signup_nonce_hash"],
        purpose: "Signing you in and sending you account notices.",
        legal_basis: CONTRACT,
        retention: "Until you delete your account.",
        recipients: &[MAIL_OPERATOR],
    },
    DataCategory {
        key: "sessions",
        title: "Sessions",
        what: "Your active sign-ins: when they started and were last used, and the browser family.",
        table: "session",
        owner: Owner::Field("account"),
        sealing: Sealing::AccountKey,
        personal_fields: &["user_agent_enc"],
        internal_fields: &["token_hash"],
        purpose: "Keeping you signed in, and letting you end sessions you do not recognise.",
        legal_basis: CONTRACT,
        retention: "30 idle minutes or 8 hours; 30 days with \"keep me signed in\"; ended at sign-out.",
        recipients: &[],
    },
    DataCategory {
        key: "signin_history",
        title: "Sign-in history",
        what: "The time, IP address and browser family of each sign-in.",
        table: "signin_event",
        owner: Owner::Field("account"),
        sealing: Sealing::AccountKey,
        personal_fields: &["ip_enc", "user_agent_enc"],
        internal_fields: &["device_index", "ip_index"],
        purpose: "Security only: you can spot a sign-in that was not you.",
        legal_basis: LEGITIMATE_SECURITY,
        retention: "30 days by default (set by the administrator), then deleted.",
        recipients: &[],
    },
    DataCategory {
        key: "consents",
        title: "Consent ledger",
        what: "Which version of the terms and privacy policy you accepted, and when.",
        table: "consent",
        owner: Owner::Field("account"),
        sealing: Sealing::None,
        personal_fields: &[],
        internal_fields: &[],
        purpose: "Proving what you agreed to.",
        legal_basis: LEGAL_OBLIGATION,
        retention: "Until you delete your account.",
        recipients: &[],
    },
    DataCategory {
        key: "account_links",
        title: "Pending links",
        what: "Single-use links we mailed you (email verification, password reset), stored only as hashes.",
        table: "account_token",
        owner: Owner::Field("account"),
        sealing: Sealing::None,
        personal_fields: &[],
        internal_fields: &["token_hash"],
        purpose: "Checking the links you click.",
        legal_basis: CONTRACT,
        retention: "1 to 24 hours, or until used.",
        recipients: &[],
    },
    DataCategory {
        key: "outbox",
        title: "Mail outbox",
        what: "Mails to you that are waiting to be sent. Their content is removed once sent.",
        table: "outbox",
        owner: Owner::Field("account"),
        sealing: Sealing::SystemKey,
        personal_fields: &["recipient_enc", "subject_enc", "body_enc"],
        internal_fields: &[],
        purpose: "Delivering notices reliably, even while the mail server is down.",
        legal_basis: CONTRACT,
        retention: "Content removed once delivered.",
        recipients: &[MAIL_OPERATOR],
    },
    DataCategory {
        key: "exports",
        title: "Data exports",
        what: "The copies of your data you asked for: when, and their state. The files themselves are encrypted.",
        table: "export_job",
        owner: Owner::Field("account"),
        sealing: Sealing::None,
        personal_fields: &[],
        internal_fields: &["file_key_sealed"],
        purpose: "Letting you download a copy of your data.",
        legal_basis: "Legal obligation (GDPR Art. 15 and 20): your rights of access and portability",
        retention: "The file is deleted 48 hours after it is ready (set by the administrator).",
        recipients: &[],
    },
    DataCategory {
        key: "access_log",
        title: "Admin access to your data",
        what: "Each time an administrator opened your personal data: when, with which role, which data, and why.",
        table: "access_log",
        owner: Owner::Field("account"),
        sealing: Sealing::AccountKey,
        personal_fields: &["reason_enc"],
        internal_fields: &[],
        purpose: "Showing you who looked at your data, and why.",
        legal_basis: "Legitimate interest (GDPR Art. 6(1)(f)): accountability of administrators",
        retention: "Until you delete your account.",
        recipients: &[],
    },
    DataCategory {
        key: "pages",
        title: "Connected Facebook Pages",
        what: "The Pages you connected: their Facebook id and name, and their access token (encrypted; it is not exported).",
        table: "page",
        owner: Owner::Field("account"),
        sealing: Sealing::AccountKey,
        personal_fields: &["name_enc"],
        internal_fields: &["token_sealed"],
        purpose: "Receiving and sending Messenger messages for your Pages.",
        legal_basis: CONTRACT,
        retention: "Until you disconnect the Page or delete your account.",
        recipients: &[META],
    },
    DataCategory {
        key: "page_logins",
        title: "Facebook sign-ins in progress",
        what: "While you pick Pages after signing in with Facebook: the Pages offered (encrypted). Deleted when you finish.",
        table: "page_login",
        owner: Owner::Field("account"),
        sealing: Sealing::None,
        personal_fields: &[],
        internal_fields: &["offered_sealed"],
        purpose: "Connecting the Pages you pick.",
        legal_basis: CONTRACT,
        retention: "15 minutes, or until you pick the Pages.",
        recipients: &[],
    },
    DataCategory {
        key: "leads",
        title: "Leads",
        what: "People who wrote to your Pages: their Page-scoped id, first and last name when Facebook shares them, whether they are subscribed, their labels, and the record of their opt-in (which Page, when, Facebook's signature and the signed delivery's hash).",
        table: "lead",
        owner: Owner::Field("account"),
        sealing: Sealing::AccountKey,
        // proof_body_enc and proof_signature_enc: the proof before schema step 12, converted at start.
        personal_fields: &["psid_enc", "first_name_enc", "last_name_enc", "proof_enc", "proof_body_enc", "proof_signature_enc"],
        internal_fields: &["ident", "proof_delivery"],
        purpose: "Answering the people who write to your Pages, and proving that they started the conversation.",
        legal_basis: "Legitimate interest (GDPR Art. 6(1)(f)) of the Page owner, who is the controller; we process on their behalf (Art. 28)",
        retention: "Until the Page owner deletes the lead, the person asks for erasure, or the inactivity period set by the administrator passes.",
        recipients: &[META],
    },
    DataCategory {
        key: "messages",
        title: "Conversations",
        what: "The messages between your Pages and your leads, in both directions.",
        table: "message",
        owner: Owner::Field("account"),
        sealing: Sealing::AccountKey,
        personal_fields: &["body_enc"],
        internal_fields: &["ident"],
        purpose: "Showing the conversation in the inbox.",
        legal_basis: "Legitimate interest (GDPR Art. 6(1)(f)) of the Page owner, who is the controller; we process on their behalf (Art. 28)",
        retention: "Until the lead is deleted, or the message retention period set by the administrator passes.",
        recipients: &[META],
    },
    DataCategory {
        key: "read_positions",
        title: "Read positions",
        what: "For each conversation you opened: how far you have read it (the id of the last message shown).",
        table: "conversation_read",
        owner: Owner::Field("account"),
        sealing: Sealing::None,
        personal_fields: &[],
        internal_fields: &[],
        purpose: "Showing which conversations have messages you have not read yet.",
        legal_basis: CONTRACT,
        retention: "Deleted with the lead or your account.",
        recipients: &[],
    },
    DataCategory {
        key: "labels",
        title: "Labels",
        what: "The labels you created to group leads (their names are encrypted with your key).",
        table: "label",
        owner: Owner::Field("account"),
        sealing: Sealing::AccountKey,
        personal_fields: &["name_enc"],
        internal_fields: &[],
        purpose: "Grouping leads.",
        legal_basis: CONTRACT,
        retention: "Until you delete the label or your account.",
        recipients: &[],
    },
    DataCategory {
        key: "suppression",
        title: "Suppression list",
        what: "Who unsubscribed from your Pages, kept only as a keyed hash of the Page and the person.",
        table: "suppression",
        owner: Owner::Field("account"),
        sealing: Sealing::None,
        personal_fields: &[],
        internal_fields: &[],
        purpose: "Honouring every unsubscribe in every later campaign (GDPR Art. 21), even after the lead itself was erased.",
        legal_basis: "Legal obligation (GDPR Art. 21(3)): no more direct marketing after an objection",
        retention: "Until the Page is disconnected with erasure, or your account is deleted.",
        recipients: &[],
    },
    DataCategory {
        key: "campaigns",
        title: "Campaigns",
        what: "Your broadcast campaigns: name, Page, message template with its quick replies or button (encrypted with your key), audience rules, schedule and state.",
        table: "campaign",
        owner: Owner::Field("account"),
        sealing: Sealing::AccountKey,
        personal_fields: &["content_enc"],
        internal_fields: &[],
        purpose: "Sending the bulk messages you compose, on time and within Meta's rules.",
        legal_basis: CONTRACT,
        retention: "Until you delete the campaign or your account.",
        recipients: &[META],
    },
    DataCategory {
        key: "campaign_recipients",
        title: "Campaign deliveries",
        what: "For each lead a campaign went to: whether it was sent, failed or skipped (and why), and whether it was delivered and read.",
        table: "campaign_recipient",
        owner: Owner::Field("account"),
        sealing: Sealing::None,
        personal_fields: &[],
        internal_fields: &["lease_owner"],
        purpose: "Sending each lead a campaign at most once, resuming after a crash, and the campaign's statistics.",
        legal_basis: "Legitimate interest (GDPR Art. 6(1)(f)) of the Page owner, who is the controller; we process on their behalf (Art. 28)",
        retention: "Deleted with the lead, the campaign, or your account.",
        recipients: &[],
    },
    DataCategory {
        key: "campaign_tallies",
        title: "Campaign counts",
        what: "For each campaign, what leads who have since erased their data added to its report: counts (sent, failed, skipped, delivered, read, unsubscribed) and the time of each send, never who.",
        table: "campaign_tally",
        owner: Owner::Field("account"),
        sealing: Sealing::None,
        personal_fields: &[],
        internal_fields: &[],
        purpose: "Keeping a campaign's report as it was when a lead erases their data.",
        legal_basis: CONTRACT,
        retention: "Deleted with the campaign or your account.",
        recipients: &[],
    },
    DataCategory {
        key: "campaign_echoes",
        title: "Campaign echoes",
        what: "Facebook's confirmation that a campaign message went out: its message id and time, per delivery.",
        table: "campaign_echo",
        owner: Owner::Field("account"),
        sealing: Sealing::None,
        personal_fields: &[],
        internal_fields: &[],
        purpose: "Never sending a lead the same campaign twice, even after a crash.",
        legal_basis: "Legitimate interest (GDPR Art. 6(1)(f)) of the Page owner, who is the controller; we process on their behalf (Art. 28)",
        retention: "Deleted with the campaign or your account.",
        recipients: &[],
    },
    DataCategory {
        key: "webhook_deliveries",
        title: "Incoming Messenger deliveries",
        what: "What Facebook delivers to the webhook (messages and events of people who write to a connected Page, with Facebook's signature), as it arrived.",
        table: "webhook_delivery",
        owner: Owner::Queued,
        sealing: Sealing::SystemKey,
        personal_fields: &["body_enc", "signature_enc", "signed_enc"],
        internal_fields: &["people", "forget", "redact_due"],
        purpose: "Answering Facebook at once and never losing a delivery: it is stored first, then applied to the Page's leads and conversations.",
        legal_basis: "Legitimate interest (GDPR Art. 6(1)(f)) of the Page owner, who is the controller; we process on their behalf (Art. 28)",
        retention: "Deleted as soon as it is applied, normally within a second; one that cannot be applied is kept and retried. Erasing a person takes their events out of one not applied yet.",
        recipients: &[],
    },
    DataCategory {
        key: "inbox_signals",
        title: "Live inbox signals",
        what: "That a conversation changed: the ids of the account and the lead, nothing else.",
        table: "inbox_signal",
        owner: Owner::Queued,
        sealing: Sealing::None,
        personal_fields: &[],
        internal_fields: &[],
        purpose: "Showing a new message at once in every open inbox, whichever server instance received it.",
        legal_basis: CONTRACT,
        retention: "The row is deleted in the transaction that writes it; the database's change feed keeps it for one hour.",
        recipients: &[],
    },
    DataCategory {
        key: "account_requests",
        title: "Sign-up and mail requests",
        what: "A sign-up (address, display name, password hash), a request for a password-reset or verification mail (address), or an email change (the new address), until it is carried out.",
        table: "account_request",
        owner: Owner::Queued,
        sealing: Sealing::SystemKey,
        personal_fields: &["request_enc"],
        internal_fields: &[],
        purpose: "Answering every such request alike, whether or not the address has an account, so that no one can find out which addresses do.",
        legal_basis: CONTRACT,
        retention: "Deleted once carried out, normally within a second.",
        recipients: &[],
    },
    DataCategory {
        key: "signed_deliveries",
        title: "Signed opt-in deliveries",
        what: "The delivery Facebook signed when someone first wrote to a Page, exactly as it arrived. One delivery can hold messages of several people, for Pages of several accounts.",
        table: "signed_delivery",
        owner: Owner::Shared,
        sealing: Sealing::SystemKey,
        personal_fields: &["body_enc"],
        internal_fields: &["people"],
        purpose: "Proving that a person started the conversation (\"Verify proof\" checks it against Facebook's signature). It is kept apart and never exported, because it can hold other people's data; each lead keeps its own part of it (see Leads).",
        legal_basis: "Legitimate interest (GDPR Art. 6(1)(f)) of the Page owner, who is the controller; we process on their behalf (Art. 28)",
        retention: "Until the message retention period passes, or any person in it is erased (by their own request, Facebook's deletion callback, the Page owner, or inactivity); the leads that pointed to it then keep a record that can no longer be re-checked.",
        recipients: &[],
    },
    DataCategory {
        key: "attempt_limits",
        title: "Attempt limits",
        what: "How many sign-ins, password checks, sign-ups and mail requests recently failed or were made from one IP address or for one address, stored under a keyed hash of that IP or address (never the value itself).",
        table: "attempt_limit",
        owner: Owner::Queued,
        sealing: Sealing::None,
        personal_fields: &[],
        internal_fields: &[],
        purpose: "Security only: slowing down password guessing and mail flooding, alike on every server instance.",
        legal_basis: LEGITIMATE_SECURITY,
        retention: "Deleted by the hourly purge once it no longer matters: a day after the last failure, or an hour after the first request.",
        recipients: &[],
    },
    DataCategory {
        key: "admin_actions",
        title: "Admin action log",
        what: "What administrators did (for example, disabling an account), when, and the reason they gave.",
        table: "admin_action",
        owner: Owner::Retained,
        sealing: Sealing::SystemKey,
        personal_fields: &["reason_enc"],
        internal_fields: &[],
        purpose: "Accountability of administrators.",
        legal_basis: "Legitimate interest (GDPR Art. 6(1)(f)): accountability of administrators",
        retention: "Kept for the life of the installation; it names accounts only by a random id.",
        recipients: &[],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_tables_are_unique_and_fields_follow_the_naming_rule() {
        let mut keys: Vec<_> = INVENTORY.iter().map(|c| c.key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), INVENTORY.len());
        for c in INVENTORY {
            for f in c.personal_fields {
                assert!(f.ends_with("_enc"), "{}.{f}: encrypted fields end in _enc", c.table);
            }
            assert!(!(c.personal_fields.is_empty() && c.sealing != Sealing::None), "{}: a sealed category names its sealed fields", c.key);
            assert!(!c.purpose.is_empty() && !c.legal_basis.is_empty() && !c.retention.is_empty());
        }
    }

    #[test]
    fn the_recipients_are_every_category_s_recipients_once_each() {
        let all = recipients();
        for c in INVENTORY {
            for r in c.recipients {
                assert!(all.contains(r), "{}: {r} is missing", c.key);
            }
        }
        let unique: std::collections::BTreeSet<_> = all.iter().collect();
        assert_eq!(unique.len(), all.len());
        assert_eq!(all, [MAIL_OPERATOR, META]);
    }
}
