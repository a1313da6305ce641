//! Which optional notices an account wants by mail.

use super::*;

pub async fn notification_settings(ctx: &Ctx, caller: &Ready) -> Result<NotificationSettings> {
    let account = load_account(ctx, caller.account_id()).await?.ok_or(AppError::NotSignedIn)?;
    Ok(account.notices())
}

impl Account {
    pub(super) fn notices(&self) -> NotificationSettings {
        NotificationSettings {
            new_signin: self.row.notify_new_signin,
            policy_updates: self.row.notify_policy_updates,
            export_ready: self.row.notify_export_ready,
        }
    }
}

pub async fn set_notification_settings(ctx: &Ctx, caller: &Ready, settings: NotificationSettings) -> Result<()> {
    ctx.db
        .client()
        .query("UPDATE $id SET notify_new_signin = $a, notify_policy_updates = $b, notify_export_ready = $c")
        .bind(("id", account_record(caller.account_id())))
        .bind(("a", settings.new_signin))
        .bind(("b", settings.policy_updates))
        .bind(("c", settings.export_ready))
        .await?
        .check()?;
    Ok(())
}
