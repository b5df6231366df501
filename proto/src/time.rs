//! The one conversion between `google.protobuf.Timestamp` and `chrono`, both ways, for every service and the
//! gateway.

use chrono::{DateTime, Utc};
use prost_types::Timestamp;

/// A UTC instant as a protobuf timestamp, nanoseconds kept.
pub fn timestamp(at: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: at.timestamp(),
        // Below 1e9, so it always fits; a leap second's extra nanoseconds are dropped rather than wrapped.
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(999_999_999),
    }
}

/// A protobuf timestamp as a UTC instant; `None` when its nanoseconds are negative or it is out of chrono's range.
pub fn from_timestamp(timestamp: &Timestamp) -> Option<DateTime<Utc>> {
    let nanos = u32::try_from(timestamp.nanos).ok()?;
    DateTime::from_timestamp(timestamp.seconds, nanos)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn negative_nanoseconds_or_an_out_of_range_second_are_refused() {
        assert_eq!(
            from_timestamp(&Timestamp {
                seconds: 0,
                nanos: -1
            }),
            None
        );
        assert_eq!(
            from_timestamp(&Timestamp {
                seconds: i64::MAX,
                nanos: 0
            }),
            None
        );
    }

    proptest! {
        #[test]
        fn an_instant_survives_the_round_trip(
            seconds in -62_135_596_800i64..253_402_300_799,
            nanos in 0u32..1_000_000_000,
        ) {
            let at = DateTime::from_timestamp(seconds, nanos).unwrap();
            prop_assert_eq!(from_timestamp(&timestamp(at)), Some(at));
        }
    }
}
