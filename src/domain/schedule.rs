//! When an event happens and when an entry is published: the occurrences of
//! a (recurring) event in its venue's zone, the publication window that
//! follows the entry's kind, and the refusal of what is already over.

use chrono_tz::Tz;

use super::entry::EntryFields;
use super::recurrence::{LOCAL_FORMAT, local_name, parse_local, rule_starts};
use super::validate::Refusal;
use super::{Attendance, EntryKind, EventStatus, Phase};

/// The settings the window rules depend on, and the instant they judge at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    pub now: i64,
    /// Length of an event or meetup without an end.
    pub event_default_secs: i64,
    /// How long an announcement without an end is published.
    pub announcement_secs: i64,
}

/// One time an event takes place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub starts_at: i64,
    pub ends_at: i64,
    /// The local start the rule gave it (`YYYY-MM-DDTHH:MM`), which names
    /// it in `exdates` and `moved_occurrences` (iCalendar's RECURRENCE-ID).
    pub original: String,
    /// Whether it was moved away from `original`.
    pub moved: bool,
}

/// The venue's zone of an event or meetup.
pub fn zone_of(fields: &EntryFields) -> Option<Tz> {
    fields.timezone.as_deref()?.parse().ok()
}

/// How long each occurrence lasts.
pub fn length(fields: &EntryFields, default_secs: i64) -> i64 {
    match (fields.starts_at, fields.ends_at) {
        (Some(starts), Some(ends)) => ends - starts,
        _ => default_secs,
    }
}

/// The status of an event or meetup (confirmed unless said otherwise).
pub fn event_status(fields: &EntryFields) -> EventStatus {
    fields
        .event_status
        .as_deref()
        .and_then(EventStatus::parse)
        .unwrap_or(EventStatus::Confirmed)
}

/// How people attend: as given, or what the place and link imply.
pub fn attendance(fields: &EntryFields) -> Attendance {
    if let Some(given) = fields.attendance.as_deref().and_then(Attendance::parse) {
        return given;
    }
    match (fields.online_url.is_some(), fields.location_name.is_some()) {
        (true, true) => Attendance::Hybrid,
        (true, false) => Attendance::Online,
        (false, _) => Attendance::InPerson,
    }
}

/// Every occurrence of an event or meetup in start order, cancelled ones
/// left out and moved ones at their new time; one for a single event, none
/// for other kinds.
pub fn occurrences(fields: &EntryFields, default_secs: i64) -> Vec<Occurrence> {
    let Some(starts_at) = fields.starts_at else {
        return Vec::new();
    };
    // Validated on the way in; should a stored zone not parse, UTC keeps the dates.
    let zone = zone_of(fields).unwrap_or(Tz::UTC);
    let length = length(fields, default_secs);
    let single = || {
        vec![Occurrence {
            starts_at,
            ends_at: starts_at + length,
            original: local_name(starts_at, zone),
            moved: false,
        }]
    };
    let Some(rule) = &fields.recurrence else {
        return single();
    };
    let Ok(starts) = rule_starts(rule, starts_at, zone) else {
        // Validated on the way in; a rule that no longer expands is one event.
        return single();
    };
    let mut occurrences: Vec<Occurrence> = starts
        .into_iter()
        .filter_map(|at| {
            let original = at.format(LOCAL_FORMAT).to_string();
            if fields.exdates.contains(&original) {
                return None;
            }
            let moved_to = fields
                .moved_occurrences
                .get(&original)
                .and_then(|to| parse_local(to, zone));
            let starts_at = moved_to.unwrap_or(at.timestamp());
            Some(Occurrence {
                starts_at,
                ends_at: starts_at + length,
                original,
                moved: moved_to.is_some(),
            })
        })
        .collect();
    occurrences.sort_by_key(|occurrence| occurrence.starts_at);
    occurrences
}

/// The first occurrence that has not ended at `now`.
pub fn next_occurrence(occurrences: &[Occurrence], now: i64) -> Option<&Occurrence> {
    occurrences
        .iter()
        .find(|occurrence| occurrence.ends_at > now)
}

/// When the event is over: the end of its last occurrence.
pub fn event_end(fields: &EntryFields, default_secs: i64) -> Option<i64> {
    occurrences(fields, default_secs)
        .iter()
        .map(|occurrence| occurrence.ends_at)
        .max()
}

