//! The plain repeat choices of the entry form ("every 2 weeks", "monthly
//! on the 3rd Thursday", "ends after 10 times") as the RRULE the domain
//! checks. Weekday and day come from the start, which the rule must give
//! as its first occurrence.

use chrono::{DateTime, Datelike, Weekday};
use chrono_tz::Tz;

use super::display::Choice;
use super::forms::Form;

/// The choices of the `repeat` select.
pub fn choices() -> Vec<Choice> {
    vec![
        Choice::new("", "Does not repeat"),
        Choice::new(
            "weekly",
            "Every week (or every N weeks) on the start's weekday",
        ),
        Choice::new(
            "monthly_weekday",
            "Monthly on the same weekday (e.g. the 3rd Thursday)",
        ),
        Choice::new("monthly_day", "Monthly on the same day of the month"),
        Choice::new("yearly", "Every year on the same date"),
        Choice::new("rule", "Advanced: the RRULE below"),
    ]
}

fn weekday_code(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

/// The rule the form asks for: `None` for no repetition, the advanced
/// text as typed for `rule`, else one built from the choices and the start
/// (`starts_at` in `zone`). A series without an end is left so, for the
/// domain to refuse with its message.
pub fn rule(form: &Form, starts_at: Option<i64>, zone: Tz) -> Option<String> {
    let start = starts_at
        .and_then(|at| DateTime::from_timestamp(at, 0))
        .map(|at| at.with_timezone(&zone));
    let mut parts = match form.text("repeat") {
        "rule" => return form.optional("recurrence").map(str::to_string),
        "weekly" => vec!["FREQ=WEEKLY".to_string()],
        "monthly_weekday" | "monthly_day" => vec!["FREQ=MONTHLY".to_string()],
        "yearly" => vec!["FREQ=YEARLY".to_string()],
        _ => return None,
    };
    if let Some(interval) = form.optional("repeat_interval").filter(|n| *n != "1") {
        parts.push(format!("INTERVAL={interval}"));
    }
    if let Some(start) = start {
        match form.text("repeat") {
            "weekly" => parts.push(format!("BYDAY={}", weekday_code(start.weekday()))),
            "monthly_weekday" => {
                // The 5th of a weekday is the last one (not every month has a 5th).
                let nth = match (start.day() - 1) / 7 + 1 {
                    5 => -1,
                    nth => i64::from(nth),
                };
                parts.push(format!("BYDAY={nth}{}", weekday_code(start.weekday())));
            }
            "monthly_day" => parts.push(format!("BYMONTHDAY={}", start.day())),
            _ => {}
        }
    }
    if let Some(count) = form.optional("repeat_count") {
        parts.push(format!("COUNT={count}"));
    } else if let Some(until) = form.optional("repeat_until") {
        parts.push(format!("UNTIL={}", until.replace('-', "")));
    }
    Some(parts.join(";"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Form {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        Form::parse(body.as_bytes())
    }

    #[test]
    fn choices_become_rules_from_the_start() {
        let zone: Tz = "Europe/Zurich".parse().unwrap();
        // Thursday 21 January 2027, 18:30 in Zurich: the 3rd Thursday.
        let start = crate::domain::recurrence::parse_local("2027-01-21T18:30", zone);
        let rule_of = |pairs: &[(&str, &str)]| rule(&form(pairs), start, zone);
        assert_eq!(
            rule_of(&[("repeat", "monthly_weekday"), ("repeat_count", "12")]).as_deref(),
            Some("FREQ=MONTHLY;BYDAY=3TH;COUNT=12")
        );
        assert_eq!(
            rule_of(&[
                ("repeat", "weekly"),
                ("repeat_interval", "2"),
                ("repeat_until", "2027-06-30")
            ])
            .as_deref(),
            Some("FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;UNTIL=20270630")
        );
        assert_eq!(
            rule_of(&[("repeat", "monthly_day"), ("repeat_count", "3")]).as_deref(),
            Some("FREQ=MONTHLY;BYMONTHDAY=21;COUNT=3")
        );
        assert_eq!(
            rule_of(&[("repeat", ""), ("recurrence", "FREQ=YEARLY;COUNT=2")]),
            None
        );
        assert_eq!(
            rule_of(&[("repeat", "rule"), ("recurrence", "FREQ=YEARLY;COUNT=2")]).as_deref(),
            Some("FREQ=YEARLY;COUNT=2")
        );
        let last = crate::domain::recurrence::parse_local("2027-01-29T18:30", zone);
        assert_eq!(
            rule(
                &form(&[("repeat", "monthly_weekday"), ("repeat_count", "2")]),
                last,
                zone
            )
            .as_deref(),
            Some("FREQ=MONTHLY;BYDAY=-1FR;COUNT=2")
        );
    }
}
