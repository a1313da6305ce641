//! How long a campaign still needs, from the rate it is actually sending at
//! (a campaign set to 300/s may reach far fewer: Meta's limits, a slow Page).

/// Seconds of sending looked back over to measure the rate.
pub const RATE_WINDOW_SECS: i64 = 10;

/// The shortest stretch of sending worth measuring a rate over, and the
/// fewest sends: times are whole seconds, so one or two sends say little.
const MIN_MEASURED_SECS: i64 = 2;
const MIN_MEASURED_SENDS: i64 = 3;

/// Seconds left for `remaining` messages: at the rate of the `recent` sends
/// made over `measured_secs`, or at the configured rate until there is
/// something to measure.
pub fn eta_secs(remaining: i64, recent: i64, measured_secs: i64, configured_rate: i64) -> i64 {
    if remaining <= 0 {
        return 0;
    }
    if measured_secs >= MIN_MEASURED_SECS && recent >= MIN_MEASURED_SENDS {
        return div_ceil(remaining * measured_secs, recent);
    }
    div_ceil(remaining, configured_rate.max(1))
}

fn div_ceil(a: i64, b: i64) -> i64 {
    (a + b - 1) / b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eta_follows_the_measured_rate_not_the_configured_one() {
        // Set to 300/s, but 20 sends in the last 10 s: 2/s, so 40 left take 20 s.
        assert_eq!(eta_secs(40, 20, 10, 300), 20);
        // Faster than configured is measured too.
        assert_eq!(eta_secs(100, 100, 10, 1), 10);
        // Rounded up: 3 left at 2/s is 2 s, never "0 s left" while some remain.
        assert_eq!(eta_secs(3, 20, 10, 300), 2);
        assert_eq!(eta_secs(1, 1000, 10, 300), 1);
    }

    #[test]
    fn before_anything_can_be_measured_the_configured_rate_is_used() {
        assert_eq!(eta_secs(600, 0, 10, 300), 2);
        // Under two seconds of sending is too short to measure.
        assert_eq!(eta_secs(600, 5, 1, 300), 2);
        assert_eq!(eta_secs(600, 10, 2, 300), 120);
        // A rate of zero cannot divide.
        assert_eq!(eta_secs(5, 0, 0, 0), 5);
        // Two sends over two seconds could be 1/s or 2/s: too few to tell.
        assert_eq!(eta_secs(7, 2, 2, 1), 7);
        assert_eq!(eta_secs(6, 3, 3, 300), 6);
    }

    #[test]
    fn nothing_left_means_no_time_left() {
        assert_eq!(eta_secs(0, 0, 0, 1), 0);
        assert_eq!(eta_secs(-1, 10, 10, 1), 0);
    }
}