/// Until when an entry published from `from` stays in the feeds: the
/// editor's end if given (never past the event's end or the campaign's
/// deadline), else the end of the event, the deadline of the campaign, or
/// the announcement period after `from`.
pub fn publish_until(
    kind: EntryKind,
    fields: &EntryFields,
    from: i64,
    timing: &Timing,
) -> Option<i64> {
    let natural = match kind {
        EntryKind::Event | EntryKind::Meetup => event_end(fields, timing.event_default_secs),
        EntryKind::Crowdfunding => fields.deadline,
        EntryKind::Announcement => Some(from.saturating_add(timing.announcement_secs)),
    };
    match (fields.publish_to, natural) {
        (Some(chosen), Some(end)) if kind != EntryKind::Announcement => Some(chosen.min(end)),
        (Some(chosen), _) => Some(chosen),
        (None, natural) => natural,
    }
}

/// Refuses to submit or approve what is already over: an event or meetup
/// that has ended (one that is running may go out) or a campaign whose
/// deadline has passed.
pub fn check_not_over(
    kind: EntryKind,
    fields: &EntryFields,
    timing: &Timing,
) -> Result<(), Refusal> {
    let over = |end: i64| end <= timing.now;
    match kind {
        EntryKind::Event | EntryKind::Meetup => {
            match event_end(fields, timing.event_default_secs) {
                Some(end) if over(end) => {
                    let field = if fields.recurrence.is_some() {
                        "recurrence"
                    } else if fields.ends_at.is_some() {
                        "ends_at"
                    } else {
                        "starts_at"
                    };
                    Err(Refusal::field(
                        field,
                        "the event is over: past events are not published",
                    ))
                }
                _ => Ok(()),
            }
        }
        EntryKind::Crowdfunding => match fields.deadline {
            Some(deadline) if over(deadline) => Err(Refusal::field(
                "deadline",
                "has passed: a campaign that is over is not published",
            )),
            _ => Ok(()),
        },
        EntryKind::Announcement => Ok(()),
    }
}

