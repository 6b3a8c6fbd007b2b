//! JSON has no infinity: an unbounded interval end is written as `null` and read back as −∞
//! (lower end) or +∞ (upper end).

macro_rules! bound {
    ($name:ident, $inf:expr) => {
        pub(crate) mod $name {
            use serde::{Deserialize, Deserializer, Serializer};

            pub(crate) fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
                if v.is_finite() {
                    s.serialize_some(v)
                } else {
                    s.serialize_none()
                }
            }

            pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
                Ok(Option::<f64>::deserialize(d)?.unwrap_or($inf))
            }
        }
    };
}

bound!(lower, f64::NEG_INFINITY);
bound!(upper, f64::INFINITY);
