//! The signed-in home: first steps, new leads and unsubscribes per local
//! day, open conversations and the newest campaigns.

use serde_json::{json, Value};

use super::broadcasts::{campaign, lead_at};
use super::support::World;

async fn dashboard(w: &mut World, utc_offset_minutes: i32) -> Value {
    w.api.get(&format!("broadcasts/dashboard?utc_offset_minutes={utc_offset_minutes}")).await.ok().clone()
}

fn day_counts(d: &Value, field: &str) -> Vec<i64> {
    d["days"].as_array().unwrap().iter().map(|day| day[field].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn the_dashboard_counts_leads_and_unsubscribes_per_local_day_and_the_open_conversations() {
    let mut w = World::start("dashboard@example.org").await;
    let start = dashboard(&mut w, 0).await;
    assert_eq!(start["steps"], json!({"page_connected": true, "lead_answered": false, "campaign_sent": false}));
    assert_eq!(day_counts(&start, "new_leads"), [0; 14]);
    assert_eq!((start["open_conversations"].as_i64(), start["recent_campaigns"].as_array().map(Vec::len)), (Some(0), Some(0)));

    // One lead, then two days later another, who writes STOP.
    lead_at(&mut w, "d1", "Dana", 0).await;
    w.advance(2 * 86_400).await;
    lead_at(&mut w, "d2", "Dora", 0).await;
    assert_eq!(w.write("d2", "STOP").await, 200);
    w.applied().await;
    let d = dashboard(&mut w, 0).await;
    let mut leads = [0; 14];
    (leads[11], leads[13]) = (1, 1);
    assert_eq!(day_counts(&d, "new_leads"), leads, "{d}");
    let mut unsubscribes = [0; 14];
    unsubscribes[13] = 1;
    assert_eq!(day_counts(&d, "unsubscribes"), unsubscribes, "{d}");
    // d1 last wrote two days ago: its window is closed.
    assert_eq!(d["open_conversations"], 1);
    // Days start at local midnight, today the last: fourteen of them, a day apart.
    let starts: Vec<i64> = d["days"].as_array().unwrap().iter().map(|day| day["day_start"].as_i64().unwrap()).collect();
    let now = w.server.clock_now();
    assert!(starts[13] <= now && now < starts[13] + 86_400 && starts[13] % 86_400 == 0, "{starts:?}");
    assert!(starts.windows(2).all(|pair| pair[1] - pair[0] == 86_400));
    // Twelve hours east of UTC, the local day starts twelve hours earlier in UTC, or twelve later.
    let east: Vec<i64> = day_counts(&dashboard(&mut w, 720).await, "new_leads");
    assert_eq!(east.iter().sum::<i64>(), 2);
    let east_starts = dashboard(&mut w, 720).await["days"][13]["day_start"].as_i64().unwrap();
    assert_eq!((east_starts + 720 * 60) % 86_400, 0);

    // The newest three campaigns, newest first.
    for name in ["First", "Second", "Third", "Fourth"] {
        w.api.post("broadcasts/save", campaign(&w, name, &[], &[])).await.ok();
        w.advance(1).await;
    }
    let recent: Vec<String> =
        dashboard(&mut w, 0).await["recent_campaigns"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(recent, ["Fourth", "Third", "Second"]);

    // A time zone further than 14 hours from UTC is refused with a sentence.
    let refused = w.api.get("broadcasts/dashboard?utc_offset_minutes=900").await;
    assert_eq!(refused.error(), "InvalidTimeZone");
    w.standin.stop();
    w.server.stop().await;
}