/// Where a published window `[from, until)` stands at `now`.
pub fn phase(from: Option<i64>, until: Option<i64>, now: i64) -> Phase {
    if from.is_some_and(|from| now < from) {
        Phase::Upcoming
    } else if until.is_some_and(|until| now >= until) {
        Phase::Ended
    } else {
        Phase::Live
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::domain::entry::check_series;
    use crate::domain::recurrence::{describe_rule, when};
    use crate::domain::validate::Checker;

    fn at(zone: Tz, local: &str) -> i64 {
        parse_local(local, zone).unwrap()
    }

    fn meetup(zone: &str, first: &str, rule: &str) -> EntryFields {
        let tz: Tz = zone.parse().unwrap();
        let starts = at(tz, first);
        EntryFields {
            starts_at: Some(starts),
            ends_at: Some(starts + 2 * 3600),
            timezone: Some(zone.into()),
            recurrence: Some(rule.into()),
            ..EntryFields::default()
        }
    }

    fn checked(fields: &mut EntryFields) -> Vec<String> {
        let mut check = Checker::new();
        check_series(&mut check, fields);
        crate::domain::validate::failed_fields(check.finish())
    }

    fn locals(fields: &EntryFields) -> Vec<String> {
        let zone = zone_of(fields).unwrap();
        occurrences(fields, 3600)
            .iter()
            .map(|o| local_name(o.starts_at, zone))
            .collect()
    }

    #[test]
    fn wall_clock_time_holds_across_daylight_saving_changes() {
        for (zone, first, rule) in [
            // Zurich: CET to CEST on 28 March 2027.
            (
                "Europe/Zurich",
                "2027-03-04T18:30",
                "FREQ=WEEKLY;BYDAY=TH;COUNT=6",
            ),
            // Sao Paulo has no DST since 2019; Sydney leaves DST on 4 April 2027.
            (
                "America/Sao_Paulo",
                "2027-03-04T18:30",
                "FREQ=WEEKLY;BYDAY=TH;COUNT=6",
            ),
            (
                "Australia/Sydney",
                "2027-03-18T18:30",
                "FREQ=WEEKLY;BYDAY=TH;COUNT=6",
            ),
        ] {
            let mut fields = meetup(zone, first, rule);
            assert!(checked(&mut fields).is_empty(), "{zone}");
            let starts = locals(&fields);
            assert_eq!(starts.len(), 6, "{zone}");
            assert!(
                starts.iter().all(|s| s.ends_with("T18:30")),
                "{zone}: {starts:?}"
            );
            let instants: Vec<i64> = occurrences(&fields, 3600)
                .iter()
                .map(|o| o.starts_at)
                .collect();
            let gaps: BTreeSet<i64> = instants.windows(2).map(|w| w[1] - w[0]).collect();
            if zone == "America/Sao_Paulo" {
                assert_eq!(gaps.len(), 1, "no DST change in Sao Paulo");
            } else {
                assert_eq!(
                    gaps.len(),
                    2,
                    "{zone}: one week is an hour shorter or longer"
                );
            }
        }
    }

    #[test]
    fn third_thursday_with_one_cancelled_and_one_moved() {
        let mut fields = meetup(
            "Europe/Zurich",
            "2027-01-21T18:30",
            "freq=monthly;byday=3th;count=4",
        );
        fields.exdates = vec!["2027-02-18T18:30".into()];
        fields
            .moved_occurrences
            .insert("2027-03-18T18:30".into(), "2027-03-25T19:00".into());
        assert!(checked(&mut fields).is_empty());
        assert_eq!(
            fields.recurrence.as_deref(),
            Some("FREQ=MONTHLY;BYDAY=3TH;COUNT=4")
        );
        assert_eq!(
            locals(&fields),
            ["2027-01-21T18:30", "2027-03-25T19:00", "2027-04-15T18:30"]
        );
        let list = occurrences(&fields, 3600);
        assert!(list[1].moved && list[1].original == "2027-03-18T18:30");
        assert_eq!(
            next_occurrence(&list, list[0].ends_at).unwrap().original,
            "2027-03-18T18:30"
        );
        assert_eq!(event_end(&fields, 3600), Some(list[2].ends_at));
    }

    #[test]
    fn until_is_taken_in_the_venue_zone_and_written_in_utc() {
        let mut fields = meetup(
            "Europe/Berlin",
            "2027-01-05T19:00",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;UNTIL=20270302",
        );
        assert!(checked(&mut fields).is_empty());
        assert_eq!(
            fields.recurrence.as_deref(),
            Some("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;UNTIL=20270302T225959Z")
        );
        assert_eq!(locals(&fields).last().unwrap(), "2027-03-02T19:00");
        assert_eq!(locals(&fields).len(), 5);
    }

    #[test]
    fn unbounded_unsupported_and_oversized_rules_are_refused() {
        for rule in [
            "FREQ=MONTHLY;BYDAY=3TH",
            "FREQ=DAILY;COUNT=3",
            "FREQ=WEEKLY;BYHOUR=3;COUNT=3",
            "FREQ=WEEKLY;COUNT=501",
            "FREQ=WEEKLY;UNTIL=20310101",
            "FREQ=WEEKLY;COUNT=3;UNTIL=20280101",
            "FREQ=WEEKLY;BYDAY=3TH;COUNT=3",
            "FREQ=MONTHLY;BYDAY=1FX;COUNT=3",
            "nonsense",
        ] {
            let mut fields = meetup("Europe/Zurich", "2027-01-21T18:30", rule);
            assert_eq!(checked(&mut fields), ["recurrence"], "{rule}");
        }
    }

    #[test]
    fn the_first_occurrence_must_be_the_start() {
        // 2027-01-20 is a Wednesday, not a 3rd Thursday.
        let mut fields = meetup(
            "Europe/Zurich",
            "2027-01-20T18:30",
            "FREQ=MONTHLY;BYDAY=3TH;COUNT=3",
        );
        assert_eq!(checked(&mut fields), ["recurrence"]);
    }

    #[test]
    fn exdates_and_moves_must_name_occurrences() {
        let mut fields = meetup(
            "Europe/Zurich",
            "2027-01-21T18:30",
            "FREQ=MONTHLY;BYDAY=3TH;COUNT=3",
        );
        fields.exdates = vec!["2027-02-19T18:30".into()];
        fields
            .moved_occurrences
            .insert("2027-02-18T18:30".into(), "2027-03-28T02:30".into());
        // The first is no occurrence; the second moves into the hour clocks skip.
        assert_eq!(checked(&mut fields), ["exdates", "moved_occurrences"]);
        let mut single = EntryFields {
            exdates: vec!["2027-02-18T18:30".into()],
            ..EntryFields::default()
        };
        assert_eq!(checked(&mut single), ["exdates"]);
    }

    fn timing(now: i64) -> Timing {
        Timing {
            now,
            event_default_secs: 7200,
            announcement_secs: 10 * 86_400,
        }
    }

    #[test]
    fn the_window_follows_the_kind() {
        let mut event = meetup("Europe/Zurich", "2027-06-10T15:00", "FREQ=WEEKLY;COUNT=1");
        event.recurrence = None;
        let end = event.ends_at.unwrap();
        let now = end - 200 * 86_400;
        assert_eq!(
            publish_until(EntryKind::Event, &event, now, &timing(now)),
            Some(end)
        );
        event.publish_to = Some(end + 86_400);
        assert_eq!(
            publish_until(EntryKind::Event, &event, now, &timing(now)),
            Some(end)
        );
        event.publish_to = Some(end - 86_400);
        assert_eq!(
            publish_until(EntryKind::Event, &event, now, &timing(now)),
            Some(end - 86_400)
        );
        event.ends_at = None;
        event.publish_to = None;
        assert_eq!(
            publish_until(EntryKind::Meetup, &event, now, &timing(now)),
            Some(event.starts_at.unwrap() + 7200)
        );
        let news = EntryFields::default();
        assert_eq!(
            publish_until(EntryKind::Announcement, &news, 1000, &timing(1000)),
            Some(1000 + 864_000)
        );
        let campaign = EntryFields {
            deadline: Some(5000),
            ..EntryFields::default()
        };
        assert_eq!(
            publish_until(EntryKind::Crowdfunding, &campaign, 0, &timing(0)),
            Some(5000)
        );
    }

    #[test]
    fn what_is_over_is_refused_and_what_runs_is_not() {
        let mut event = meetup("Europe/Zurich", "2024-06-10T15:00", "FREQ=WEEKLY;COUNT=1");
        event.recurrence = None;
        let starts = event.starts_at.unwrap();
        assert_eq!(
            check_not_over(EntryKind::Event, &event, &timing(starts + 3 * 3600)),
            Err(Refusal::field(
                "ends_at",
                "the event is over: past events are not published"
            ))
        );
        assert_eq!(
            check_not_over(EntryKind::Event, &event, &timing(starts + 3600)),
            Ok(())
        );
        let campaign = EntryFields {
            deadline: Some(5000),
            ..EntryFields::default()
        };
        assert!(check_not_over(EntryKind::Crowdfunding, &campaign, &timing(5000)).is_err());
        assert_eq!(
            check_not_over(EntryKind::Crowdfunding, &campaign, &timing(4999)),
            Ok(())
        );
    }

    #[test]
    fn rules_and_times_read_as_words() {
        assert_eq!(
            describe_rule("FREQ=MONTHLY;BYDAY=3TH;COUNT=12"),
            "every month on the 3rd Thursday, 12 times"
        );
        assert_eq!(
            describe_rule("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;UNTIL=20270302T225959Z"),
            "every other week on Tuesday, until 2 March 2027"
        );
        assert_eq!(
            describe_rule("FREQ=MONTHLY;BYDAY=-1FR;COUNT=3"),
            "every month on the last Friday, 3 times"
        );
        let zone: Tz = "Europe/Berlin".parse().unwrap();
        let starts = at(zone, "2027-06-10T15:00");
        assert_eq!(
            when(starts, starts + 7200, zone),
            "Thu 10 June 2027, 15:00–17:00 CEST"
        );
        assert_eq!(
            when(starts, starts + 86_400, zone),
            "Thu 10 June 2027, 15:00 CEST – Fri 11 June 2027, 15:00 CEST"
        );
    }

    #[test]
    fn attendance_defaults_from_place_and_link() {
        let mut fields = EntryFields {
            online_url: Some("https://meet.example.org".into()),
            ..EntryFields::default()
        };
        assert_eq!(attendance(&fields), Attendance::Online);
        fields.location_name = Some("Bonn".into());
        assert_eq!(attendance(&fields), Attendance::Hybrid);
        fields.online_url = None;
        assert_eq!(attendance(&fields), Attendance::InPerson);
        assert_eq!(event_status(&fields), EventStatus::Confirmed);
    }
}
