//! Serde adapters for the human-friendly value formats.
//!
//! Durations use humantime (`"250ms"`, `"10s"`, `"1h"`) and sizes bytesize (`"8MiB"`).
//! We don't use `humantime_serde` or bytesize's own serde impls: the first drops the
//! parser's explanation from its error and the second serializes lossily (`"1.2 MiB"`),
//! while the serialized defaults must read back exactly and errors must say what's wrong.

use std::fmt;

use bytesize::ByteSize;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serializer};

const DURATION_EXPECTED: &str = "a duration such as \"250ms\", \"10s\" or \"5min\"";
const SIZE_EXPECTED: &str = "a size such as \"8MiB\" or a number of bytes";

fn parse_duration<E: de::Error>(v: &str) -> Result<std::time::Duration, E> {
    humantime::parse_duration(v.trim()).map_err(|e| {
        E::custom(format!(
            "invalid duration {v:?} ({e}); expected {DURATION_EXPECTED}"
        ))
    })
}

fn parse_size<E: de::Error>(v: &str) -> Result<ByteSize, E> {
    v.trim().parse::<ByteSize>().map_err(|e| {
        E::custom(format!(
            "invalid size {v:?} ({e}); expected {SIZE_EXPECTED}"
        ))
    })
}

/// Formats a size exactly, in the largest binary unit that divides it (`"64MiB"`, `"1536B"`).
pub(crate) fn format_size(size: ByteSize) -> String {
    const UNITS: [(u64, &str); 4] = [
        (bytesize::TIB, "TiB"),
        (bytesize::GIB, "GiB"),
        (bytesize::MIB, "MiB"),
        (bytesize::KIB, "KiB"),
    ];
    let bytes = size.as_u64();
    for (unit, name) in UNITS {
        if bytes >= unit && bytes.is_multiple_of(unit) {
            return format!("{}{name}", bytes / unit);
        }
    }
    format!("{bytes}B")
}

/// `Duration` as a humantime string.
pub(crate) mod duration {
    use std::time::Duration;

    use super::*;

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(DURATION_EXPECTED)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                parse_duration(v)
            }
        }
        d.deserialize_str(V)
    }
}

/// `Option<Duration>` as an optional humantime string.
pub(crate) mod opt_duration {
    use std::time::Duration;

    use super::*;

    pub(crate) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::duration::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(with = "super::duration")] Duration);
        Ok(Option::<Wrap>::deserialize(d)?.map(|Wrap(d)| d))
    }
}

/// `ByteSize` as an exact size string, read from a string or a number of bytes.
pub(crate) mod size {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &ByteSize, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_size(*v))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ByteSize, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(SIZE_EXPECTED)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ByteSize, E> {
                u64::try_from(v)
                    .map(ByteSize)
                    .map_err(|_| E::custom(format!("invalid size {v}: must not be negative")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteSize, E> {
                parse_size(v)
            }
        }
        d.deserialize_any(V)
    }
}

/// `Option<ByteSize>`, see [`size`].
pub(crate) mod opt_size {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &Option<ByteSize>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => super::size::serialize(v, s),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<ByteSize>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(with = "super::size")] ByteSize);
        Ok(Option::<Wrap>::deserialize(d)?.map(|Wrap(v)| v))
    }
}

/// Strings that may also be written as numbers or booleans: environment variables and
/// TOML values like `aws_allow_http = true` or `agent_id = 7` arrive typed.
pub(crate) mod lenient {
    use std::collections::BTreeMap;

    use super::*;

    struct LenientString(String);

    impl<'de> Deserialize<'de> for LenientString {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = LenientString;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a string")
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<LenientString, E> {
                    Ok(LenientString(v.to_owned()))
                }
                fn visit_bool<E: de::Error>(self, v: bool) -> Result<LenientString, E> {
                    Ok(LenientString(v.to_string()))
                }
                fn visit_i64<E: de::Error>(self, v: i64) -> Result<LenientString, E> {
                    Ok(LenientString(v.to_string()))
                }
                fn visit_u64<E: de::Error>(self, v: u64) -> Result<LenientString, E> {
                    Ok(LenientString(v.to_string()))
                }
                fn visit_f64<E: de::Error>(self, v: f64) -> Result<LenientString, E> {
                    Ok(LenientString(v.to_string()))
                }
                fn visit_char<E: de::Error>(self, v: char) -> Result<LenientString, E> {
                    Ok(LenientString(v.to_string()))
                }
            }
            d.deserialize_any(V)
        }
    }

    pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(Option::<LenientString>::deserialize(d)?.map(|s| s.0))
    }

    pub(crate) fn string_map<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, String>, D::Error> {
        Ok(BTreeMap::<String, LenientString>::deserialize(d)?
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_format_exactly() {
        assert_eq!(format_size(ByteSize::mib(64)), "64MiB");
        assert_eq!(format_size(ByteSize::kib(1536)), "1536KiB");
        assert_eq!(format_size(ByteSize(1000)), "1000B");
        assert_eq!(format_size(ByteSize(0)), "0B");
        assert_eq!(format_size(ByteSize::gib(2)), "2GiB");
        for s in ["64MiB", "1536KiB", "1000B", "0B", "2GiB"] {
            let parsed: ByteSize = s.parse().expect("formatted sizes parse");
            assert_eq!(format_size(parsed), s);
        }
    }
}
